#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Inside the VM: the soak. usage: soak.sh [SECONDS] (default SOAK_SECONDS,
# else 180; make soak DURATION=... runs it longer, through scripts/soak).
# It runs in rounds of at most SOAK_ROUND seconds (default 600). During a
# round, at once:
#  - Debian's stress-ng as uid 1000 under "samepagectl run" (every process
#    it forks is tracked whole): the vm (every method), mmap, mremap, fork,
#    madvise, brk, stack and malloc stressors, each with --verify;
#  - Debian's memtester, round after round, under "samepagectl run";
#  - stress-ng's vm stressor with --verify in a memory cgroup whose limit
#    is just above what it maps (kpage charges near the limit, OOM kills in
#    the cgroup are allowed and counted);
#  - samepage's own fuzz_concurrent, run after run (with SOAK_FAULTS,
#    ENOMEM is a right answer to any of its calls: FUZZ_ENOMEM_OK);
#  - a root loop that samples pages_sharing and changes the knobs every
#    second (pages_to_scan, sleep_millisecs, use_zero_pages,
#    max_page_sharing, smart_scan) and takes run through 0, 1 and 2;
# while samepage scans (run=1 between the loop's changes, follow_madvise=1).
# Between rounds, with the load gone, the kernel's own KSM selftests' merge
# cases run against samepage (ksm_tests -M, -U, -Z with and without zero
# pages, through samepage's directory bind-mounted over /sys/kernel/mm/ksm
# as in tests/peer/ksm_peer.sh) when /with holds ksm_tests (scripts/soak
# carries it); they count pages exactly, which no other load may disturb.
# SOAK_FAULTS=PCT (scripts/soak sets 1 on the sanitizer kernels): during
# the rounds PCT% of samepage's own allocations fail (tests/fault_inject
# --arm, its stack-trace filter), paused for the selftests.
# Must hold: stress-ng exits 0 in every round (no verify failure), every
# memtester round exits 0, the cgroup's stress-ng exits 0 or only lost
# workers to its cgroup's OOM killer, no fuzz_concurrent run has a "not
# ok", samepage merged pages of more than one process on the way, every
# selftest run passes (one that fails gets one more run, as in the peer
# suite: -U races with the pass in progress under both KSMs), allocations
# were failed when SOAK_FAULTS asks for it, and at the end run=2 leaves no
# kpage, zero page, process or slab object, and samepage unloads and loads
# again. The kernel log is vm-run's to check; scripts/soak adds the leak
# check (tests/vm/kmemleak.sh) after this on a kernel with kmemleak.
# stress-ng and memtester come from Debian (scripts/install-deps); vm-run
# carries them into /opt with their libraries.
D=${1:-${SOAK_SECONDS:-180}}
ROUND=${SOAK_ROUND:-600}
FAULTS=${SOAK_FAULTS:-0}
S=/sys/kernel/mm/samepage
K=/sys/kernel/mm/ksm
ld() { ls /opt/$1/lib/ld-linux-*.so.* 2>/dev/null | head -n1; }	# x86-64 or aarch64
SN="$(ld stress-ng) --library-path /opt/stress-ng/lib /opt/stress-ng/stress-ng"
MT="$(ld memtester) --library-path /opt/memtester/lib /opt/memtester/memtester"
CG=/sys/fs/cgroup
L=/tmp/soak
n=0 failed=0
point() {	# point 0|1 DESC
	n=$((n + 1))
	if [ "$1" = 0 ]; then echo "ok $n - $2"
	else echo "not ok $n - $2"; failed=$((failed + 1)); fi
}
skip() {	# skip DESC: not run here, and said so
	n=$((n + 1))
	echo "ok $n - # SKIP $1"
}
echo "TAP version 13"
rm -rf $L && mkdir -p $L && chown 1000:1000 $L

$SN --version >$L/version 2>&1 && [ -x /opt/memtester/memtester ]
point $? "stress-ng and memtester are in the VM ($(head -n 1 $L/version | cut -d' ' -f1-3))"

# the selftests' tunables are saved now and put back before each of their
# phases: the knob loop leaves anything behind
SAVED="pages_to_scan sleep_millisecs use_zero_pages smart_scan max_page_sharing merge_across_nodes"
for k in $SAVED; do echo "$k $(cat $S/$k)"; done >$L/knobs.default
echo 1000 >$S/pages_to_scan && echo 0 >$S/sleep_millisecs && echo 1 >$S/follow_madvise &&
	echo 1 >$S/run
point $? "samepage scans: run=1, pages_to_scan=1000, sleep_millisecs=0, follow_madvise=1"

[ -e $CG/cgroup.controllers ] || mount -t cgroup2 none $CG
echo +memory >$CG/cgroup.subtree_control 2>/dev/null
mkdir -p $CG/soak && echo $((72 << 20)) >$CG/soak/memory.max
echo 0 0 >$L/memtester.res; echo 0 0 >$L/fuzz.res

knob() {	# knob NAME VALUE
	{ echo "$2" >"$S/$1"; } 2>/dev/null || refused=$((refused + 1))
}
add() {		# add FILE A B: FILE's two numbers grow by A and B
	local a b
	read -r a b <"$1"
	echo $((a + $2)) $((b + $3)) >"$1"
}

