# SPDX-License-Identifier: GPL-2.0
#
# make                 samepage.ko for the running kernel, and samepagectl
# make KVER=6.12.x     ... for another installed kernel (or KDIR=/path/to/build)
# make check           every test: host checks, DKMS, VM tests on 6.1, 6.12,
#                      6.12-trixie, 7.2, 6.12-rt and 6.12-arm64 (what CI runs)
# make check-all       the same on every test kernel (+ 6.1-rt, 6.1/6.12-cloud,
#                      7.2-arm64, and the concurrency tests on the KCSAN
#                      kernel 6.12-kcsan)
# make install         samepagectl, its man page and bash completion
# make install-system  /etc/samepage.conf, the systemd units, the udev rule
# make deb             the Debian packages samepage-dkms and samepage-tools (../)
# make bench [KERNEL=6.1|6.12|7.2|6.12-arm64] [PRESETS="W1 W2 W3 W4"] [BENCH_ARGS=--smoke]
#                      in-tree KSM vs samepage in one VM boot (scripts/bench)

KVER    ?= $(shell uname -r)
KDIR    ?= /lib/modules/$(KVER)/build
PREFIX  ?= /usr/local
DESTDIR ?=
CC      ?= cc
CFLAGS_USER := -std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra -Werror -Iinclude/uapi
SHELL := /bin/bash

