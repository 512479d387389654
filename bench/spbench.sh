#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# spbench.sh [--smoke] [PRESET...]: the measuring half of the samepage
# benchmark. Runs each workload preset (W1 W2 W3 W4 G1 TS W1d SP F1 FL by default) under in-tree
# KSM, then under samepage, in this boot, and prints CSV lines (meta, series,
# result, merge) on stdout for scripts/bench to turn into tables and plots.
#
# Runs as root where both /sys/kernel/mm/ksm and /sys/kernel/mm/samepage
# exist: inside scripts/vm-run (scripts/bench does that), or on a real
# machine with samepage loaded:
#     make build/bench/spgen build/bench/sprun
#     sudo bench/spbench.sh W1 W2 > out.csv      (spgen, sprun from build/bench)
#     scripts/bench --from out.csv
# It leaves both scanners stopped (run=0) with nothing merged, and their
# pages_to_scan/sleep_millisecs at the benchmark's values. F1 unloads and
# reloads samepage (insmod /samepage.ko in the VM, else modprobe samepage).
#
# Environment: SPBENCH_BIN (where spgen and sprun are; default: this
# script's directory, else build/bench beside it), SPBENCH_PAGES_TO_SCAN
# (2000), SPBENCH_SLEEP_MS (20), SPBENCH_TIMEOUT (seconds per run; 600,
# smoke 60), SPBENCH_SEED (1), SPBENCH_Q1 (Q1's QEMU and guest, made by
# scripts/bench-q1; default: q1 beside this script).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
BIN=${SPBENCH_BIN:-$here}
[ -x "$BIN/sprun" ] || BIN=$here/../build/bench
[ -x "$BIN/sprun" ] && [ -x "$BIN/spgen" ] && [ -x "$BIN/spfork" ] && [ -x "$BIN/spfloor" ] ||
	{ echo "spbench: spgen/sprun/spfork/spfloor not found (set SPBENCH_BIN)" >&2; exit 1; }
SMOKE=0
[ "${1:-}" = --smoke ] && { SMOKE=1; shift; }
PRESETS=${*:-W1 W2 W3 W4 G1 TS W1d SP F1 FL}
PTS=${SPBENCH_PAGES_TO_SCAN:-2000}
SLEEP=${SPBENCH_SLEEP_MS:-20}
SEED=${SPBENCH_SEED:-1}
if [ $SMOKE = 1 ]; then TIMEOUT=${SPBENCH_TIMEOUT:-60}; else TIMEOUT=${SPBENCH_TIMEOUT:-600}; fi
KSM=/sys/kernel/mm/ksm SP=/sys/kernel/mm/samepage
[ -d $KSM ] || { echo "spbench: no $KSM (kernel without CONFIG_KSM)" >&2; exit 1; }
[ -d $SP ] || { echo "spbench: no $SP (load samepage first)" >&2; exit 1; }

# sizes: full, or the smoke form (tiny, the same code paths)
if [ $SMOKE = 1 ]; then
	W1_PROCS=2 W1_MIB=4 W2_MIB=4 W3_SIZES="4 16" W4_MIB=8
	G1_PROCS=2 G1_MIB=4 TS_MIB=16 TS_SWEEP="1 64"
	W1D_PROCS=2 W1D_MIB=4 F1_MIB=4 F1_ITERS=3 F1_ROUNDS=1 FL_MIB=1 SP_GIBS=1
	W3L_SIZES="16 64"
else
	W1_PROCS=8 W1_MIB=64 W2_MIB=64 W3_SIZES="16 64 256 1024" W4_MIB=256
	G1_PROCS=4 G1_MIB=64 TS_MIB=64 TS_SWEEP="1 16 64 256"
	W1D_PROCS=4 W1D_MIB=32 F1_MIB=16 F1_ITERS=10 F1_ROUNDS=5 FL_MIB=8
	SP_GIBS="1024 65536" W3L_SIZES="1024 4096 8192"