# round SECONDS: every workload at once for SECONDS
i=0 changes=0 unmerges=0 refused=0 peak=0 peakp=0 sbad=0 cbad=0 ooms=0 rounds=0
round() {
	local d=$1 end spid mpid cpid fpid src crc o
	end=$(($(date +%s) + d))
	rounds=$((rounds + 1))

	# stress-ng as uid 1000, everything it forks tracked
	(cd $L && su spuser -c "samepagectl run -- $SN --timeout ${d}s --verify --metrics-brief \
		--vm 2 --vm-bytes 40M --vm-method all --mmap 1 --mmap-bytes 16M \
		--mremap 1 --mremap-bytes 16M --fork 1 --madvise 1 --brk 1 --stack 1 \
		--malloc 1 --malloc-bytes 16M") >$L/stress-ng.out 2>&1 &
	spid=$!

	# memtester, round after round
	(
		r=0 bad=0
		while [ "$(date +%s)" -lt "$end" ]; do
			samepagectl run -- $MT 8M 1 >$L/memtester.last 2>&1 || {
				bad=$((bad + 1)); cp $L/memtester.last $L/memtester.failed; }
			r=$((r + 1))
		done
		add $L/memtester.res $r $bad
	) &
	mpid=$!

	# a memory cgroup near its limit
	sh -c "echo \$\$ >$CG/soak/cgroup.procs && exec samepagectl run -- $SN --timeout ${d}s \
		--verify --vm 1 --vm-bytes 64M --vm-keep" >$L/memcg.out 2>&1 &
	cpid=$!

	# fuzz_concurrent, run after run: its own checks count; its two
	# global ones (no kpage or process left after its run=2, no hash
	# collision) cannot hold while the other workloads run, and its
	# throughput floor is not met on the sanitizer kernels under this
	# load, so those three are not judged here (60 s runs)
	(
		r=0 bad=0
		while [ "$(date +%s)" -lt "$end" ]; do
			FUZZ_ENOMEM_OK=$([ "$FAULTS" = 0 ] && echo 0 || echo 1) \
				/tests/fuzz_concurrent 60 >$L/fuzz.last 2>&1
			if grep -q '^Bail out' $L/fuzz.last ||
			   grep '^not ok' $L/fuzz.last |
			   grep -v -q -e 'afterwards run=2' -e 'hash_collisions' -e 'operations (want'; then
				bad=$((bad + 1)); cp $L/fuzz.last $L/fuzz.failed
			fi
			r=$((r + 1))
		done
		add $L/fuzz.res $r $bad
	) &
	fpid=$!

	# the knobs, every second (fuzz_concurrent sets its own too); a
	# write the knob refuses (EBUSY, EINVAL while fuzz_concurrent holds
	# another setting) is counted, not judged
	while [ "$(date +%s)" -lt "$end" ]; do
		i=$((i + 1))
		v=$(cat $S/pages_sharing); [ "$v" -gt "$peak" ] && peak=$v
		v=$(samepagectl list 2>/dev/null | tail -n +2 | wc -l); [ "$v" -gt "$peakp" ] && peakp=$v
		case $((i % 5)) in
		0) knob pages_to_scan $(( (i % 3) * 2000 + 100 )) ;;
		1) knob sleep_millisecs $(( (i % 3) * 10 )) ;;
		2) knob use_zero_pages $((i % 2)) ;;
		3) knob smart_scan $((i % 2)) ;;
		4) knob max_page_sharing $(( (i % 3) * 100 + 2 )) ;;
		esac
		changes=$((changes + 1))
		if [ $((i % 10)) = 0 ]; then
			{ echo 2 >$S/run; } 2>/dev/null && unmerges=$((unmerges + 1))
			knob run 1
		elif [ $((i % 7)) = 0 ]; then
			knob run 0; sleep 1; knob run 1
		fi
		sleep 1
	done

	wait $spid
	src=$?
	echo "# round $rounds: stress-ng exit $src"
	if [ $src != 0 ]; then
		sbad=$((sbad + 1))
		tail -n 20 $L/stress-ng.out | sed 's/^/# /'
	fi
	wait $mpid
	wait $cpid
	crc=$?
	o=$(awk '$1 == "oom_kill" { print $2 }' $CG/soak/memory.events)
	echo "# round $rounds: memory cgroup: stress-ng exit $crc, $((o - ooms)) OOM kills at memory.max 72 MiB"
	if [ $crc != 0 ] && { [ "$o" = "$ooms" ] || grep -qi 'verif' $L/memcg.out; }; then
		cbad=$((cbad + 1))
		tail -n 12 $L/memcg.out | sed 's/^/# /'
	fi
	ooms=$o
	wait $fpid
}