TEST_SRCS := $(wildcard tests/*.c)
TEST_BINS := $(patsubst tests/%.c,build/tests/%,$(TEST_SRCS))

VERSION := $(shell cat VERSION)

.PHONY: all module ctl tests userspace-arm64 bench-bins bench-bins-arm64 bench clean check check-all soak install install-system deb modules_install dkms-install dkms-remove

all: module ctl

module:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules

ctl: build/samepagectl

CTL_SRCS := $(wildcard src/ctl/*.c)
CTL_DEPS := $(CTL_SRCS) src/ctl/ctl.h include/uapi/linux/samepage.h VERSION
CTL_FLAGS = $(CFLAGS_USER) -pthread -DSAMEPAGE_VERSION_STR='"$(shell cat VERSION)"'
# the distribution's flags (debian/rules passes dpkg-buildflags' here)
CTL_EXTRA_CFLAGS ?=
CTL_EXTRA_LDFLAGS ?=

build/samepagectl: $(CTL_DEPS)
	@mkdir -p build
	$(CC) $(CTL_FLAGS) $(CTL_EXTRA_CFLAGS) -o $@ $(CTL_SRCS) $(CTL_EXTRA_LDFLAGS)

# Test programs are linked statically: they run inside the VM's busybox
# initramfs, which has no libc.
tests: $(TEST_BINS)

build/tests/%: tests/%.c tests/tap.h tests/sp.h tests/knob.h tests/shell.h tests/cg.h include/uapi/linux/samepage.h
	@mkdir -p build/tests
	$(CC) $(CFLAGS_USER) -static -pthread -o $@ $< -lutil

build/samepagectl.static: $(CTL_DEPS)
	@mkdir -p build
	$(CC) $(CTL_FLAGS) -static -o $@ $(CTL_SRCS)

# The same for an arm64 VM (scripts/vm-run --kernel 6.12-arm64), cross-built
# with the static aarch64 glibc (libc6-dev-arm64-cross): make userspace-arm64
ARM64_CC ?= aarch64-linux-gnu-gcc
ARM64_TEST_BINS := $(patsubst tests/%.c,build/arm64/tests/%,$(TEST_SRCS))
userspace-arm64: build/arm64/samepagectl.static $(ARM64_TEST_BINS)

build/arm64/tests/%: tests/%.c tests/tap.h tests/sp.h tests/knob.h tests/shell.h tests/cg.h include/uapi/linux/samepage.h
	@mkdir -p build/arm64/tests
	$(ARM64_CC) $(CFLAGS_USER) -static -pthread -o $@ $< -lutil

build/arm64/samepagectl.static: $(CTL_DEPS)
	@mkdir -p build/arm64
	$(ARM64_CC) $(CTL_FLAGS) -static -o $@ $(CTL_SRCS)

# The benchmark programs run in the VM too: static, and kept out of tests/
# (everything there is run as a test).
BENCH_BINS := build/bench/spgen build/bench/sprun build/bench/spfork build/bench/spfloor
bench-bins: $(BENCH_BINS)

build/bench/%: bench/%.c bench/bench.h tests/knob.h include/uapi/linux/samepage.h
	@mkdir -p build/bench
	$(CC) $(CFLAGS_USER) -static -o $@ $<

# and for an arm64 VM (scripts/bench --kernel 6.12-arm64)
bench-bins-arm64: $(patsubst build/%,build/arm64/%,$(BENCH_BINS))

build/arm64/bench/%: bench/%.c bench/bench.h tests/knob.h include/uapi/linux/samepage.h
	@mkdir -p build/arm64/bench
	$(ARM64_CC) $(CFLAGS_USER) -static -o $@ $<

# the workload of tests/pkg/exporters.sh (scripts/check-packaging)
build/pkg/hold_pages: tests/pkg/hold_pages.c include/uapi/linux/samepage.h
	@mkdir -p build/pkg
	$(CC) $(CFLAGS_USER) -static -o $@ $<

check:
	scripts/check

# Every test kernel (scripts/kernels tags --all): the rt and cloud flavours
# make check leaves out.
check-all:
	SAMEPAGE_KERNELS="$$(scripts/kernels tags --all) 6.12-debug 6.12-kcsan" scripts/check

# The soak: make soak [DURATION=1800] [KERNEL=6.12] (scripts/soak,
# tests/vm/soak.sh: stress-ng, memtester, a memory cgroup at its limit,
# fuzz_concurrent and knob changes at once, in rounds of 10 minutes with the
# kernel's ksm_tests between them, for DURATION seconds; on 6.12-debug, the
# sanitizer kernel, with 1% of samepage's allocations failing and kmemleak's
# verdict after). make check runs a 180 s form on 6.12.
DURATION ?= 1800
KERNEL ?= 6.12
soak:
	scripts/soak $(KERNEL) $(DURATION)

# The benchmark: make bench [KERNEL=6.12] [PRESETS="W1 W3"] [BENCH_ARGS=--smoke]
PRESETS ?=
BENCH_ARGS ?=
bench: bench-bins
	scripts/bench --kernel $(KERNEL) $(BENCH_ARGS) $(PRESETS)

install: ctl
	install -D -m 0755 build/samepagectl $(DESTDIR)$(PREFIX)/sbin/samepagectl
	install -D -m 0644 doc/samepagectl.8 $(DESTDIR)$(PREFIX)/share/man/man8/samepagectl.8
	install -D -m 0644 doc/samepagectl.bash \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions/samepagectl

# The service side (dist/): config file, systemd units (not enabled), udev
# rule, and the unit's stop helper, with their paths for PREFIX.
SYSCONFDIR ?= /etc
UNITDIR ?= /lib/systemd/system
UDEVRULESDIR ?= /lib/udev/rules.d
LIBEXECDIR ?= $(PREFIX)/libexec/samepage
SUBST = sed -e 's|@SBINDIR@|$(PREFIX)/sbin|g' -e 's|@LIBEXECDIR@|$(LIBEXECDIR)|g'
install-system:
	install -D -m 0644 dist/samepage.conf $(DESTDIR)$(SYSCONFDIR)/samepage.conf
	install -D -m 0644 dist/samepage.default $(DESTDIR)$(SYSCONFDIR)/default/samepage
	install -D -m 0644 dist/60-samepage.rules $(DESTDIR)$(UDEVRULESDIR)/60-samepage.rules
	install -d $(DESTDIR)$(UNITDIR) $(DESTDIR)$(LIBEXECDIR)
	for u in samepage.service samepage-metrics.service samepage-metrics.timer; do \
		$(SUBST) dist/$$u >$(DESTDIR)$(UNITDIR)/$$u && chmod 0644 $(DESTDIR)$(UNITDIR)/$$u || exit 1; \
	done
	$(SUBST) dist/samepage-stop >$(DESTDIR)$(LIBEXECDIR)/samepage-stop
	chmod 0755 $(DESTDIR)$(LIBEXECDIR)/samepage-stop

# Both .debs (no -dbgsym), built by dpkg-buildpackage in the parent
# directory and moved here: make deb && apt install ./samepage-*.deb
DEB_ARCH = $(shell dpkg --print-architecture 2>/dev/null)
DEB_OUT = samepage-dkms_$(VERSION)_$(DEB_ARCH).deb samepage-tools_$(VERSION)_$(DEB_ARCH).deb \
	samepage_$(VERSION)_$(DEB_ARCH).changes samepage_$(VERSION)_$(DEB_ARCH).buildinfo
deb:
	DEB_BUILD_OPTIONS="$(DEB_BUILD_OPTIONS) noautodbgsym" dpkg-buildpackage -us -uc -b
	cd .. && mv $(DEB_OUT) $(CURDIR)/

# Real machines: register with DKMS (rebuilt on every kernel upgrade),
# build and install for the running kernel, install samepagectl.
dkms-install: install
	scripts/install-source /usr/src/samepage-$(VERSION)
	dkms add -m samepage -v $(VERSION) 2>/dev/null || dkms status -m samepage -v $(VERSION) | grep -q samepage
	dkms install -m samepage -v $(VERSION)

dkms-remove:
	dkms remove -m samepage -v $(VERSION) --all
	rm -rf /usr/src/samepage-$(VERSION)

modules_install:
	$(MAKE) -C $(KDIR) M=$(CURDIR) modules_install

clean:
	-$(MAKE) -C $(KDIR) M=$(CURDIR) clean 2>/dev/null
	rm -rf build
	rm -rf debian/.debhelper debian/samepage-dkms debian/samepage-tools debian/files \
		debian/*.substvars debian/*.debhelper debian/*.debhelper.log \
		debian/debhelper-build-stamp $(DEB_OUT)
