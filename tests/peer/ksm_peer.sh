#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# tests/peer/ksm_peer.sh [DIR]: inside the VM, the kernel's own KSM selftests
# against in-tree KSM and then against samepage, in the same boot; one TAP
# point per case comparing the two. DIR (default: this script's directory)
# holds what scripts/selftests built: ksm_functional_tests, ksm_tests,
# run_vmtests.sh and functional_cases, and ptyrun (tests/peer/ptyrun.c:
# each program runs on a terminal, so its stdio output is line-buffered and
# in order even when it forks). scripts/check-selftests runs it with
# scripts/vm-run --with; by hand:
#   scripts/vm-run --numa 2 --with DIR -- /with/ksm_peer.sh
#
# in-tree:  samepage stopped (run=0), the programs drive /sys/kernel/mm/ksm.
# samepage: in-tree stopped (run=2, then 0), samepage's directory bind-mounted
#           over /sys/kernel/mm/ksm, so the programs drive samepage and
#           samepage follows their madvise()/prctl() (follow_madvise=1).
# Before every program both sides' knobs are put back to what they were at
# the start (run=2 first, which also unmerges what the last program left).
# ksm_tests runs with each option set run_vmtests.sh uses for KSM, one case
# each (its exit status: 0 pass, 4 skip, else fail, as run_vmtests.sh reads
# it; a failed run is run once more, with -d, and the case passes if that
# run does: see run_mode); ksm_functional_tests is one case per test_*() of
# its main().
#
# TAP: "ok" when both pass; "not ok" when in-tree passes and samepage fails,
# skips or gives no result; a case in-tree skips, fails or does not finish
# is a SKIP (never a pass), its description says what samepage did. The exit
# status is 0 unless the harness itself broke (the comparison is the TAP).
# PEER_TIMEOUT (default 300) limits each program run, in seconds (ptyrun
# kills its whole session).

DIR=${1:-$(cd "$(dirname "$0")" && pwd)}
K=/sys/kernel/mm/ksm
S=/sys/kernel/mm/samepage
T=/tmp/ksm_peer
TMO=${PEER_TIMEOUT:-300}
KNOBS="max_page_sharing merge_across_nodes pages_to_scan sleep_millisecs
stable_node_chains_prune_millisecs use_zero_pages smart_scan advisor_mode
advisor_max_cpu advisor_min_pages_to_scan advisor_max_pages_to_scan
advisor_target_scan_time follow_madvise max_kernel_pages"

bail() { echo "Bail out! ksm_peer: $*"; exit 1; }
for f in ksm_functional_tests ksm_tests run_vmtests.sh functional_cases ptyrun; do
	[ -e "$DIR/$f" ] || bail "$DIR/$f missing (scripts/selftests build TAG)"
done
[ -d $K ] || bail "no in-tree KSM ($K)"
[ -d $S ] || bail "samepage is not loaded ($S)"
rm -rf $T && mkdir -p $T || bail "cannot create $T"
# the programs run from a copy: ksm_functional_tests execs ./ksm_functional_tests
cp "$DIR/ksm_functional_tests" "$DIR/ksm_tests" "$DIR/ptyrun" $T/ ||
	bail "cannot copy the programs"

# ksm_tests' invocations, as run_vmtests.sh lists them for "ksm" and "ksm_numa"
sed -n 's/^[^#]*run_test \.\/ksm_tests\(.*\)$/\1/p' "$DIR/run_vmtests.sh" |
	sed 's/^ *//; s/ *$//' >$T/invocations
[ -s $T/invocations ] || bail "no ksm_tests invocation found in run_vmtests.sh"
# PEER_SIZE_MB: another size for the merge-time runs (-P, -H: "-s 100"),
# which only time merging and fail when it takes over 120 s
if [ -n "${PEER_SIZE_MB:-}" ]; then
	sed -i "s/-s [0-9][0-9]*/-s $PEER_SIZE_MB/" $T/invocations
	echo "# ksm_peer: PEER_SIZE_MB=$PEER_SIZE_MB: the merge-time runs use -s $PEER_SIZE_MB" \
	     "instead of run_vmtests.sh's size"
fi

