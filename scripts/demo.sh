#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make demo: the main job, end to end, in a QEMU guest running Debian's
# 6.12 kernel. Installs what is missing, builds sgbuf.ko and a static
# `dmabuf` tool, boots the guest with sgbuf (and vgem) loaded, and runs
# scripts/demo-guest.sh there: `dmabuf pipe` (producer -> sgbuf DMA
# consumer -> consumer), with `dmabuf list` taken while it runs.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
out=$top/build/demo
mkdir -p "$out"

step() { printf '\n==> %s\n' "$*"; }
fail() {
	echo "make demo: $1 failed; the log is ${2#"$top"/}:" >&2
	tail -n 30 "$2" >&2
	exit 1
}

step "checking Debian packages (installs missing ones)"
scripts/install-deps.sh
scripts/ksrc.sh >/dev/null
# shellcheck source=selftests/vm/kernels.sh
. selftests/vm/kernels.sh
kver=$KVER_612
[ -n "$kver" ] || { echo "make demo: no 6.12 kernel installed" >&2; exit 1; }

step "building sgbuf.ko for $kver"
make -s -C kernel KVER="$kver" >"$out/module.log" 2>&1 ||
	fail "building the module" "$out/module.log"

step "building libdmabuf and the dmabuf tool (static, for the guest)"
staticdir=$(scripts/libdmabuf.sh static 2>"$out/libdmabuf.log") ||
	fail "building libdmabuf" "$out/libdmabuf.log"

step "booting Debian $kver in QEMU (KVM if usable, else TCG) with sgbuf and vgem"
rc=0
selftests/vm/run-in-vm.sh --mem 2G --timeout 600 --log "$out/console.log" \
	-m vgem -k "build/kmod/$kver/kernel/sgbuf.ko" \
	-f "$staticdir/tools/dmabuf:/bin/dmabuf" \
	-f scripts/demo-guest.sh:/demo-guest.sh \
	"$kver" -- 'sh /demo-guest.sh' || rc=$?

echo
if [ $rc -eq 0 ]; then
	echo "make demo: done. The same tool runs on a machine with sgbuf installed:"
	echo "  make install && modprobe sgbuf && make install-lib && dmabuf pipe"
else
	echo "make demo: the guest run failed with status $rc (124 timeout," \
		"125 kernel splat or taint, 126 module load); console log:" \
		"${out#"$top"/}/console.log" >&2
fi
exit $rc
