# SPDX-License-Identifier: GPL-2.0
# shellcheck shell=bash
# scripts/lib.sh: shell helpers the scripts share (sourced, not run).

# chroot_run ROOT CMD...: CMD inside the chroot ROOT, with a /proc of its own
# in a private mount namespace (nothing stays mounted on the host).
chroot_run() {
	local root=$1
	shift
	unshare -m --propagation private -- sh -c \
		'mount -t proc proc "$0/proc" && exec chroot "$0" "$@"' "$root" "$@"
}

# chroot_run_over ROOT TREE CMD...: chroot_run with TREE/usr/src laid over
# ROOT's /usr/src (a read-only overlay, TREE's files first, in the same
# private namespace): headers unpacked outside the chroot are seen at their
# packaged paths inside it, and the chroot itself is not changed.
chroot_run_over() {
	local root=$1 tree=$2
	shift 2
	unshare -m --propagation private -- sh -c \
		'mount -t overlay overlay -o ro,lowerdir="$1/usr/src:$0/usr/src" "$0/usr/src" &&
		 mount -t proc proc "$0/proc" && shift && exec chroot "$0" "$@"' "$root" "$tree" "$@"
}

# host_mirror: the Debian mirror the host's apt uses (its first source that
# is not a security, nodesource or google one), or SAMEPAGE_MIRROR if set.
host_mirror() {
	local m
	if [ -n "${SAMEPAGE_MIRROR:-}" ]; then echo "$SAMEPAGE_MIRROR"; return; fi
	m=$(grep -h -E '^(URIs:|deb )' /etc/apt/sources.list.d/*.sources \
		/etc/apt/sources.list 2>/dev/null | grep -v -e security -e nodesource \
		-e google | head -n1 | sed -E 's/^URIs: *//; s/^deb +(\[[^]]*\] +)?//; s/ .*//')
	echo "${m:-http://deb.debian.org/debian}"
}

# TAP output. tap_point ok|fail|skip DESC [REASON] prints the next point and
# counts it: TAP_N in all, TAP_PASSED, TAP_FAILED and TAP_SKIPPED, and each
# failed one's "N - DESC" in the array TAP_FAILURES. tap_cmd DESC OUT LINES
# CMD... is one point for CMD's exit status: CMD's output goes to the file
# OUT, and its last LINES lines follow a failure as comments.
TAP_N=0 TAP_PASSED=0 TAP_FAILED=0 TAP_SKIPPED=0
TAP_FAILURES=()
tap_point() {
	TAP_N=$((TAP_N + 1))
	case $1 in
	ok) TAP_PASSED=$((TAP_PASSED + 1)); echo "ok $TAP_N - $2" ;;
	skip) TAP_SKIPPED=$((TAP_SKIPPED + 1)); echo "ok $TAP_N - $2 # SKIP $3" ;;
	*) TAP_FAILED=$((TAP_FAILED + 1)); TAP_FAILURES+=("$TAP_N - $2")
	   echo "not ok $TAP_N - $2" ;;
	esac
}
tap_cmd() {
	local desc=$1 out=$2 lines=$3
	shift 3
	if "$@" >"$out" 2>&1; then
		tap_point ok "$desc"
	else
		tap_point fail "$desc"
		tail -n "$lines" "$out" | sed 's/^/# /'
	fi
}

# tap_fold PREFIX < TAP: a sub-check's TAP stream as points of this one,
# each description after PREFIX; its SKIPs stay skips, its comments pass.
tap_fold() {
	local line desc
	while IFS= read -r line; do
		case $line in
		"not ok"*) desc=${line#not ok}; desc=${desc#"${desc%%[! 0-9]*}"}; desc=${desc#- }
			tap_point fail "${1:+$1 }${desc# }" ;;
		"ok"*) desc=${line#ok}; desc=${desc#"${desc%%[! 0-9]*}"}; desc=${desc#- }
			if [[ $desc == *"# SKIP"* ]]; then
				desc=${desc# }
				tap_point skip "${1:+$1 }${desc%% # SKIP*}" "${desc##*# SKIP }"
			else
				tap_point ok "${1:+$1 }${desc# }"
			fi ;;
		"#"*) echo "$line" ;;
		esac
	done
}