save() {	# save DIR FILE: the writable knobs of DIR and their values
	local k
	: >"$2"
	for k in run $KNOBS; do
		[ -w "$1/$k" ] && echo "$k $(cat "$1/$k")" >>"$2"
	done
}
restore() {	# restore DIR FILE: run=2 (unmerge all), the knobs, then run
	local k v
	echo 2 >"$1/run" || echo "# ksm_peer: $1/run=2 failed"
	while read -r k v; do
		[ "$k" = run ] && continue
		[ "$(cat "$1/$k")" = "$v" ] && continue
		echo "$v" >"$1/$k" 2>/dev/null || echo "# ksm_peer: restoring $1/$k=$v failed"
	done <"$2"
	echo "$(sed -n 's/^run //p' "$2")" >"$1/run" || echo "# ksm_peer: restoring $1/run failed"
}

# run_prog MODE NAME CMD...: run CMD from $T with a time limit; its output
# to $T/MODE.NAME.out (and the console, as comments); status to .rc
run_prog() {
	local m=$1 n=$2 t0
	shift 2
	t0=$(date +%s)
	(cd $T && ./ptyrun "$TMO" "$@") >"$T/$m.$n.out" 2>&1
	echo $? >"$T/$m.$n.rc"
	sed "s/^/# [$m] /" "$T/$m.$n.out"
	echo "# [$m] $* exited $(cat "$T/$m.$n.rc") after $(( $(date +%s) - t0 )) s"
}

# ksm_tests_result MODE NAME: "pass|skip|fail<TAB>reason" for one invocation
ksm_tests_result() {
	local rc
	rc=$(cat "$T/$1.$2.rc")
	awk -v rc="$rc" -v tmo="$TMO" '
		/^# / { sub(/^# /, ""); if ($0 !~ /^(Totals|Planned)/ && $0 != "") last = $0 }
		/^Bail out!/ { last = $0 }
		/^not ok / { notok = 1 }
		END {
			if (rc == 137) { print "fail\tkilled after " tmo " s"; exit }
			if (rc == 0 && !notok) { print "pass\t"; exit }
			if (rc == 4) { print "skip\t" last; exit }
			print "fail\texit " rc (last != "" ? ": " last : "")
		}' "$T/$1.$2.out"
}

