#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Inside the VM: samepage loads and unloads cleanly, a missing required
# symbol fails the load by name, and the CLI sees the loaded module.
# Runs with samepage loaded (vm-run's default).
n=0 failed=0
ok() {	# ok DESC CMD...: one TAP line for CMD's status
	desc=$1; shift
	n=$((n + 1))
	if "$@" >/tmp/ok.out 2>&1; then echo "ok $n - $desc"
	else echo "not ok $n - $desc"; sed 's/^/# /' /tmp/ok.out; failed=$((failed + 1)); fi
}
echo "TAP version 13"
echo "1..12"
ok "samepage is loaded" grep -q '^samepage ' /proc/modules
ok "/sys/kernel/mm/samepage has run, pages_to_scan, sleep_millisecs" \
	test -f /sys/kernel/mm/samepage/run -a -f /sys/kernel/mm/samepage/pages_to_scan \
	-a -f /sys/kernel/mm/samepage/sleep_millisecs
ok "samepagectl version names ABI 1" sh -c 'samepagectl version | grep -q "(ABI 1)"'
ok "samepagectl status shows both trees" \
	sh -c 'samepagectl status | grep -qE "^pages_to_scan +100 +100$"'
ok "samepagectl status --json has both trees" \
	sh -c 'samepagectl status --json | grep -q "\"samepage\": {.*\"ksm\": {"'
ok "samepagectl rejects an unknown argument with exit 2" \
	sh -c 'samepagectl status --bogus; test $? = 2'
ok "rmmod samepage" rmmod samepage
ok "sysfs tree and device are gone" \
	sh -c '! test -e /sys/kernel/mm/samepage -o -e /dev/samepage'
ok "samepagectl status says not loaded, exit 1" \
	sh -c 'samepagectl status 2>&1 | grep -q "samepage is not loaded"; samepagectl status 2>/dev/null; test $? = 1'
ok "insmod with a missing required symbol fails" \
	sh -c '! insmod /samepage.ko require_symbol=samepage_no_such_symbol'
ok "the failure names the symbol" \
	sh -c 'dmesg | grep -q "required kernel symbol .samepage_no_such_symbol. not found"'
i=0
cycle() { while [ $i -lt 20 ]; do insmod /samepage.ko && rmmod samepage || return 1; i=$((i + 1)); done; insmod /samepage.ko; }
ok "20 insmod/rmmod cycles, then loaded again" cycle
[ $failed = 0 ]
