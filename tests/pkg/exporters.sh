#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Inside the VM (scripts/check-packaging runs it with --with DIR holding
# node_exporter, its libc, hold_pages and this script): a merging samepage
# read by node_exporter's own ksmd collector through --path.sysfs, and by
# its textfile collector from 'samepagectl metrics --output'. Every value
# node_exporter reports equals sysfs. The metrics text is printed between
# markers for the host's promtool.
n=0 failed=0
ok() {	# ok DESC CMD...
	desc=$1; shift
	n=$((n + 1))
	if "$@" >/tmp/ok.out 2>&1; then echo "ok $n - $desc"
	else echo "not ok $n - $desc"; sed 's/^/# /' /tmp/ok.out; failed=$((failed + 1)); fi
}
SP=/sys/kernel/mm/samepage
NE="/with/lib/ld-linux-x86-64.so.2 --library-path /with/lib /with/node_exporter"

/with/hold_pages >/tmp/hold.out &
hold=$!
i=0; while ! grep -q ready /tmp/hold.out && [ $i -lt 100 ]; do sleep 0.1; i=$((i + 1)); done
samepagectl set pages_to_scan=10000 sleep_millisecs=20 run=1
ok "samepagectl wait --pages 127: the 128 identical pages merged" \
	samepagectl wait --pages 127 --timeout 120
ok "samepagectl wait --converged" samepagectl wait --converged --timeout 120
samepagectl set run=0	# nothing moves from here on

mkdir -p /tmp/fsys/kernel/mm /tmp/tf
ln -s $SP /tmp/fsys/kernel/mm/ksm
ok "samepagectl metrics --output into the textfile directory" \
	samepagectl metrics --output /tmp/tf/samepage.prom
echo "@@METRICS-BEGIN@@"
cat /tmp/tf/samepage.prom
echo "@@METRICS-END@@"

ip link set lo up
$NE --web.listen-address=127.0.0.1:9100 --collector.disable-defaults --collector.ksmd \
	--collector.textfile --collector.textfile.directory=/tmp/tf --path.sysfs=/tmp/fsys \
	>/tmp/ne.log 2>&1 &
ne=$!
i=0
while ! wget -q -O /tmp/scrape http://127.0.0.1:9100/metrics 2>/dev/null && [ $i -lt 300 ]; do
	sleep 0.2; i=$((i + 1))
done
ok "node_exporter serves /metrics" test -s /tmp/scrape

# value of the sample "$1" (name and labels exactly) in file $2
val() { awk -v s="$1" '$1 == s { print $2 }' "$2"; }
ksmd_match() {
	rc=0
	for f in full_scans merge_across_nodes pages_shared pages_sharing pages_to_scan \
		 pages_unshared pages_volatile run sleep_millisecs; do
		case $f in
		full_scans) m=node_ksmd_full_scans_total ;;
		sleep_millisecs) m=node_ksmd_sleep_seconds ;;
		*) m=node_ksmd_$f ;;
		esac
		file=$(cat $SP/$f)
		theirs=$(val "$m" /tmp/scrape)
		ours=$(val "$m{ksm=\"samepage\"}" /tmp/scrape)
		# node_exporter prints floats its own way (2e-02, 63); compare numbers
		if ! awk -v a="$theirs" -v b="$ours" -v f="$file" -v s="$f" 'BEGIN {
			if (s == "sleep_millisecs") f = f / 1000
			exit !(a != "" && b != "" && a + 0 == f + 0 && b + 0 == f + 0) }'; then
			echo "$f: sysfs $file, node_exporter ksmd '$theirs', textfile '$ours'"
			rc=1
		fi
	done
	return $rc
}
ok "node_exporter --collector.ksmd --path.sysfs: its 9 values equal samepage's sysfs, and so do the textfile's node_ksmd_*{ksm=\"samepage\"}" \
	ksmd_match
ok "pages_sharing is 127 in both" \
	sh -c "[ \"\$(awk '\$1 == \"node_ksmd_pages_sharing\" {print \$2}' /tmp/scrape)\" = 127 ] &&
	       [ \"\$(cat $SP/pages_sharing)\" = 127 ]"
profit_match() {
	v=$(val samepage_general_profit_bytes /tmp/scrape)
	awk -v a="$v" -v f="$(cat $SP/general_profit)" 'BEGIN { exit !(a != "" && a + 0 == f + 0) }' ||
		{ echo "general_profit $(cat $SP/general_profit), scraped '$v'"; return 1; }
}
ok "the textfile collector serves samepage_general_profit_bytes equal to general_profit" profit_match
ok "both collectors succeeded, the textfile parsed without error" \
	sh -c "grep -qx 'node_scrape_collector_success{collector=\"ksmd\"} 1' /tmp/scrape &&
	       grep -qx 'node_scrape_collector_success{collector=\"textfile\"} 1' /tmp/scrape &&
	       grep -qx 'node_textfile_scrape_error 0' /tmp/scrape"
ok "node_exporter serves the per-process series of hold_pages" \
	grep -q "^samepage_process_merging_pages{comm=\"hold_pages\",pid=\"$hold\"} 128" /tmp/scrape
kill $ne

# samepage.service's ExecStop (dist/samepage-stop), for each SAMEPAGE_ON_STOP;
# busybox's modprobe needs /lib/modules: "modprobe -r" is rmmod here
printf '#!/bin/sh\n[ "$1" = -r ] && exec rmmod "$2"\nexit 1\n' >/tmp/modprobe
chmod +x /tmp/modprobe
stop() { SAMEPAGECTL=samepagectl MODPROBE=/tmp/modprobe SAMEPAGE_ON_STOP=$1 sh /with/samepage-stop; }
stop_stop() { stop stop && [ "$(cat $SP/run)" = 0 ] && [ "$(cat $SP/pages_sharing)" = 127 ]; }
stop_bogus() { ! stop bogus; }
stop_unmerge() { stop unmerge && [ "$(cat $SP/kernel_pages_allocated)" = 0 ]; }
stop_unload() { stop unload && ! grep -q '^samepage ' /proc/modules; }
samepagectl set run=1
ok "samepage-stop, SAMEPAGE_ON_STOP=stop: run=0, pages stay merged" stop_stop
ok "samepage-stop, SAMEPAGE_ON_STOP=bogus: exit 1" stop_bogus
ok "samepage-stop, SAMEPAGE_ON_STOP=unmerge: every page given back" stop_unmerge
kill $hold; wait $hold	# its open /dev/samepage holds the module
ok "samepage-stop, SAMEPAGE_ON_STOP=unload: the module is unloaded" stop_unload
ok "samepage-stop with samepage not loaded: nothing to do, exit 0" stop unload
insmod /samepage.ko
cat /tmp/ne.log | grep -i -e error -e 'level=warn' | head -n 5 | sed 's/^/# node_exporter: /'
echo "1..$n"
[ $failed = 0 ]
