# Build, install and test libxsk_rs, the C ABI of xsk_rs.
#
#   make                                  release build: libxsk_rs.a (cargo rustc, LTO), libxsk_rs.so
#                                         linked from it with abi/xsk_rs.map's symbol versions (in
#                                         build/lib), and libxsk_rs-compat
#   make install [PREFIX=] [DESTDIR=]     install .so (+ soname and dev links), .a, header, .pc,
#                                         and libxsk_rs-compat (libxdp's xdp/xsk.h API: its .so,
#                                         headers under include/xsk_rs-compat/xdp/, xsk_rs-compat.pc)
#   make uninstall [PREFIX=] [DESTDIR=]   remove exactly what install put there
#   make compat                           build libxsk_rs-compat (compat/) against the release build
#   make check-header                     fail if include/xsk_rs.h is stale
#   make abi-check                        the libraries against the last release's ABI (abi/: libabigail's
#                                         abidw/abidiff, Debian's abigail-tools); see abi/check.py
#   make abi-baseline                     a release's step before its tag: record its ABI in abi/
#   make lint                             cargo clippy --all-targets -D warnings (without and with
#                                         the tokio feature), cargo fmt --check
#   make package                          cargo doc with -D warnings (without and with the tokio
#                                         feature), cargo package (builds the
#                                         packaged crate alone); outside CI a dirty tree is allowed
#   make test                             header check, lint, package, abi-check, cargo test (unit, doc, veth, selftest
#                                         scenarios, SIGKILL trials, 60 s soak per mode, short
#                                         fuzz), the tokio feature's veth tests and doc examples,
#                                         loom, install to a temporary prefix,
#                                         exported-symbol and version check, C tests (plain, ASan+UBSan,
#                                         valgrind, helgrind), then the C examples, Go and Python
#                                         bindings built against that prefix only, on veth; then
#                                         tests/compat: libxdp programs built against Debian's
#                                         libxdp and against libxsk_rs-compat, same results on veth
#                                         then make deb, and tests/deb: the packages installed with
#                                         dpkg -i, the README example and pip install ./bindings/python
#                                         used as a system library, then purged, nothing left
#   make test-kernels [KERNELS=6.1|6.12]  the focused suite of tests/kernels/suite (veth, selftest
#                                         scenarios, SIGKILL, C ABI tests) inside Debian's 6.1 and
#                                         6.12 cloud kernels under qemu, on veth pairs in the guest;
#                                         installs qemu & co. with apt-get, caches the kernels in
#                                         build/kernels (tests/kernels/run.sh lists its knobs)
#   make soak                             the long variants: a 10-minute soak per XDP mode
#                                         (SOAK_SECS=), 10^6 cases per property (FUZZ_CASES=), loom
#   make deb                              Debian packages in build/deb: libxsk-rs0, libxsk-rs-dev,
#                                         libxsk-rs-compat0, libxsk-rs-compat-dev (dpkg-deb, lintian)
#   make demo                             install to build/demo-prefix, run c-examples/demo.sh
#                                         (xsk_bench txonly -> veth -> xsk_bench rxdrop)
#   make bench                            libxdp against xsk_rs on the same work in one run
#                                         (bench/run.sh: throughput, set-up time, instructions
#                                         per packet, of the ring API and of the packet layer
#                                         from C and from Rust (examples/bench_pkt.rs), Go and
#                                         Python against C); rewrites BENCHMARKS.md and
#                                         bench/mpps.png. BENCH_QUICK=1: a short smoke run whose
#                                         report stays in build/bench. Includes DPDK's AF_XDP PMD
#                                         (dpdk-testpmd rxonly, txonly, macswap) against the packet
#                                         layer's rxdrop, txonly and l2fwd. BENCH_STEPS=dpdk (or any
#                                         of rate,setup,ipp,go,py,dpdk,busy): only those steps, report in
#                                         build/bench. BENCH_BUILDS=libxdp,compat (or any of libxdp,
#                                         compat,span,batch,desc,pkt,pkt-rust): only those xskbench
#                                         builds in rate and ipp (compat: libxdp's API on
#                                         xsk_rs-compat), report in build/bench
#   make bench-go                         Go rxdrop against C on the same veth pair: the ring-level
#                                         example against xsk_bench rxdrop, then the packet
#                                         layer's against xskbench's packet build
#   make bench-py                         Python rxdrop (zero-copy batch, recv_packed) against C
#                                         xskbench rxdrop on the packet layer, same veth pair
#   make clean

