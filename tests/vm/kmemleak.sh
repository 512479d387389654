#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Inside a VM booted with kmemleak=on (scripts/check-debug): run after the
# tests named before it, as the last one, because it unloads samepage.
# run=2, rmmod, two kmemleak scans more than its minimum object age apart,
# then every unreferenced object whose allocation backtrace passes through
# samepage's code (its text range, read while it was loaded) is a leak.
# Reports of the rest of the kernel are counted, not judged: they are not
# samepage's. Without kmemleak (any other kernel, or kmemleak off) the
# whole script is one SKIP.
KL=/sys/kernel/debug/kmemleak
SP=/sys/kernel/mm/samepage
echo "TAP version 13"
[ -e $KL ] || mount -t debugfs none /sys/kernel/debug 2>/dev/null
if ! cat $KL >/dev/null 2>&1; then
	echo "1..0 # SKIP kmemleak is off (the sanitizer kernel booted with kmemleak=on has it)"
	exit 0
fi
echo "1..3"
# samepage's text pages: the first and last of its text symbols, by page
# number (the first 13 of 16 hex digits; string order is numeric order)
range=$(awk '$4 == "[samepage]" && ($2 == "t" || $2 == "T") { print substr($1, 1, 13) }' \
	/proc/kallsyms | sort | sed -n '1p;$p' | tr '\n' ' ')
lo=${range%% *}
hi=$(echo "$range" | awk '{ print $2 }')
# and its init text (gone from kallsyms once loaded), a page or two above
init=$(cat /sys/module/samepage/sections/.init.text 2>/dev/null)
init=${init#0x}
[ ${#init} = 16 ] && hi=$(printf '%s\n%s\n' "$hi" "$(echo "$init" | cut -c1-13)" | sort | tail -n 1)
if [ -n "$lo" ] && [ -n "$hi" ] && echo 2 >$SP/run && rmmod samepage; then
	echo "ok 1 - run=2 and rmmod samepage (its text was pages $lo-$hi)"
else
	echo "not ok 1 - run=2 and rmmod samepage (text '$lo'-'$hi')"
fi
# an object is reported once it is unreferenced and older than 5 s
echo scan >$KL
sleep 6
echo scan >$KL
echo scan >$KL
cat $KL >/tmp/kmemleak.txt
total=$(grep -c '^unreferenced object' /tmp/kmemleak.txt)
[ "$total" -gt 0 ] 2>/dev/null || total=0
# one record per "unreferenced object" line; it is samepage's if a frame of
# its backtrace lies in samepage's text pages. A frame reads
# "symbol+off/size [module]" (some kernels prefix "[<address>]"), or
# "0x<address>" once the module is gone.
awk -v lo="$lo" -v hi="$hi" '
	/^unreferenced object/ { if (rec != "" && mine) print rec; rec = $0; mine = 0; next }
	{ rec = rec "\n" $0 }
	{
		if ($0 ~ /\[samepage\]/)
			mine = 1
		a = $NF
		if (a ~ /^0x[0-9a-f]+$/ && length(a) == 18) {
			p = substr(a, 3, 13)
			if (p >= lo && p <= hi)
				mine = 1
		}
	}
	END { if (rec != "" && mine) print rec }' /tmp/kmemleak.txt >/tmp/kmemleak.sp
mine=$(grep -c '^unreferenced object' /tmp/kmemleak.sp)
[ "$mine" -gt 0 ] 2>/dev/null || mine=0
if [ -n "$lo" ] && [ "$mine" = 0 ]; then
	echo "ok 2 - kmemleak: no unreferenced object allocated through samepage's code ($total reports of the rest of the kernel)"
	head -n 12 /tmp/kmemleak.txt | sed 's/^/# /'
else
	echo "not ok 2 - kmemleak: $mine unreferenced objects allocated through samepage's code"
	head -n 60 /tmp/kmemleak.sp | sed 's/^/# /'
fi
# and the machine goes on: samepage loads again
if insmod /samepage.ko && [ -d $SP ]; then
	echo "ok 3 - samepage loads again after the leak check"
else
	echo "not ok 3 - samepage loads again after the leak check"
fi
