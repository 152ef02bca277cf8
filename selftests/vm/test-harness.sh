#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# test-harness.sh - self-test of run-in-vm.sh (TAP output).
#
# usage: test-harness.sh [KVER...]     (default: the 6.1 and 6.12 kernels
#                                       from kernels.sh)
# Env:   SGVM_ACCEL=tcg|kvm|auto  (default tcg)
#
# Boots every kernel several times under QEMU; nothing is loaded on the host.
# Exits non-zero if any test fails.  Takes about 1-1.5 minutes under TCG.

set -euo pipefail

VMDIR=$(cd "$(dirname "$(readlink -f "${BASH_SOURCE[0]}")")" && pwd)
TOP=$(cd "$VMDIR/../.." && pwd)
BUILD=${SGVM_BUILD_DIR:-$TOP/build/vm}
RUN=$VMDIR/run-in-vm.sh
CHECK=$VMDIR/check-console.sh
ACCEL=${SGVM_ACCEL:-tcg}

# shellcheck source=kernels.sh
source "$VMDIR/kernels.sh"
if [[ $# -gt 0 ]]; then
	KVERS=("$@")
else
	mapfile -t KVERS < <(sgvm_kernel_list)
fi
[[ ${#KVERS[@]} -gt 0 ]] || { echo "Bail out! no test kernels found"; exit 1; }

mkdir -p "$BUILD/tmp"
T=$(mktemp -d "$BUILD/tmp/harness.XXXXXX")
BGPIDS=()
# shellcheck disable=SC2317  # invoked via trap
cleanup() {
	local p
	for p in "${BGPIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	rm -rf "$T"
}
trap cleanup EXIT

N=0
FAILS=0
T_START=$EPOCHREALTIME

echo "TAP version 13"

ok() {   # ok COND-RC DESCRIPTION [DIAG-FILE...]
	local st=$1 desc=$2 f
	shift 2
	N=$((N + 1))
	if [[ $st = 0 ]]; then
		echo "ok $N - $desc"
	else
		FAILS=$((FAILS + 1))
		echo "not ok $N - $desc"
		for f in "$@"; do
			[[ -s $f ]] || continue
			echo "  # --- $(basename "$f") (last 25 lines)"
			tail -n 25 "$f" | sed 's/^/  # /'
		done
	fi
}

skip() {
	N=$((N + 1))
	echo "ok $N - $1 # SKIP $2"
}

# vm NAME ARGS... : run run-in-vm.sh, output in $T/NAME.{out,err}, rc in RC
RC=0
vm() {
	local name=$1
	shift
	RC=0
	"$RUN" --accel "$ACCEL" "$@" >"$T/$name.out" 2>"$T/$name.err" </dev/null || RC=$?
}

expect_rc() {   # expect_rc NAME WANT DESCRIPTION [extra check status]
	local name=$1 want=$2 desc=$3 extra=${4:-0} st=0
	[[ $RC = "$want" && $extra = 0 ]] || st=1
	if [[ $st != 0 ]]; then
		echo "got rc $RC, want $want" >"$T/$name.rc"
	fi
	ok "$st" "$desc" "$T/$name.rc" "$T/$name.out" "$T/$name.err"
}

# ------------------------------------------------ 1. console checker (no VM)
echo "# check-console.sh unit tests"
U=$T/unit
mkdir -p "$U"
cat >"$U/clean.log" <<'EOF'
[    0.000000] Linux version 6.12.0 (debian-kernel@lists.debian.org)
[    0.930718] acpi PNP0A03:00: fail to add MMCONFIG information
[    2.248634] sgvm_selftest: loading out-of-tree module taints kernel.
[    2.248700] sgvm_selftest: module verification failed: signature and/or required key missing - tainting kernel
[    2.357194] reboot: Power down
EOF
samples=(
	'WARNING: CPU: 0 PID: 138 at drivers/dma-buf/sgbuf.c:26 sgbuf_init+0x46/0xff0 [sgbuf]'
	'BUG: kernel NULL pointer dereference, address: 0000000000000008'
	'Oops: 0002 [#1] PREEMPT SMP NOPTI'
	'Kernel panic - not syncing: sysrq triggered crash'
	'general protection fault, probably for non-canonical address 0xdead000000000100: 0000 [#1]'
	'BUG: KASAN: slab-use-after-free in sgbuf_release+0x12/0x40'
	'UBSAN: array-index-out-of-bounds in drivers/dma-buf/sgbuf.c:100:5'
	'BUG: KFENCE: use-after-free read in sgbuf_map+0x1/0x2'
	'WARNING: possible circular locking dependency detected'
	'WARNING: inconsistent lock state'
	'BUG: sleeping function called from invalid context at mm/slub.c:4115'
	'DMA-API: sgbuf 0000:00:03.0: device driver frees DMA memory with different size'
	'"echo 0 > /proc/sys/kernel/hung_task_timeout_secs" disables this message.'
	'watchdog: BUG: soft lockup - CPU#0 stuck for 26s! [sh:134]'
	'unreferenced object 0xffff888003a3c000 (size 64):'
	'INFO: task sh:134 blocked for more than 120 seconds.'
	'rcu: INFO: rcu_preempt detected stalls on CPUs/tasks:'
	'refcount_t: underflow; use-after-free.'
)
i=0
for s in "${samples[@]}"; do
	i=$((i + 1))
	{ head -n 3 "$U/clean.log"; echo "[    3.000000] $s"; echo "[    3.000001] Call Trace:"; } >"$U/s$i.log"
	st=0
	"$CHECK" "$U/s$i.log" 0 2>"$U/s$i.err" || st=$?
	c=0
	[[ $st = 125 ]] && grep -qF -- "$s" "$U/s$i.err" || c=1
	ok "$c" "check-console detects: ${s:0:60}" "$U/s$i.err"
done
st=0; "$CHECK" "$U/clean.log" 0 2>"$U/clean.err" || st=$?
ok "$st" "check-console: clean log passes" "$U/clean.err"
st=0; "$CHECK" "$U/clean.log" 12288 2>"$U/oe.err" || st=$?
ok "$st" "check-console: taint O|E (12288) passes" "$U/oe.err"
for tv in 512 128 12800; do
	st=0; "$CHECK" "$U/clean.log" "$tv" 2>"$U/t$tv.err" || st=$?
	c=0; [[ $st = 125 ]] || c=1
	ok "$c" "check-console: taint $tv fails"
done

# ------------------------------------------------ 2. test module
build_testmod() {   # build_testmod KVER -> prints .ko path
	local k=$1 d=$BUILD/testmod-$1 src=$VMDIR/testmod
	if [[ ! -f $d/sgvm_selftest.ko || $src/sgvm_selftest.c -nt $d/sgvm_selftest.ko ]]; then
		[[ -d /lib/modules/$k/build ]] || return 1
		rm -rf "$d"
		mkdir -p "$d"
		cp "$src/sgvm_selftest.c" "$src/Kbuild" "$d/"
		make -s -C "/lib/modules/$k/build" M="$d" modules >"$d/build.log" 2>&1 || return 1
	fi
	printf '%s' "$d/sgvm_selftest.ko"
}

# ------------------------------------------------ 3. VM tests
BOOT_REPORT=()
for k in "${KVERS[@]}"; do
	echo "# kernel $k: exit status + boot time"
	vm "exit3-$k" --timing "$k" -- 'echo guest-says-hi; exit 3'
	c=0; grep -qx guest-says-hi "$T/exit3-$k.out" || c=1
	expect_rc "exit3-$k" 3 "$k: guest 'exit 3' -> 3, stdout passed through" "$c"
	bt=$(sed -n 's/.*boot-to-command \([0-9.]*s\) (guest uptime \([0-9.]*s\)).*/\1 (guest uptime \2)/p' "$T/exit3-$k.err")
	BOOT_REPORT+=("$k: boot-to-command ${bt:-?}")
	echo "#   boot-to-command ${bt:-?}"
done

# timeouts run in the background (the guests just sleep) to save wall time
for k in "${KVERS[@]}"; do
	(
		rc=0
		"$RUN" --accel "$ACCEL" --timeout 15 "$k" -- 'sleep 100' \
			>"$T/timeout-$k.out" 2>"$T/timeout-$k.err" </dev/null || rc=$?
		echo "$rc" >"$T/timeout-$k.rc"
	) &
	BGPIDS+=("$!")
done

for k in "${KVERS[@]}"; do
	echo "# kernel $k"
	vm "panic-$k" "$k" -- 'echo c > /proc/sysrq-trigger'
	c=0; grep -q 'Kernel panic' "$T/panic-$k.err" && grep -q 'Call Trace' "$T/panic-$k.err" || c=1
	expect_rc "panic-$k" 125 "$k: sysrq crash -> 125 with trace on stderr" "$c"

	vm "vgem-$k" -m vgem "$k" -- 'grep "^vgem " /proc/modules'
	c=0; grep -q '^vgem ' "$T/vgem-$k.out" || c=1
	expect_rc "vgem-$k" 0 "$k: -m vgem loads (with deps)" "$c"

	vm "swiotlb-$k" --variant swiotlb "$k" -- 'grep -qw swiotlb=force /proc/cmdline'
	expect_rc "swiotlb-$k" 0 "$k: --variant swiotlb boots with swiotlb=force"

	vm "iommu-$k" --variant iommu "$k" -- \
		'ls /sys/class/iommu | grep -q . && dmesg | grep -q "DMAR: IOMMU enabled" && grep -qw intel_iommu=on /proc/cmdline'
	expect_rc "iommu-$k" 0 "$k: --variant iommu boots with an enabled intel-iommu"

	if ko=$(build_testmod "$k"); then
		# shellcheck disable=SC2016  # expanded in the guest
		vm "kmod-$k" -k "$ko:tag=42" "$k" -- \
			'test "$(cat /sys/module/sgvm_selftest/parameters/tag)" = 42 && cat /proc/sys/kernel/tainted'
		expect_rc "kmod-$k" 0 "$k: -k FILE.ko:'tag=42' loads with params (taint O|E ok)"

		vm "warn-$k" -k "$ko:warn=1" "$k" -- 'echo command-ran'
		c=0; grep -q 'WARNING:' "$T/warn-$k.err" || c=1
		expect_rc "warn-$k" 125 "$k: WARN in a module -> 125 with splat on stderr" "$c"
		vm "warn-allowed-$k" --allow-warn 'sgvm_selftest_init' -k "$ko:warn=1" "$k" -- 'echo command-ran'
		expect_rc "warn-allowed-$k" 0 "$k: --allow-warn forgives exactly that WARN and its W taint"
		vm "warn-other-$k" --allow-warn 'no_such_function' -k "$ko:warn=1" "$k" -- 'echo command-ran'
		expect_rc "warn-other-$k" 125 "$k: --allow-warn does not forgive another WARN"

		vm "kfail-$k" -m vgem -k "$ko:fail=1" "$k" -- 'echo command-ran'
		c=0; grep -q command-ran "$T/kfail-$k.out" && c=1
		expect_rc "kfail-$k" 126 "$k: failing module init -> 126, command not run" "$c"
	else
		skip "$k: out-of-tree module tests" "cannot build test module (headers?)"
	fi
done

# misc, on the first kernel only
k=${KVERS[0]}
mkdir -p "$T/tree/sub"
echo payload >"$T/tree/sub/data.txt"
vm "files-$k" -f /usr/bin/od -f "$T/tree:/opt/tree" -f "$T/tree/sub/data.txt:/etc/data" "$k" -- \
	'echo hi | od -c | head -n1; cat /opt/tree/sub/data.txt /etc/data; printf no-newline'
c=0
grep -q 'h   i  \\n' "$T/files-$k.out" || c=1
[[ $(grep -c '^payload$' "$T/files-$k.out") = 2 ]] || c=1
[[ $(tail -c 10 "$T/files-$k.out") = no-newline ]] || c=1
expect_rc "files-$k" 0 "$k: -f dynamic ELF + dir + file; unterminated last line kept" "$c"

LOG=$T/console-copy.log
# shellcheck disable=SC2016  # expanded in the guest
vm "log-$k" --log "$LOG" "$k" -- 'echo "<4>sgvm-harness-marker" >/dev/kmsg; test "$(cat /etc/kver)" = "$(uname -r)"'
c=0; grep -q 'sgvm-harness-marker' "$LOG" && grep -q 'reboot: Power down' "$LOG" || c=1
expect_rc "log-$k" 0 "$k: --log saves the full console (flushed to power-off); /etc/kver ok" "$c"

vm "badcmd-$k" "$k" -- 'exit 77'
expect_rc "badcmd-$k" 77 "$k: arbitrary exit status (77) is passed through"

# collect background timeout tests
for p in "${BGPIDS[@]}"; do wait "$p" || true; done
BGPIDS=()
for k in "${KVERS[@]}"; do
	RC=$(cat "$T/timeout-$k.rc" 2>/dev/null || echo missing)
	expect_rc "timeout-$k" 124 "$k: 'sleep 100' with --timeout 15 -> 124"
done

echo "1..$N"
for b in "${BOOT_REPORT[@]}"; do echo "# $b"; done
echo "# total $(awk -v a="$EPOCHREALTIME" -v b="$T_START" 'BEGIN { printf "%.0f", a - b }')s, $FAILS failed"
[[ $FAILS = 0 ]]
