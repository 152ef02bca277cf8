#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make bench: sgbuf against the kernel's own dma-buf exporters (system
# heap, udmabuf, vgem), side by side in the same QEMU guest boots.
#
# Installs what is missing, builds sgbuf.ko for both kernels, the static
# benchmark (bench/) and a static `dmabuf` tool, then boots:
#   Debian 6.12, BENCH_BOOTS times (default 3), every section;
#   Debian 6.12 with swiotlb=force, BENCH_SWIOTLB_BOOTS times (default 1),
#     the sync section only;
#   Debian 6.1, BENCH_61_BOOTS times (default 1), every section (sgbuf and
#     vgem: 6.1 has no system heap and no udmabuf);
# and aggregates the JSON lines of all boots with bench/report.py into
# build/bench/report.md and build/bench/report.json (medians over boots,
# min-max, per-boot ratios, the targets table), and prints the targets.
#
# BENCH_ARGS adds options to every sgbuf-bench run (e.g. --quick).
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
out=$top/build/bench
raw=$out/raw
BOOTS=${BENCH_BOOTS:-3}
SWIOTLB_BOOTS=${BENCH_SWIOTLB_BOOTS:-1}
BOOTS_61=${BENCH_61_BOOTS:-1}
read -r -a extra <<<"${BENCH_ARGS:-}"
t0=$SECONDS

step() { printf '\n==> %s\n' "$*"; }
fail() {
	echo "make bench: $1 failed; the log is ${2#"$top"/}:" >&2
	tail -n 30 "$2" >&2
	exit 1
}
elapsed() { printf '%dm%02ds' $(((SECONDS - $1) / 60)) $(((SECONDS - $1) % 60)); }

mkdir -p "$out"
rm -rf "$raw"
mkdir -p "$raw"

step "checking Debian packages (installs missing ones)"
scripts/install-deps.sh
# shellcheck source=selftests/vm/kernels.sh
. selftests/vm/kernels.sh
[ -n "$KVER_612" ] || { echo "make bench: no 6.12 kernel installed" >&2; exit 1; }

step "building sgbuf.ko for: $(sgvm_kernel_list | tr '\n' ' ')"
# A build directory of its own: a concurrent `make check` rebuilds build/kmod.
for k in $(sgvm_kernel_list); do
	make -s -C kernel KVER="$k" BUILD_DIR="$out/kmod/$k" \
		>"$out/module-$k.log" 2>&1 ||
		fail "building sgbuf.ko for $k" "$out/module-$k.log"
done

step "building sgbuf-bench (static)"
make -s -C bench OUT="$out" >"$out/bench-build.log" 2>&1 ||
	fail "building sgbuf-bench" "$out/bench-build.log"

step "building the dmabuf tool (static) for 'dmabuf pipe'"
tooldir=$top/build/bench-tool
tool=()
if { [ -f "$tooldir/build.ninja" ] ||
	meson setup "$tooldir" libdmabuf -Ddefault_library=static \
		-Dstatic_executables=true; } >"$out/tool-build.log" 2>&1 &&
	ninja -C "$tooldir" tools/dmabuf >>"$out/tool-build.log" 2>&1; then
	tool=(-f "$tooldir/tools/dmabuf:/bin/dmabuf")
else
	echo "make bench: warning: the dmabuf tool did not build (see" \
		"${out#"$top"/}/tool-build.log); section 6 will be skipped" >&2
fi

nboot=$((BOOTS + SWIOTLB_BOOTS))
[ -z "$KVER_61" ] || nboot=$((nboot + BOOTS_61))
i=0
failed=0
# boot NAME KVER VARIANT MEM "APPEND" [sgbuf-bench options...]
boot() {
	local name=$1 kver=$2 variant=$3 mem=$4 rc tb=$SECONDS st
	local app=()
	[ -z "$5" ] || app=(--append "$5")
	shift 5
	i=$((i + 1))
	printf '\n--- boot %d/%d: %s (%s, %s, --mem %s)\n' "$i" "$nboot" "$name" \
		"$kver" "$variant" "$mem"
	set +e
	selftests/vm/run-in-vm.sh --timeout 1500 --timing --mem "$mem" \
		--variant "$variant" "${app[@]}" \
		--log "$raw/$name.console" \
		-m vgem -k "$out/kmod/$kver/kernel/sgbuf.ko" \
		-f "$out/sgbuf-bench:/bin/sgbuf-bench" "${tool[@]}" \
		"$kver" -- "sgbuf-bench $* ${extra[*]}" 2>&1 |
		tee "$raw/$name.out" |
		grep --line-buffered -E '^# ([a-z]+: [0-9.]+ s|done in)|^run-in-vm:' |
		sed -u 's/^/    /'
	st=("${PIPESTATUS[@]}")
	set -e
	rc=${st[0]}
	grep '^{' "$raw/$name.out" >"$raw/$name.jsonl" || true
	printf '    %s: %s, %d results, %d skipped, %s\n' "$name" \
		"$([ "$rc" -eq 0 ] && echo ok || echo "FAILED (status $rc)")" \
		"$(grep -c '"value":[-0-9]' "$raw/$name.jsonl" || true)" \
		"$(grep -c '"skip"' "$raw/$name.jsonl" || true)" "$(elapsed "$tb")"
	if [ "$rc" -ne 0 ]; then
		failed=$((failed + 1))
		echo "    the guest output is ${raw#"$top"/}/$name.out, the" \
			"console ${raw#"$top"/}/$name.console" >&2
	fi
}

step "benchmark boots (TCG -cpu qemu64 -smp 1 unless KVM works here)"
udma=udmabuf.size_limit_mb=2048	# 256 MiB and 1 GiB udmabufs
for n in $(seq 1 "$BOOTS"); do
	boot "6.12-default-$n" "$KVER_612" default 4G "$udma"
done
for n in $(seq 1 "$SWIOTLB_BOOTS"); do
	# 512 MiB of bounce slots: a 64 MiB importer plus udmabuf's own mapping
	boot "6.12-swiotlb-$n" "$KVER_612" swiotlb 2G "$udma swiotlb=262144" \
		--sections sync
done
if [ -n "$KVER_61" ]; then
	for n in $(seq 1 "$BOOTS_61"); do
		boot "6.1-default-$n" "$KVER_61" default 4G ""
	done
fi

step "report"
accel=$(grep -ho 'timing ([^)]*)' "$raw"/*.out 2>/dev/null | head -n1 |
	sed 's/timing (//; s/)//' | cut -d, -f2,3 | sed 's/^ //')
host="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'),\
 $(nproc) CPUs, $(awk '/MemTotal/ { printf "%d GiB", $2 / 1048576 }' /proc/meminfo),\
 Linux $(uname -r)"
printf '{"host": "%s", "guest": "QEMU %s (%s), -smp 1", "seconds": %d}\n' \
	"$host" "$(qemu-system-x86_64 --version | head -n1 | awk '{ print $4 }')" \
	"${accel:-?}" $((SECONDS - t0)) >"$out/meta.json"
python3 bench/report.py --out "$out" --meta "$out/meta.json" "$raw"/*.jsonl \
	>/dev/null
# The targets table; the full report (every metric, per kernel) is the file.
sed -n '/^## Targets/,/targets met/p' "$out/report.md"

echo
echo "make bench: $((i - failed)) of $i boots ok; took $(elapsed "$t0")." \
	"Report: ${out#"$top"/}/report.md and report.json"
[ "$failed" -eq 0 ]