PREFIX ?= /usr/local
DESTDIR ?=
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
CARGO ?= cargo
INSTALL ?= install
# Refreshes the loader cache after (un)installing into the live system; not run
# with DESTDIR (a staging tree) or when set empty (`make install LDCONFIG=`).
LDCONFIG ?= ldconfig
TEST_THREADS ?= 2
# make soak: seconds of traffic per XDP mode, and property-test cases.
SOAK_SECS ?= 600
FUZZ_CASES ?= 1000000

LIB := xsk_rs
# The [package] version, e.g. 0.1.0; its first field is the soname's major,
# exactly as build.rs derives it from CARGO_PKG_VERSION_MAJOR.
VERSION := $(shell awk -F'"' '/^\[/ { p = ($$0 == "[package]") } p && /^version *=/ { print $$2; exit }' Cargo.toml)
MAJOR := $(firstword $(subst ., ,$(VERSION)))
ifeq ($(strip $(MAJOR)),)
$(error could not read the package version from Cargo.toml)
endif
REALNAME := lib$(LIB).so.$(VERSION)
SONAME := lib$(LIB).so.$(MAJOR)
DEVNAME := lib$(LIB).so

TARGET_DIR := $(or $(CARGO_TARGET_DIR),target)
RELEASE_DIR := $(TARGET_DIR)/release
BUILD := build
# libxsk_rs.so as installed: the real name, the soname and the dev links.
LIB_BUILD := $(BUILD)/lib
VERSION_SCRIPT := abi/xsk_rs.map
TEST_PREFIX := $(CURDIR)/$(BUILD)/test-prefix
DEMO_PREFIX := $(CURDIR)/$(BUILD)/demo-prefix
BENCH_PREFIX := $(CURDIR)/$(BUILD)/bench-prefix
KERNELS_PREFIX := $(CURDIR)/$(BUILD)/kernels/prefix

# The .pc stays relocatable when the directories sit under the prefix.
PC_LIBDIR = $(patsubst $(PREFIX)/%,$${prefix}/%,$(LIBDIR))
PC_INCLUDEDIR = $(patsubst $(PREFIX)/%,$${prefix}/%,$(INCLUDEDIR))

INSTALLED := $(LIBDIR)/$(REALNAME) $(LIBDIR)/$(SONAME) $(LIBDIR)/$(DEVNAME) \
	$(LIBDIR)/lib$(LIB).a $(INCLUDEDIR)/$(LIB).h $(PKGCONFIGDIR)/$(LIB).pc

