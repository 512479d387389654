#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# spqemu.sh DIR N: the generator of the bench's Q1 preset, a clone storm:
# N QEMU guests restored from one snapshot (DIR as scripts/bench-q1 makes
# it), left paused, as a host restores a fleet of VMs from one image. QEMU
# itself maps each guest's RAM with MADV_MERGEABLE and MADV_HUGEPAGE.
#
# Speaks sprun's generator protocol: prints "ready" once every guest has
# loaded the snapshot; answers "cow N" with "cow n=0" (no copy-on-write
# timing here: the guests stay paused); on "quit" or end of input stops the
# guests and exits.
set -eu
DIR=${1:?usage: spqemu.sh DIR N} N=${2:?usage: spqemu.sh DIR N}
Q=$DIR/qemu G=$DIR/guest
run=$(mktemp -d /tmp/spqemu.XXXXXX)
pids=

stop() {
	for p in $pids; do kill "$p" 2>/dev/null || true; done
	for p in $pids; do wait "$p" 2>/dev/null || true; done
	rm -rf "$run"
}
trap stop EXIT

args=$(sed "s|@G|$G|g" "$G/args")
i=0
while [ $i -lt "$N" ]; do
	mkfifo "$run/mon$i"
	# the monitor reads a FIFO this shell keeps open on fd 3+i
	# shellcheck disable=SC2086
	QEMU_MODULE_DIR=$Q/modules "$Q/lib/ld-linux-x86-64.so.2" --library-path "$Q/lib" "$Q/qemu-system-x86_64" \
		-L "$Q/fw" $args -serial null -monitor stdio -S \
		-incoming "exec:cat $G/snap" <"$run/mon$i" >"$run/out$i" 2>&1 &
	pids="$pids $!"
	eval "exec $((i + 3))>\"$run/mon$i\""
	i=$((i + 1))
done

# every guest loaded: its monitor reports the incoming migration completed
t=0
while :; do
	done_n=0 i=0
	while [ $i -lt "$N" ]; do
		eval "echo 'info migrate' >&$((i + 3))"
		grep -q "Migration status: completed" "$run/out$i" && done_n=$((done_n + 1))
		i=$((i + 1))
	done
	[ $done_n = "$N" ] && break
	for p in $pids; do
		kill -0 "$p" 2>/dev/null && continue
		echo "spqemu: a guest's QEMU died:" >&2
		cat "$run"/out* >&2
		exit 1
	done
	t=$((t + 1))
	[ $t -lt 600 ] || { echo "spqemu: the guests did not load in 600 s" >&2; exit 1; }
	sleep 1
done
echo ready
while read -r cmd _; do
	case $cmd in
	cow) echo "cow n=0" ;;
	quit) break ;;
	esac
done