# functional_results MODE: one "case<TAB>result<TAB>reason" per functional
# case. A result belongs to the case of the last "[RUN] name" line. Some
# results lack their "\n", so a "[RUN]" or "Bail out!" may follow on the same
# line. A case announced twice means a forked child ran main()'s remaining
# cases itself (6.12's test_prctl_fork_exec when its execv() fails): the
# lines from the first announcement to that child's "# Totals:" are the
# child's and are left out.
functional_results() {
	local rc
	rc=$(cat "$T/$1.functional.rc")
	awk -v rc="$rc" -v tmo="$TMO" -v cases="$DIR/functional_cases" '
		BEGIN { while ((getline c <cases) > 0) order[++n] = c }
		function runname(l) { sub(/.*# \[RUN\] /, "", l); sub(/[^a-z0-9_].*/, "", l); return l }
		NR == FNR { if ($0 ~ /# \[RUN\] /) count[runname($0)]++; next }
		{
			line = $0; next_run = ""
			if (line ~ /.# \[RUN\] /) {
				next_run = runname(line); sub(/# \[RUN\] .*/, "", line)
			}
			sub(/Bail out!.*/, "", line)
		}
		child { if (line ~ /^# Totals:/) child = 0; next }
		line ~ /^# \[RUN\] / {
			c = runname(line)
			if (count[c] > 1 && !seen[c]++) { child = 1; childof = cur; next }
			if (cur != "" && !(cur in res)) last[cur] = msg
			cur = c; msg = ""; next
		}
		line ~ /^(not )?ok [0-9]+/ && cur != "" && !(cur in res) {
			d = line; sub(/^(not )?ok [0-9]+ */, "", d)
			if (d ~ /# SKIP/) { r = "skip"; sub(/.*# SKIP */, "", d) }
			else r = (line ~ /^not ok/) ? "fail" : "pass"
			if (r == "fail" && msg != "") d = d " after: " msg
			res[cur] = r; why[cur] = (r == "pass") ? "" : d
			msg = ""
		}
		line ~ /^# / { m = line; sub(/^# /, "", m); if (m !~ /^\[/ && m != "") msg = m }
		next_run != "" {
			c = next_run
			if (count[c] > 1 && !seen[c]++) { child = 1; childof = cur }
			else { if (cur != "" && !(cur in res)) last[cur] = msg; cur = c; msg = "" }
		}
		END {
			if (cur != "" && !(cur in res)) last[cur] = msg
			for (i = 1; i <= n; i++) {
				c = order[i]
				if (c in res)
					print c "\t" res[c] "\t" why[c]
				else if (rc == 137)
					print c "\tfail\tno result: killed after " tmo " s"
				else if (c == childof)
					print c "\tfail\tno result: its child ran the remaining cases" \
						" itself and exited non-zero (it inherits the failures before it)"
				else
					print c "\tfail\tno result (exit " rc ")" \
						(last[c] != "" ? ", last said: " last[c] : "")
			}
			if (childof != "")
				print "# ksm_peer: a child of " childof " ran the remaining cases itself; its lines are not counted" >"/dev/stderr"
		}' "$T/$1.functional.out" "$T/$1.functional.out"
}

run_mode() {	# run_mode MODE: every program; results to $T/MODE.res
	local m=$1 i=0 args r
	: >"$T/$m.res"
	while read -r args; do
		i=$((i + 1))
		restore $K "$T/knobs.now"
		# shellcheck disable=SC2086
		run_prog "$m" "t$i" ./ksm_tests $args
		r=$(ksm_tests_result "$m" "t$i")
		if [ "${r%%	*}" = fail ]; then
			# ksm_tests races with the pass in progress: -U writes
			# to its merged pages and then waits for one more full
			# scan, which may be the pass that had already visited
			# them (in one TCG VM under load, in-tree KSM failed 2
			# of 150 -U runs that way, samepage 0 of 150 and once in
			# a CI run). So a failed run is
			# run once more, with -d (which prints the counters it
			# judged by), for both KSMs alike: the case passes if
			# the second run does, and its line says so.
			restore $K "$T/knobs.now"
			# shellcheck disable=SC2086
			run_prog "$m-debug" "t$i" ./ksm_tests $args -d
			r2=$(ksm_tests_result "$m-debug" "t$i")
			if [ "${r2%%	*}" = pass ]; then
				r="pass	passed when run again (the first run: ${r#*	})"
			else
				r="$r; run again with -d: ${r2%%	*}"
			fi
		fi
		printf 'ksm_tests %s\t%s\n' "$args" "$r" >>"$T/$m.res"
	done <$T/invocations
	restore $K "$T/knobs.now"
	run_prog "$m" functional ./ksm_functional_tests
	functional_results "$m" | sed 's/^/ksm_functional_tests /' >>"$T/$m.res"
	restore $K "$T/knobs.now"
}

save $K $T/knobs.intree
save $S $T/knobs.samepage
echo "# ksm_peer: $(uname -r), $(grep -c . $T/invocations) ksm_tests runs and" \
     "$(grep -c . "$DIR/functional_cases") functional cases, each under in-tree KSM and samepage"

# in-tree KSM, samepage stopped
echo 2 >$S/run && echo 0 >$S/run || bail "cannot stop samepage"
cp $T/knobs.intree $T/knobs.now
run_mode intree
restore $K $T/knobs.intree

# samepage through the bind mount, in-tree stopped
echo 2 >$K/run && echo 0 >$K/run || bail "cannot stop in-tree KSM"
sed 's/^run .*/run 0/' $T/knobs.samepage >$T/knobs.now
mount --bind $S $K || bail "mount --bind $S $K failed"
[ -e $K/kernel_pages_allocated ] || bail "the bind mount does not show samepage"
run_mode samepage
umount $K || bail "umount $K failed"
[ ! -e $K/kernel_pages_allocated ] || bail "$K still shows samepage after umount"
restore $S $T/knobs.samepage
restore $K $T/knobs.intree

# the comparison, one TAP point per case
awk -F '\t' -v res=$T/samepage.res '
	BEGIN { while ((getline l <res) > 0) { split(l, f, "\t"); sp[f[1]] = f[2]; spw[f[1]] = f[3] } }
	function say(r, w) { return r (w != "" ? " (" w ")" : "") }
	{
		c = $1; ir = $2; iw = $3
		s = (c in sp) ? sp[c] : "fail"; sw = (c in sp) ? spw[c] : "no result"
		n++
		if (ir == "pass" && s == "pass")
			print "ok " n " - " c ": in-tree " say(ir, iw) ", samepage " say(s, sw)
		else if (ir == "pass")
			print "not ok " n " - " c ": in-tree pass, samepage " say(s, sw)
		else if (ir == "skip")
			print "ok " n " - " c " # SKIP in-tree skips it (" iw "); samepage: " say(s, sw)
		else
			print "ok " n " - " c " # SKIP in-tree KSM fails it too, not counted against samepage: in-tree " say(ir, iw) "; samepage " say(s, sw)
	}
	END { print "1.." n }' $T/intree.res
exit 0
