#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Inside the VM: trinity (Debian's syscall fuzzer) as uid 1000
# (spuser) against the mm syscalls and /dev/samepage, while samepage scans at
# full speed (run=1, pages_to_scan 5000, sleep_millisecs 0) and follows
# madvise (follow_madvise=1). trinity runs under "samepagectl run", so every
# process it forks is tracked whole and the scanner walks memory that
# trinity maps, remaps, protects, locks and unmaps under it; its own
# MADV_MERGEABLE calls go through follow_madvise as well.
#
# Bounded: -N $OPS syscalls and an outer timeout of $LIMIT s; no network
# (no socket fds, no socket syscalls, and the VM has no NIC); a scratch
# directory on tmpfs. The kernel log is checked by vm-run (klog-check).
# trinity comes from the Debian package (scripts/install-deps); vm-run puts
# it and its glibc in /opt/trinity.
OPS=4000 LIMIT=150 CHILDREN=4 SEED=11
T=/opt/trinity
LD=$(ls $T/lib/ld-linux-*.so.* 2>/dev/null | head -n1)	# x86-64 or aarch64
TRINITY="$LD --library-path $T/lib $T/trinity"
S=/sys/kernel/mm/samepage
# fork/clone/brk are AVOID in trinity (it refuses them with -c); it forks
# and reaps its own children all the time, which covers fork and exit.
SYSCALLS="mmap munmap mremap mprotect madvise mlock mlock2 munlock mlockall munlockall
	  mincore msync remap_file_pages process_madvise prctl userfaultfd ioctl"
n=0 failed=0
point() {	# point 0|1 DESC: one TAP line
	n=$((n + 1))
	if [ "$1" = 0 ]; then echo "ok $n - $2"
	else echo "not ok $n - $2"; failed=$((failed + 1)); fi
}
echo "TAP version 13"
echo "1..7"

[ -x $T/trinity ] && $TRINITY --help >/dev/null 2>&1
point $? "trinity is in the VM and runs (scripts/install-deps installs it)"

old_run=$(cat $S/run) old_pts=$(cat $S/pages_to_scan) old_sleep=$(cat $S/sleep_millisecs)
old_follow=$(cat $S/follow_madvise)
fs0=$(cat $S/full_scans)
echo 5000 >$S/pages_to_scan && echo 0 >$S/sleep_millisecs &&
	echo 1 >$S/follow_madvise && echo 1 >$S/run
point $? "samepage at full speed: run=1, pages_to_scan=5000, sleep_millisecs=0, follow_madvise=1"

dir=/tmp/trinity
rm -rf $dir && mkdir -p $dir && chown 1000:1000 $dir
args="-q -l off -C $CHILDREN -N $OPS -s $SEED -V /dev/samepage --enable-fds=pseudo,testfile,memfd --stats"
for s in $SYSCALLS; do args="$args -c $s"; done
t0=$(date +%s)
(cd $dir && su spuser -c "timeout -s KILL $LIMIT samepagectl run -- $TRINITY $args") \
	>/tmp/trinity.out 2>&1 &
tpid=$!
peak_shared=0 peak_tracked=0
while kill -0 $tpid 2>/dev/null; do
	sh=$(cat $S/pages_shared)
	tr=$(samepagectl list 2>/dev/null | tail -n +2 | wc -l)
	[ "$sh" -gt "$peak_shared" ] && peak_shared=$sh
	[ "$tr" -gt "$peak_tracked" ] && peak_tracked=$tr
	sleep 2
done
wait $tpid
trc=$?
secs=$(($(date +%s) - t0))
fs1=$(cat $S/full_scans)
ran=$(sed -n 's/^.*Ran \([0-9]*\) syscalls.*$/\1/p' /tmp/trinity.out | tail -n 1)
echo "# trinity: $(grep 'Ran [0-9]* syscalls' /tmp/trinity.out | sed 's/^\[main\] //')"
echo "# trinity: ${ran:-?} syscalls (of $OPS asked) in $secs s, $CHILDREN children, seed $SEED, exit $trc"
echo "# samepage meanwhile: $((fs1 - fs0)) full scans, up to $peak_tracked processes tracked, up to $peak_shared pages shared"
awk '/^(32|64)bit:$/ { arch = $1 } /^(madvise|ioctl|mremap|mlock|munmap): \(attempted/ {
	sub(/\(attempted:/, "attempted "); print "# trinity " arch " " $0 }' /tmp/trinity.out
[ "$trc" = 0 ] && [ -n "$ran" ] && [ "$ran" -ge $OPS ]
point $? "trinity as uid 1000 ran its $OPS syscalls within $LIMIT s and exited 0"
[ $trc = 0 ] || tail -n 20 /tmp/trinity.out | sed 's/^/# /'

[ "$peak_tracked" -gt 0 ] && [ "$fs1" -gt "$fs0" ]
point $? "samepage tracked trinity's processes ($peak_tracked at most) and finished full scans ($((fs1 - fs0)))"

# trinity's last children may still be exiting: give them 10 s
for i in $(seq 50); do
	left=$(stat -c %u /proc/[0-9]* 2>/dev/null | grep -c '^1000$')
	[ "$left" = 0 ] && break
	sleep 0.2
done
for d in /proc/[0-9]*; do
	[ "$(stat -c %u "$d" 2>/dev/null)" = 1000 ] &&
		echo "# left: pid ${d#/proc/} $(cat "$d/comm" 2>/dev/null) ($(cut -d' ' -f3 "$d/stat" 2>/dev/null))"
done
[ "$left" = 0 ]
point $? "no process of uid 1000 is left ($left)"

echo 2 >$S/run
kp=$(cat $S/kernel_pages_allocated) zp=$(cat $S/ksm_zero_pages)
[ "$kp" = 0 ] && [ "$zp" = 0 ]
point $? "afterwards run=2 leaves no kpage ($kp) and no zero page ($zp)"

echo "$old_pts" >$S/pages_to_scan && echo "$old_sleep" >$S/sleep_millisecs &&
	echo "$old_follow" >$S/follow_madvise && echo "${old_run%% *}" >$S/run &&
	samepagectl status >/dev/null
point $? "samepage still answers: knobs restored, samepagectl status exits 0"
rm -rf $dir
[ $failed = 0 ]