fi
Q1_GUESTS=4 Q1_DIR=${SPBENCH_Q1:-$here/q1}
[ $SMOKE = 1 ] && Q1_GUESTS=2
# TS: the dup subpages of each huge page in turn (of 512), the rest unique
TS_TWINS=448,256,128,64,32,16,8,2

echo "meta,kernel,$(uname -r)"
echo "meta,machine,$(cat /sys/class/dmi/id/product_name 2>/dev/null | tr , ' ')"
echo "meta,cpus,$(grep -c ^processor /proc/cpuinfo)"
echo "meta,mem_kib,$(awk '/^MemTotal/ {print $2}' /proc/meminfo)"
echo "meta,pages_to_scan,$PTS"
echo "meta,sleep_millisecs,$SLEEP"
echo "meta,smoke,$SMOKE"
echo "meta,thp,$(sed 's/.*\[\(.*\)\].*/\1/' /sys/kernel/mm/transparent_hugepage/enabled 2>/dev/null)"

run_gen() {	# run_gen TREE LABEL PRESET PARAM GENERATOR [ARGS...]
	tree=$1 label=$2 preset=$3 param=$4
	shift 4
	echo "spbench: $preset $param under $label" >&2
	"$BIN/sprun" --tree "$tree" --label "$label" --pages-to-scan "${RUN_PTS:-$PTS}" \
		--sleep-ms "${RUN_SLEEP:-$SLEEP}" --timeout "$TIMEOUT" --preset "$preset" \
		--param "$param" $RUN_ARGS -- "$@"
}
one() {	# one TREE LABEL PRESET PARAM SPGEN-ARGS...
	tree=$1 label=$2 preset=$3 param=$4
	shift 4
	run_gen "$tree" "$label" "$preset" "$param" "$BIN/spgen" --seed "$SEED" "$@"
}
RUN_ARGS=
both() {	# both PRESET PARAM SPGEN-ARGS...: in-tree KSM, then samepage
	preset=$1 param=$2
	shift 2
	for tree in ksm samepage; do
		one $tree $tree "$preset" "$param" "$@"
	done
}

# G1 and TS need huge pages (not on an rt kernel) and samepage's THP knob
# samepaged's CPU time in ns (0 if it is not running)
scanner_ns() {
	for d in /proc/[0-9]*; do
		[ "$(cat $d/comm 2>/dev/null)" = samepaged ] || continue
		awk '{ print $1; exit }' $d/schedstat 2>/dev/null && return 0
	done
	echo 0
}

# F1's busy state: 2 x 2 MiB of shared content tracked (samepagectl run)
# and merged, held by spgen (which waits on stdin) until busy_stop
BUSY_FIFO=/tmp/spbench-busy.$$
busy_start() {
	echo 100 >$SP/pages_to_scan; echo 20 >$SP/sleep_millisecs; echo 1 >$SP/run
	rm -f "$BUSY_FIFO"; mkfifo "$BUSY_FIFO"
	samepagectl run -- "$BIN/spgen" --seed "$SEED" --procs 2 --size 2 --dup 1 \
		<"$BUSY_FIFO" >/dev/null &
	BUSY_PID=$!
	exec 9>"$BUSY_FIFO"
	i=0
	until [ "$(cat $SP/pages_sharing)" -ge 512 ]; do
		i=$((i + 1))
		[ $i -le 600 ] || { echo "spbench: F1 busy: nothing merged in 60 s" >&2; exit 1; }
		sleep 0.1
	done
}
busy_stop() {
	echo quit >&9; exec 9>&-
	wait "$BUSY_PID" || true
	rm -f "$BUSY_FIFO"
	echo 2 >$SP/run; echo 0 >$SP/run
}