# libxsk_rs-compat: libxdp's AF_XDP API (xdp/xsk.h, a subset of xdp/libxdp.h)
# in C on libxsk_rs's public C ABI, versioned like libxsk_rs. Its headers get
# a directory of their own, so that they never shadow a real libxdp's.
COMPAT := $(LIB)-compat
COMPAT_REALNAME := lib$(COMPAT).so.$(VERSION)
COMPAT_SONAME := lib$(COMPAT).so.$(MAJOR)
COMPAT_DEVNAME := lib$(COMPAT).so
COMPAT_BUILD := $(BUILD)/compat
COMPAT_SRCS := $(wildcard compat/*.c)
COMPAT_HEADERS := compat/include/xdp/xsk.h compat/include/xdp/libxdp.h
COMPAT_INCLUDEDIR = $(INCLUDEDIR)/$(COMPAT)
# -Wl,-z,defs: every symbol resolved against libxsk_rs and libc at link time.
# The version script exports libxdp's names only. XSK_RS_COMPAT_NO_LIBBPF:
# the library itself never sees libbpf's headers.
COMPAT_CFLAGS := -std=gnu11 -D_GNU_SOURCE -DXSK_RS_COMPAT_NO_LIBBPF -O2 -g -fPIC -pthread \
	-Wall -Wextra -Werror -pedantic -Iinclude -Icompat/include
COMPAT_LDFLAGS := -shared -Wl,-soname,$(COMPAT_SONAME) -Wl,--version-script=compat/compat.map \
	-Wl,-z,defs -Wl,-z,now -L$(LIB_BUILD) -l$(LIB)
COMPAT_INSTALLED := $(LIBDIR)/$(COMPAT_REALNAME) $(LIBDIR)/$(COMPAT_SONAME) $(LIBDIR)/$(COMPAT_DEVNAME) \
	$(addprefix $(COMPAT_INCLUDEDIR)/xdp/,$(notdir $(COMPAT_HEADERS))) $(PKGCONFIGDIR)/$(COMPAT).pc

# Tools `make test` needs; each missing one is an error, never a skip.
TEST_TOOLS := $(CARGO) cc g++ pkg-config nm readelf ip valgrind go python3 tcpdump abidw abidiff \
	dpkg-deb dpkg-shlibdeps dpkg-architecture lintian

.PHONY: lint package all release staticlib shared compat abi-check abi-baseline deb install uninstall check-header test test-tools test-kernels loom soak demo bench bench-go bench-py clean

all: release compat

release: shared

# The static archive and its Libs.private come from one rustc run. rustc prints
# the system libraries a staticlib needs only when asked (--print
# native-static-libs), and cargo replays that note when the unit is fresh, so
# this is cheap after the first time. Built as a staticlib-only unit (Cargo.toml's
# crate-type is the rlib alone), so the release profile's LTO applies to it,
# which makes the archive about a third of the size; `shared` links the .so
# from it.
staticlib:
	@mkdir -p $(BUILD)
	$(CARGO) rustc --release --lib --crate-type staticlib -- --print native-static-libs \
		2>$(BUILD)/staticlib.log || { cat $(BUILD)/staticlib.log >&2; exit 1; }
	@libs=$$(sed -n 's/^note: native-static-libs: //p' $(BUILD)/staticlib.log | tail -n 1); \
	if [ -z "$$libs" ]; then \
		echo "error: rustc printed no native-static-libs; see $(BUILD)/staticlib.log" >&2; \
		exit 1; \
	fi; \
	printf '%s\n' "$$libs" >$(BUILD)/native-static-libs; \
	echo "Libs.private: $$libs"
	cp $(RELEASE_DIR)/lib$(LIB).a $(BUILD)/lib$(LIB).a

# The shared library is linked here, from that archive, rather than by cargo:
# rustc hands the linker a version script of its own for a cdylib (every
# #[no_mangle] symbol, unversioned), and GNU ld then ignores a second one, so
# abi/xsk_rs.map could not version a single symbol. --whole-archive keeps
# every object, the map exports the xsk_rs_* functions with their versions and
# makes everything else (the Rust standard library included) local, and
# --gc-sections drops what no exported function reaches. The flags rustc would
# pass are kept: full RELRO (-z relro -z now), no undefined symbol (-z defs).
# --no-undefined-version: a map entry without its function is an error.
SHARED_LDFLAGS := -shared -Wl,-soname,$(SONAME) -Wl,--version-script=$(VERSION_SCRIPT) \
	-Wl,--no-undefined-version -Wl,-z,defs -Wl,-z,relro -Wl,-z,now -Wl,--gc-sections -Wl,--as-needed
shared: staticlib
	@mkdir -p $(LIB_BUILD)
	$(CC) -o $(LIB_BUILD)/$(REALNAME) -Wl,--whole-archive $(BUILD)/lib$(LIB).a -Wl,--no-whole-archive \
		$(SHARED_LDFLAGS) $$(cat $(BUILD)/native-static-libs)
	ln -sfn $(REALNAME) $(LIB_BUILD)/$(SONAME)
	ln -sfn $(REALNAME) $(LIB_BUILD)/$(DEVNAME)

# Always relinked (five small files): it must follow the libxsk_rs just built.
compat: shared
	@mkdir -p $(COMPAT_BUILD)
	$(CC) $(COMPAT_CFLAGS) $(COMPAT_SRCS) -o $(COMPAT_BUILD)/$(COMPAT_REALNAME) $(COMPAT_LDFLAGS)

install: shared compat
	$(INSTALL) -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(INCLUDEDIR) $(DESTDIR)$(PKGCONFIGDIR)
	$(INSTALL) -m 755 $(LIB_BUILD)/$(REALNAME) $(DESTDIR)$(LIBDIR)/$(REALNAME)
	ln -sfn $(REALNAME) $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sfn $(REALNAME) $(DESTDIR)$(LIBDIR)/$(DEVNAME)
	$(INSTALL) -m 644 $(BUILD)/lib$(LIB).a $(DESTDIR)$(LIBDIR)/lib$(LIB).a
	$(INSTALL) -m 644 include/$(LIB).h $(DESTDIR)$(INCLUDEDIR)/$(LIB).h
	sed -e 's|@PREFIX@|$(PREFIX)|g' \
		-e 's|@LIBDIR@|$(PC_LIBDIR)|g' \
		-e 's|@INCLUDEDIR@|$(PC_INCLUDEDIR)|g' \
		-e 's|@VERSION@|$(VERSION)|g' \
		-e "s|@LIBS_PRIVATE@|$$(cat $(BUILD)/native-static-libs)|g" \
		pkgconfig/$(LIB).pc.in >$(BUILD)/$(LIB).pc
	$(INSTALL) -m 644 $(BUILD)/$(LIB).pc $(DESTDIR)$(PKGCONFIGDIR)/$(LIB).pc
	$(INSTALL) -d $(DESTDIR)$(COMPAT_INCLUDEDIR)/xdp
	$(INSTALL) -m 755 $(COMPAT_BUILD)/$(COMPAT_REALNAME) $(DESTDIR)$(LIBDIR)/$(COMPAT_REALNAME)
	ln -sfn $(COMPAT_REALNAME) $(DESTDIR)$(LIBDIR)/$(COMPAT_SONAME)
	ln -sfn $(COMPAT_REALNAME) $(DESTDIR)$(LIBDIR)/$(COMPAT_DEVNAME)
	$(INSTALL) -m 644 $(COMPAT_HEADERS) $(DESTDIR)$(COMPAT_INCLUDEDIR)/xdp/
	sed -e 's|@PREFIX@|$(PREFIX)|g' \
		-e 's|@LIBDIR@|$(PC_LIBDIR)|g' \
		-e 's|@INCLUDEDIR@|$(PC_INCLUDEDIR)|g' \
		-e 's|@VERSION@|$(VERSION)|g' \
		pkgconfig/$(COMPAT).pc.in >$(BUILD)/$(COMPAT).pc
	$(INSTALL) -m 644 $(BUILD)/$(COMPAT).pc $(DESTDIR)$(PKGCONFIGDIR)/$(COMPAT).pc
	$(if $(DESTDIR),,$(if $(LDCONFIG),-$(LDCONFIG)))

# The compat include directories go too, if nothing else was put in them.
uninstall:
	rm -f $(addprefix $(DESTDIR),$(INSTALLED) $(COMPAT_INSTALLED))
	-rmdir $(DESTDIR)$(COMPAT_INCLUDEDIR)/xdp $(DESTDIR)$(COMPAT_INCLUDEDIR) 2>/dev/null
	$(if $(DESTDIR),,$(if $(LDCONFIG),-$(LDCONFIG)))

check-header:
	XSK_RS_HEADER_CHECK=1 $(CARGO) build

# The ABI check (abi/check.py): the libraries just built against the last
# release's, as libabigail describes them (abi/*.abi), and the headers'
# #define values (abi/*.constants). A removed or changed function, struct or
# constant, or a function added to a released version node or moved between
# nodes, fails it unless the soname changed; a struct with sz first may grow at
# its end. Additions are listed. A release commit (abi/BASELINE is its version)
# must equal its own baseline exactly and pass against the previous release's,
# taken from its tag. Its own test first (tests/abi).
ABI_BASELINE := abi/$(LIB).abi
COMPAT_ABI_BASELINE := abi/$(COMPAT).abi
ABI_ARGS := --header include/$(LIB).h $(ABI_BASELINE) $(LIB_BUILD)/$(REALNAME)
COMPAT_ABI_ARGS := --headers-dir compat/include $(addprefix --header ,$(COMPAT_HEADERS)) \
	$(COMPAT_ABI_BASELINE) $(COMPAT_BUILD)/$(COMPAT_REALNAME)
abi-check: shared compat
	bash tests/abi/selftest.sh
	python3 abi/check.py --release $(VERSION) $(ABI_ARGS)
	python3 abi/check.py --release $(VERSION) $(COMPAT_ABI_ARGS)

# A release's step, before its tag (README: "Versions and the ABI"): what it
# builds becomes the baseline, and abi/BASELINE names it;
# tests/check-version.sh holds the baseline to the last release.
abi-baseline: shared compat
	python3 abi/check.py --write $(ABI_ARGS)
	python3 abi/check.py --write $(COMPAT_ABI_ARGS)
	echo $(VERSION) >abi/BASELINE

test-tools:
	@for t in $(TEST_TOOLS); do \
		command -v $$t >/dev/null 2>&1 || { echo "error: make test needs '$$t', which is not installed" >&2; exit 1; }; \
	done

# Installs into a scratch prefix with every directory given explicitly, so a
# LIBDIR=... on the outer command line cannot send the test install elsewhere.
TEST_INSTALL = $(MAKE) install DESTDIR= LDCONFIG= \
	LIBDIR=$(1)/lib INCLUDEDIR=$(1)/include PKGCONFIGDIR=$(1)/lib/pkgconfig PREFIX=$(1)

# The ring's loom models: the same ring code with loom's atomics and cells
# (cfg(loom) swaps only those), in their own target dir so the --cfg does not
# invalidate the normal build. The models are small enough to explore fully.
loom:
	RUSTFLAGS="--cfg loom" CARGO_TARGET_DIR=$(TARGET_DIR)/loom $(CARGO) test --release --lib loom

# cargo test runs, among the rest, the selftest scenarios (tests/conformance.rs),
# the SIGKILL trials (tests/crash.rs), a 60 s soak per mode (tests/soak.rs;
# XSK_RS_SOAK_SECS) and 256 cases of each property test (PROPTEST_CASES).
test: test-tools check-header lint package abi-check
	$(CARGO) test -- --test-threads=$(TEST_THREADS)
	$(CARGO) test --features tokio --test async_packet -- --test-threads=$(TEST_THREADS)
	$(CARGO) test --features tokio --doc async_io
	$(MAKE) loom
	rm -rf $(TEST_PREFIX)
	$(call TEST_INSTALL,$(TEST_PREFIX))
	bash tests/check-exports.sh $(TEST_PREFIX)/lib/$(REALNAME) $(VERSION_SCRIPT) $(TEST_PREFIX)/include/$(LIB).h
	bash tests/check-exports.sh $(TEST_PREFIX)/lib/$(COMPAT_REALNAME) compat/compat.map
	bash tests/check-version.sh $(TEST_PREFIX) $(VERSION)
	bash tests/c/run.sh $(TEST_PREFIX)
	bash tests/compat/run.sh $(TEST_PREFIX)
	bash tests/reach/run.sh $(TEST_PREFIX)
	$(MAKE) deb
	bash tests/deb/run.sh $(DEB_DIR)

# Style gates, first in make test: any clippy warning or unformatted file fails it.
# Twice: the tokio feature's code (src/packet/async_io.rs, its test and example)
# builds only with the feature.
lint:
	$(CARGO) clippy --all-targets -- -D warnings
	$(CARGO) clippy --all-targets --features tokio -- -D warnings
	$(CARGO) fmt --check

# The crate as crates.io would get it: docs without a warning, then `cargo
# package`, which builds the packaged copy alone (so a file the build needs but
# Cargo.toml's include leaves out fails here) in the same target dir, so after
# check-header only the crate itself compiles again. CI packages its clean clone
# as is; elsewhere uncommitted edits are allowed, so make test runs before a commit.
PACKAGE_FLAGS ?= $(if $(filter true 1,$(CI)),,--allow-dirty)
package:
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --no-deps
	RUSTDOCFLAGS="-D warnings" $(CARGO) doc --no-deps --features tokio
	$(CARGO) package $(PACKAGE_FLAGS)

# The C tests are built in the guest's image against this prefix, as in make test.
test-kernels:
	rm -rf $(KERNELS_PREFIX)
	$(call TEST_INSTALL,$(KERNELS_PREFIX))
	bash tests/kernels/run.sh $(KERNELS_PREFIX)

soak:
	XSK_RS_SOAK_SECS=$(SOAK_SECS) $(CARGO) test --release --test soak -- --test-threads=2 --nocapture
	PROPTEST_CASES=$(FUZZ_CASES) $(CARGO) test --release --test fuzz -- --test-threads=$(TEST_THREADS)
	PROPTEST_CASES=$(FUZZ_CASES) $(CARGO) test --release --lib ring::tests -- --test-threads=$(TEST_THREADS)
	$(MAKE) loom

demo: all
	rm -rf $(DEMO_PREFIX)
	$(call TEST_INSTALL,$(DEMO_PREFIX))
	bash c-examples/demo.sh $(DEMO_PREFIX)

# Debian packages (pkg/deb/build.sh): the install staged with Debian's
# multiarch layout, split into libxsk-rs0, libxsk-rs-dev and the compat pair,
# built with dpkg-deb and checked by lintian. tests/deb/run.sh installs them.
DEB_DIR := $(BUILD)/deb
DEB_STAGE := $(CURDIR)/$(BUILD)/deb-stage
deb: shared staticlib compat
	@command -v dpkg-architecture >/dev/null || { echo "error: make deb needs dpkg-dev (dpkg-architecture, dpkg-shlibdeps)" >&2; exit 1; }
	rm -rf $(DEB_DIR) $(DEB_STAGE)
	ma=$$(dpkg-architecture -qDEB_HOST_MULTIARCH) && \
	$(MAKE) install DESTDIR=$(DEB_STAGE) PREFIX=/usr LIBDIR=/usr/lib/$$ma INCLUDEDIR=/usr/include \
		PKGCONFIGDIR=/usr/lib/$$ma/pkgconfig LDCONFIG=
	bash pkg/deb/build.sh $(DEB_STAGE) $(DEB_DIR) $(VERSION)

BENCH_QUICK ?=
BENCH_STEPS ?=
BENCH_BUILDS ?=
bench: all
	rm -rf $(BENCH_PREFIX)
	$(call TEST_INSTALL,$(BENCH_PREFIX))
	bash bench/run.sh $(BENCH_PREFIX) $(if $(BENCH_QUICK),-q) $(if $(BENCH_STEPS),-s $(BENCH_STEPS)) \
		$(if $(BENCH_BUILDS),-B $(BENCH_BUILDS))

bench-go: all
	rm -rf $(BENCH_PREFIX)
	$(call TEST_INSTALL,$(BENCH_PREFIX))
	bash bench/go_rxdrop.sh $(BENCH_PREFIX) -a batch
	bash bench/go_rxdrop.sh $(BENCH_PREFIX) -a pkt

bench-py: all
	rm -rf $(BENCH_PREFIX)
	$(call TEST_INSTALL,$(BENCH_PREFIX))
	bash bench/py_rxdrop.sh $(BENCH_PREFIX)

clean:
	$(CARGO) clean
	$(MAKE) -C c-examples clean
	rm -rf $(BUILD)