# the selftests: one run of each case against samepage, nothing else
# running; a failed run gets one more (with -d, its counters in the log)
st_runs=0 st_bad=0 st_again=0
selftests() {
	local args k v
	echo 2 >$K/run && echo 0 >$K/run || { st_bad=$((st_bad + 1)); return; }
	mount --bind $S $K || { st_bad=$((st_bad + 1)); return; }
	for args in "-M -p 10" "-U" "-Z -p 10 -z 0" "-Z -p 10 -z 1"; do
		echo 2 >$S/run
		while read -r k v; do echo "$v" >$S/$k; done <$L/knobs.default
		st_runs=$((st_runs + 1))
		# shellcheck disable=SC2086
		(cd /tmp && /with/ksm_tests $args) >$L/st.out 2>&1 && continue
		st_again=$((st_again + 1))
		echo 2 >$S/run
		# shellcheck disable=SC2086
		if ! (cd /tmp && /with/ksm_tests $args -d) >$L/st.again 2>&1; then
			st_bad=$((st_bad + 1))
			echo "# ksm_tests $args failed twice:"
			tail -n 8 $L/st.out $L/st.again | sed 's/^/# /'
		fi
	done
	umount $K
	echo 1000 >$S/pages_to_scan && echo 0 >$S/sleep_millisecs && echo 1 >$S/run
}

injected=0
arm() { [ "$FAULTS" = 0 ] || /tests/fault_inject --arm "$FAULTS" | sed 's/^/# /'; }
pause() {
	[ "$FAULTS" = 0 ] && return
	injected=$((injected + $(/tests/fault_inject --injected)))
	/tests/fault_inject --pause
}

left=$D
while [ $left -gt 0 ]; do
	d=$left; [ $d -gt "$ROUND" ] && d=$ROUND
	left=$((left - d))
	arm
	round $d
	pause
	[ -x /with/ksm_tests ] && selftests
done

echo "# rounds: $rounds"
grep -E 'metrc|passed|failed|skipped' $L/stress-ng.out | tail -n 14 | sed 's/^/# /'
[ $sbad = 0 ]
point $? "stress-ng (vm, mmap, mremap, fork, madvise, brk, stack, malloc, --verify) as uid 1000 for $D s: exit 0 in every round ($sbad of $rounds did not)"

read -r mr mbad <$L/memtester.res
[ "${mr:-0}" -gt 0 ] && [ "$mbad" = 0 ]
point $? "memtester: $mr rounds of 8 MiB, $mbad failed"
[ "$mbad" = 0 ] || tail -n 20 $L/memtester.failed | sed 's/^/# /'

[ $cbad = 0 ]
point $? "stress-ng --vm --verify in a 72 MiB memory cgroup: exit 0, or only OOM kills ($ooms in all) and no verify failure, in every round ($cbad did not)"

read -r fr fbad <$L/fuzz.res
[ "${fr:-0}" -gt 0 ] && [ "$fbad" = 0 ]
point $? "fuzz_concurrent: $fr runs, $fbad with a failure"
[ "$fbad" = 0 ] || grep -E '^not ok|Bail|unexpected' $L/fuzz.failed | head -n 10 | sed 's/^/# /'

echo "# knobs: $changes changes ($refused refused), $unmerges unmerges (run=2) that succeeded"
[ "$peak" -gt 0 ] && [ "$peakp" -gt 1 ]
point $? "samepage merged meanwhile: up to $peak pages sharing, up to $peakp processes tracked"

if [ -x /with/ksm_tests ]; then
	[ $st_runs -gt 0 ] && [ $st_bad = 0 ]
	point $? "between rounds, the kernel's ksm_tests -M, -U, -Z (zero pages off and on) against samepage: $st_runs runs, $st_again run again, $st_bad failed twice"
else
	skip "the kernel's ksm_tests between rounds: not in /with (scripts/soak carries it)"
fi
if [ "$FAULTS" != 0 ]; then
	[ "$injected" -gt 0 ]
	point $? "allocation failures injected into samepage's allocations at $FAULTS%: $injected"
fi

# everything has exited: nothing may be left
sleep 2
echo 2 >$S/run
kp=$(cat $S/kernel_pages_allocated) zp=$(cat $S/ksm_zero_pages)
sh=$(cat $S/pages_shared) sg=$(cat $S/pages_sharing)
tr=$(samepagectl list 2>/dev/null | tail -n +2 | wc -l)
for c in samepage_rmap_item samepage_stable_node samepage_mm_slot; do
	echo 1 >/sys/kernel/slab/$c/shrink 2>/dev/null
done
sleep 1
objs=$(awk '/^samepage_/ { s += $2 } END { print s + 0 }' /proc/slabinfo)
[ "$kp" = 0 ] && [ "$zp" = 0 ] && [ "$sh" = 0 ] && [ "$sg" = 0 ] && [ "$tr" = 0 ] && [ "$objs" = 0 ]
point $? "afterwards run=2: kpages $kp, zero pages $zp, shared $sh, sharing $sg, processes $tr, slab objects $objs (all 0)"

rmdir $CG/soak 2>/dev/null
rmmod samepage && insmod /samepage.ko && [ -d $S ]
point $? "samepage unloads and loads again"
echo 100 >$S/pages_to_scan && echo 20 >$S/sleep_millisecs
echo "1..$n"
[ $failed = 0 ]