thp_ok() {
	[ -e /sys/kernel/mm/transparent_hugepage/enabled ] && [ -e $SP/thp_min_mergeable ] &&
		! grep -q '\[never\]' /sys/kernel/mm/transparent_hugepage/enabled && return 0
	echo "spbench: $1 skipped: no transparent huge pages (or no thp_min_mergeable) here" >&2
	echo "meta,skipped,$1"
	return 1
}

for p in $PRESETS; do
	case $p in
	G1|TS) thp_ok $p || continue ;;
	esac
	case $p in
	W1)	# mixed: 50% dup across procs, 10% zero, 30% unique, 10% volatile
		both W1 $((W1_PROCS * W1_MIB)) --procs $W1_PROCS --size $W1_MIB \
			--dup 0.5 --zero 0.1 --unique 0.3 --volatile 0.1 ;;
	W2)	# near-duplicates (differ in their last 8 bytes) + duplicates
		both W2 $((2 * W2_MIB)) --procs 2 --size $W2_MIB --near 0.5 --dup 0.5 ;;
	W3)	# scale: distinct contents, half present in both procs (stable
		# tree: a quarter of the total), half unique (unstable tree)
		for s in $W3_SIZES; do
			both W3 "$s" --procs 2 --size $((s / 2)) --dup 0.5 --unique 0.5
		done ;;
	W3L)	# W3 up to 8 GiB (a VM of 12 GiB: scripts/bench gives it that)
		for s in $W3L_SIZES; do
			both W3 "$s" --procs 2 --size $((s / 2)) --dup 0.5 --unique 0.5
		done ;;
	W4)	# user-guided: synchronous MERGE_RANGE vs memcpy, samepage only
		for d in $KSM $SP; do echo 2 >$d/run; echo 0 >$d/run; done
		echo "spbench: W4 $W4_MIB MiB MERGE_RANGE" >&2
		out=$("$BIN/spgen" --merge-range --size "$W4_MIB" --seed "$SEED")
		echo "$out" | awk -v mib="$W4_MIB" '{
			for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
			printf "merge,W4,%s,samepage,%s,%s,%s,%s\n", mib, v["pages"],
			       v["memcpy_s"], v["merge_range_s"], v["merged"] }'
		echo 2 >$SP/run; echo 0 >$SP/run ;;
	G1)	# KVM-like guest RAM: 2 MiB-aligned MADV_HUGEPAGE regions, in runs
		# of 64 pages (256 KiB): 50% an "OS image" common to every
		# guest, 20% zero (free guest memory), 30% unique
		both G1 $((G1_PROCS * G1_MIB)) --procs $G1_PROCS --size $G1_MIB --thp \
			--chunk 64 --dup 0.5 --zero 0.2 --unique 0.3 ;;
	TS)	# thp_min_mergeable sweep: 2 procs, huge pages with 448, 256, ...
		# 2 twin subpages in turn; in-tree KSM once, samepage per value
		# (64, the default, is the "samepage" row the ratios use)
		args="--procs 2 --size $TS_MIB --thp --twins $TS_TWINS"
		one ksm ksm TS $((2 * TS_MIB)) $args
		for m in $TS_SWEEP; do
			label=samepage@$m
			[ "$m" = 64 ] && label=samepage
			RUN_ARGS="--set thp_min_mergeable=$m"
			one samepage $label TS $((2 * TS_MIB)) $args
			RUN_ARGS=
		done ;;
	W1d)	# W1's mix at in-tree's default knobs (pages_to_scan 100, sleep
		# 20 ms), smaller: a pass of W1's 512 MiB would take 26 s of sleep
		RUN_PTS=100 RUN_SLEEP=20
		both W1d $((W1D_PROCS * W1D_MIB)) --procs $W1D_PROCS --size $W1D_MIB \
			--dup 0.5 --zero 0.1 --unique 0.3 --volatile 0.1
		RUN_PTS= RUN_SLEEP= ;;
	Q1)	# a clone storm: Q1_GUESTS QEMU guests of 256 MiB restored
		# from one snapshot of a booted guest and left paused (the
		# QEMU, the guest and its snapshot: scripts/bench-q1, in
		# $Q1_DIR); the knobs of a VM host (pages_to_scan 1000, sleep
		# 20 ms). param: MiB of guest RAM in all
		[ -s "$Q1_DIR/guest/snap" ] ||
			{ echo "spbench: Q1 skipped: no $Q1_DIR (scripts/bench-q1)" >&2
			  echo "meta,skipped,Q1"; continue; }
		RUN_PTS=1000 RUN_SLEEP=20
		for tree in ksm samepage; do
			run_gen $tree $tree Q1 $((Q1_GUESTS * 256)) sh "$here/spqemu.sh" "$Q1_DIR" "$Q1_GUESTS"
		done
		RUN_PTS= RUN_SLEEP= ;;
	SP)	# sparse: 2 procs each reserve GiB (MAP_NORESERVE, all of it
		# MADV_MERGEABLE, as a JVM or a browser under PR_SET_MEMORY_MERGE)
		# and write 64 pages spread evenly over it, pairs equal across
		# the procs; in-tree's default knobs. param: GiB reserved per proc
		RUN_PTS=100 RUN_SLEEP=20
		for g in $SP_GIBS; do
			both SP "$g" --procs 2 --sparse "$g" --size 0.25 --dup 1
		done
		RUN_PTS= RUN_SLEEP= ;;
	F1)	# fork+touch, COW and munmap of a process samepage does not
		# track, with samepage not loaded, loaded and stopped (run=0),
		# loaded and idle (run=1, nothing to scan), loaded and busy
		# (run=1 at in-tree's default pace, another process merged, so
		# the write-fault probe is armed): rounds interleaved
		for d in $KSM $SP; do echo 2 >$d/run; echo 0 >$d/run; done
		for r in $(seq $F1_ROUNDS); do
			for state in unloaded stopped idle busy; do
				case $state in
				unloaded) rmmod samepage || { echo "spbench: rmmod samepage failed" >&2; exit 1; } ;;
				idle) echo 1 >$SP/run ;;
				busy) busy_start ;;
				esac
				echo "spbench: F1 $F1_MIB MiB x $F1_ITERS, samepage $state, round $r" >&2
				c0=$(scanner_ns)
				out=$("$BIN/spfork" --size $F1_MIB --iters $F1_ITERS)
				echo "$out" | awk -v mib=$F1_MIB -v st=$state -v r=$r \
					-v scan=$(( $(scanner_ns) - c0 )) '{
					for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
					printf "fork,F1,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s,%s\n", mib, st, r,
					       v["total_ns"], v["touch_ns"], v["fork_ns"], v["cow_ns"],
					       v["wait_ns"], v["munmap_ns"], v["cow_p50_ns"], v["cow_p99_ns"],
					       scan }'
				case $state in
				unloaded) if [ -f /samepage.ko ]; then insmod /samepage.ko; else modprobe samepage; fi
					[ -d $SP ] || { echo "spbench: samepage did not load again" >&2; exit 1; } ;;
				idle) echo 0 >$SP/run ;;
				busy) busy_stop ;;
				esac
			done
		done ;;
	FL)	# the floor: one xxh64 and one memcmp of 4 KiB, in this VM
		echo "spbench: FL $FL_MIB MiB xxh64 + memcmp" >&2
		"$BIN/spfloor" --size $FL_MIB | awk -v mib=$FL_MIB '{
			for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
			printf "floor,FL,%s,vm,%s,%s,%s\n", mib, v["pages"], v["xxh64_ns"],
			       v["memcmp_ns"] }' ;;
	*)	echo "spbench: unknown preset '$p' (W1 W2 W3 W3L W4 G1 TS W1d SP Q1 F1 FL)" >&2; exit 2 ;;
	esac
done
