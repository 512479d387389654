# SPDX-License-Identifier: GPL-2.0
# scripts/lib.sh: shell helpers the scripts share (sourced, not run).

# chroot_run ROOT CMD...: CMD inside the chroot ROOT, with a /proc of its own
# in a private mount namespace (nothing stays mounted on the host).
chroot_run() {
	local root=$1
	shift
	unshare -m --propagation private -- sh -c \
		'mount -t proc proc "$0/proc" && exec chroot "$0" "$@"' "$root" "$@"
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
