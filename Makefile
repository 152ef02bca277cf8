# SPDX-License-Identifier: GPL-2.0
#
# sgbuf - top-level entry points. `make help` lists them.

TOP := $(abspath $(dir $(lastword $(MAKEFILE_LIST))))
KVER ?= $(shell uname -r)

.PHONY: demo bench fuzz help deps modules lib tests lint check check-debug check-harness install \
	install-lib dkms-install clean

help:
	@echo "sgbuf - scatter-gather dma-buf exporter (see README.md)"
	@echo
	@echo "  make demo           the main job: installs missing Debian packages, builds,"
	@echo "                      boots Debian 6.12 in QEMU, loads sgbuf and runs"
	@echo "                      'dmabuf pipe' (producer -> DMA consumer -> consumer)"
	@echo "                      and 'dmabuf list', then prints a short report"
	@echo "  make check          every test on every kernel: installs missing Debian"
	@echo "                      packages, runs the static checks, boots Debian 6.1 and"
	@echo "                      6.12 in QEMU (default, swiotlb=force, intel-iommu) and"
	@echo "                      runs the selftests, then the debug lane (below);"
	@echo "                      ends with 'N passed, N failed'"
	@echo "  make check-debug    the debug lane alone: builds a 6.12 debug kernel from"
	@echo "                      linux-source-6.12 (KASAN, lockdep, kmemleak, DMA-API"
	@echo "                      debug, fault injection; ~20 min the first time, then"
	@echo "                      cached in ~/.cache/sgbuf) and runs the suite, the"
	@echo "                      fail-nth sweeps and a fuzz run on it"
	@echo "  make bench          sgbuf against the system heap, udmabuf and vgem in the"
	@echo "                      same guest boots (6.12 x3, 6.12 swiotlb=force, 6.1);"
	@echo "                      writes build/bench/report.md and report.json"
	@echo "  make fuzz           sgbuf_fuzz, a structure-aware ioctl fuzzer, for"
	@echo "                      SGBUF_FUZZ_CALLS calls (1000000) on the debug kernel if"
	@echo "                      built, else 6.12; on a splat or a violation it writes"
	@echo "                      build/fuzz/crash-*.txt, which SGBUF_FUZZ_REPLAY=<file>"
	@echo "                      replays (see scripts/fuzz.sh)"
	@echo "  make deps           install the Debian packages the build and tests need"
	@echo "  make modules        build sgbuf.ko for both test kernels (W=1 C=1)"
	@echo "  make lib            build libdmabuf and the dmabuf tool (build/libdmabuf)"
	@echo "  make tests          build the selftests into build/tests"
	@echo "  make lint           checkpatch --strict, kernel-doc, uapi header test"
	@echo "  make check-harness  self-test of the QEMU guest harness"
	@echo "  make install        build and install sgbuf.ko for KVER (default: running"
	@echo "                      kernel) and the uapi header; run as root"
	@echo "  make install-lib    install libdmabuf, its header, pkg-config file, man"
	@echo "                      pages and the dmabuf tool under /usr/local"
	@echo "  make dkms-install   register the module with DKMS (needs dkms)"
	@echo "  make clean          remove build/"
	@echo
	@echo "Variables: KVER=<kernel version> for install; SGBUF_KERNELS and"
	@echo "SGBUF_VARIANTS narrow 'make check' (see scripts/check.sh)."

demo:
	@scripts/demo.sh

bench:
	@scripts/bench.sh

fuzz:
	@scripts/fuzz.sh

deps:
	@scripts/install-deps.sh

modules: deps
	@. selftests/vm/kernels.sh && for k in $$KVER_61 $$KVER_612; do \
		$(MAKE) -C kernel KVER=$$k W=1 C=1 || exit 1; done

lib: deps
	@scripts/libdmabuf.sh host >/dev/null

tests: deps
	@$(MAKE) -C selftests/sgbuf \
		KSFT_DIR="$$(scripts/ksrc.sh)/tools/testing/selftests" \
		OUT=$(TOP)/build/tests

lint: deps
	@SGBUF_STATIC_ONLY=1 scripts/check.sh

check:
	@scripts/check.sh

check-debug:
	@SGBUF_KERNELS=debug SGBUF_SKIP_STATIC=1 SGBUF_SKIP_HOST=1 scripts/check.sh

check-harness: deps
	@selftests/vm/test-harness.sh

install:
	$(MAKE) -C kernel KVER=$(KVER) install
	depmod $(KVER)
	install -D -m 0644 uapi/linux/sgbuf.h $(DESTDIR)/usr/include/linux/sgbuf.h

install-lib: lib
	meson install -C build/libdmabuf
	ldconfig

dkms-install:
	dkms add $(TOP)
	dkms install sgbuf/$$(cat VERSION) -k $(KVER)

clean:
	rm -rf build
