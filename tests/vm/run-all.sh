#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Inside the VM: run every test program in /tests (or those named), each a
# TAP stream. numa_* tests need two NUMA nodes: they run only when named
# (scripts/check runs them in a VM booted with --numa 2); kmemleak.sh
# unloads samepage and needs kmemleak=on: it runs only when named, last
# (scripts/check-debug); soak.sh runs only when named (make soak,
# scripts/check). Each test's lines are prefixed "[NAME] "; a test that exits
# non-zero, bails out or runs fewer checks than it planned gets one extra
# "not ok" line, so a crash can never read as a pass.
cd /tests || exit 1
tests=$*
[ -n "$tests" ] || tests=$(ls | grep -v -e '^run-all.sh$' -e '^load_unload.sh$' -e '^kmemleak.sh$' -e '^soak.sh$' -e '^numa_'; echo load_unload.sh)
rc=0
for t in $tests; do
	[ -x "/tests/$t" ] || { echo "not ok - [$t] no such test"; rc=1; continue; }
	"/tests/$t" >/tmp/tap.out 2>&1
	trc=$?
	awk -v name="$t" -v trc="$trc" '
		/^1\.\.[0-9]+/ { split($0, p, "\\.\\."); plan = p[2] + 0; next }
		/^(not )?ok / { n++; sub(/^(not ok|ok) [0-9]+/, "& [" name "]"); print; next }
		/^Bail out!/ { bail = $0 }
		{ print "# [" name "] " $0 }
		END {
			if (bail != "") print "not ok - [" name "] " bail
			else if (n != plan) print "not ok - [" name "] ran " n " of " plan " planned checks"
			else if (trc != 0 && !failed) print "# [" name "] exit status " trc
			if (trc != 0) exit 1
		}' /tmp/tap.out || rc=1
done
exit $rc
