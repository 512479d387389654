#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# spbench.sh [--smoke] [PRESET...]: the measuring half of the samepage
# benchmark. Runs each workload preset (W1 W2 W3 W4 by default) under in-tree
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
# pages_to_scan/sleep_millisecs at the benchmark's values.
#
# Environment: SPBENCH_BIN (where spgen and sprun are; default: this
# script's directory, else build/bench beside it), SPBENCH_PAGES_TO_SCAN
# (2000), SPBENCH_SLEEP_MS (20), SPBENCH_TIMEOUT (seconds per run; 600,
# smoke 60), SPBENCH_SEED (1).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
BIN=${SPBENCH_BIN:-$here}
[ -x "$BIN/sprun" ] || BIN=$here/../build/bench
[ -x "$BIN/sprun" ] && [ -x "$BIN/spgen" ] ||
	{ echo "spbench: spgen/sprun not found (set SPBENCH_BIN)" >&2; exit 1; }
SMOKE=0
[ "${1:-}" = --smoke ] && { SMOKE=1; shift; }
PRESETS=${*:-W1 W2 W3 W4}
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
else
	W1_PROCS=8 W1_MIB=64 W2_MIB=64 W3_SIZES="16 64 256 1024" W4_MIB=256
fi

echo "meta,kernel,$(uname -r)"
echo "meta,machine,$(cat /sys/class/dmi/id/product_name 2>/dev/null | tr , ' ')"
echo "meta,cpus,$(grep -c ^processor /proc/cpuinfo)"
echo "meta,mem_kib,$(awk '/^MemTotal/ {print $2}' /proc/meminfo)"
echo "meta,pages_to_scan,$PTS"
echo "meta,sleep_millisecs,$SLEEP"
echo "meta,smoke,$SMOKE"

both() {	# both PRESET PARAM SPGEN-ARGS...: in-tree KSM, then samepage
	preset=$1 param=$2
	shift 2
	for tree in ksm samepage; do
		echo "spbench: $preset $param MiB under $tree" >&2
		"$BIN/sprun" --tree $tree --pages-to-scan "$PTS" --sleep-ms "$SLEEP" \
			--timeout "$TIMEOUT" --preset "$preset" --param "$param" \
			-- "$BIN/spgen" --seed "$SEED" "$@"
	done
}

for p in $PRESETS; do
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
	W4)	# user-guided: synchronous MERGE_RANGE vs memcpy, samepage only
		for d in $KSM $SP; do echo 2 >$d/run; echo 0 >$d/run; done
		echo "spbench: W4 $W4_MIB MiB MERGE_RANGE" >&2
		out=$("$BIN/spgen" --merge-range --size "$W4_MIB" --seed "$SEED")
		echo "$out" | awk -v mib="$W4_MIB" '{
			for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
			printf "merge,W4,%s,samepage,%s,%s,%s,%s\n", mib, v["pages"],
			       v["memcpy_s"], v["merge_range_s"], v["merged"] }'
		echo 2 >$SP/run; echo 0 >$SP/run ;;
	*)	echo "spbench: unknown preset '$p' (W1 W2 W3 W4)" >&2; exit 2 ;;
	esac
done
