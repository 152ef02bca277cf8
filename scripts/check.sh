#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make check: every test on every kernel.
#
#  1. installs missing Debian packages, unpacks what it needs of
#     linux-source-6.12;
#  2. static checks: checkpatch --strict, kernel-doc, shellcheck, the uapi
#     header as C90 userspace, the module built with W=1 C=1 for both kernels;
#  3. libdmabuf: builds it with -Werror, runs its unit tests plain, under
#     ASan/UBSan and under valgrind, builds its static guest programs;
#  4. self-tests the guest harness (exit codes, timeouts, splat detection);
#  5. builds the selftests, then boots each kernel in each variant
#     (default, swiotlb=force, intel-iommu) and runs the guest suite,
#     libdmabuf's guest tests and the dmabuf tool's test included;
#  6. the debug lane: builds (or takes from the cache) the debug kernel of
#     scripts/debug-kernel.sh, builds sgbuf against it and runs the same
#     suite under KASAN, lockdep, kmemleak, DMA-API debugging and fault
#     injection, plus a bounded ioctl fuzz run.
#
# Every check is counted; the run ends with a kernel x variant table and
# a plain "N passed, N failed" line. Exit status 0 only if nothing failed.
#
# Environment: SGBUF_KERNELS (default: "<6.1> <6.12> debug"; "debug" is
# the debug kernel), SGBUF_VARIANTS (default: "default swiotlb iommu" on
# the stock kernels), SGBUF_DEBUG_VARIANTS (default: "swiotlb"),
# SGBUF_FUZZ_CALLS and SGBUF_DEBUG_FUZZ_CALLS (fuzz calls per stock and
# per debug guest, default 160000 and 50000),
# SGBUF_SKIP_STATIC=1 to skip step 2, SGBUF_SKIP_HOST=1 to skip step 3's
# host unit tests, SGBUF_STATIC_ONLY=1 to stop after the module builds
# (make lint).
set -uo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 1
out=$top/build/check
mkdir -p "$out"

passed=0
failed=0
skipped=0
rows=()

note() { printf '==> %s\n' "$*"; }

# result STATUS NAME [LOG]: count one check, show the log tail on failure.
result() {
	if [ "$1" -eq 0 ]; then
		passed=$((passed + 1))
		printf 'ok - %s\n' "$2"
	else
		failed=$((failed + 1))
		printf 'not ok - %s\n' "$2"
		if [ -n "${3:-}" ] && [ -s "$3" ]; then
			sed 's/^/#   /' "$3" | tail -n 40
		fi
	fi
}

scripts/install-deps.sh || { echo "install-deps failed"; exit 1; }
ksrc=$(scripts/ksrc.sh) || exit 1
# shellcheck source=selftests/vm/kernels.sh
. selftests/vm/kernels.sh
kernels=${SGBUF_KERNELS:-"$KVER_61 $KVER_612 debug"}
variants=${SGBUF_VARIANTS:-"default swiotlb iommu"}
debug_variants=${SGBUF_DEBUG_VARIANTS:-swiotlb}
# 6 stock boots x 160000 + 50000 in the debug boot: over a million fuzz
# calls per make check (about 3300 calls/s on stock, 10x fewer on debug).
fuzz_calls=${SGBUF_FUZZ_CALLS:-160000}
debug_fuzz_calls=${SGBUF_DEBUG_FUZZ_CALLS:-50000}
kit=""

if [ "${SGBUF_SKIP_STATIC:-0}" != 1 ]; then
	note "static checks"
	log=$out/checkpatch.log
	perl "$ksrc/scripts/checkpatch.pl" --no-tree --strict --quiet \
		-f kernel/*.c kernel/*.h kernel/probes/*.c uapi/linux/*.h >"$log" 2>&1
	result $? "checkpatch --strict: kernel/ and uapi/" "$log"

	log=$out/kernel-doc.log
	perl "$ksrc/scripts/kernel-doc" -none -Wall kernel/*.c kernel/*.h \
		uapi/linux/*.h >"$log" 2>&1 && ! [ -s "$log" ]
	result $? "kernel-doc -Wall: kernel/ and uapi/" "$log"

	log=$out/shellcheck.log
	shellcheck -x -P SCRIPTDIR scripts/*.sh selftests/guest/*.sh \
		selftests/vm/*.sh .ci/run >"$log" 2>&1
	result $? "shellcheck: scripts and guest harness" "$log"

	log=$out/uapi.log
	for h in uapi/linux/*.h; do
		printf '#include <%s>\nint main(void) { return 0; }\n' "${h#uapi/}" |
			gcc -std=c90 -Wall -Wextra -Werror -pedantic -Iuapi -x c - \
				-o /dev/null || exit 1
	done >"$log" 2>&1
	result $? "uapi headers compile as C90 userspace" "$log"
fi

# The debug kernel: about 20 minutes the first time, then from the cache.
case " $kernels " in
*" debug "*)
	note "debug kernel (scripts/debug-kernel.sh)"
	log=$out/debug-kernel.log
	start=$SECONDS
	kit=$(scripts/debug-kernel.sh 2> >(tee "$log" >&2))
	result $? "debug kernel built or cached ($((SECONDS - start)) s)" "$log"
	;;
esac

# kver K: the kernel release a name of $kernels stands for.
kver() {
	if [ "$1" = debug ]; then cat "$kit/release"; else echo "$1"; fi
}

note "building sgbuf.ko"
for k in $kernels; do
	[ "$k" = debug ] && [ -z "$kit" ] && continue
	log=$out/build-$k.log
	kdir=()
	[ "$k" = debug ] && kdir=(KDIR="$kit/build")
	# From scratch, so that every warning shows up in the log.
	make -s -C kernel KVER="$(kver "$k")" clean >/dev/null 2>&1
	make -s -C kernel KVER="$(kver "$k")" "${kdir[@]}" W=1 C=1 >"$log" 2>&1 &&
		! grep -E 'warning:|error:|[Ww]arning: ' "$log" | grep -v 'Skipping BTF' >/dev/null
	result $? "sgbuf.ko builds for $(kver "$k") with W=1 C=1, no warnings" "$log"
done

summary() {
	echo
	printf '%-24s %-8s %5s %5s %5s  %-8s %5s\n' kernel variant pass fail skip guest time
	for r in "${rows[@]}"; do
		echo "$r"
	done
	echo
	echo "$passed passed, $failed failed, $skipped skipped"
	[ "$failed" -eq 0 ]
	exit
}

[ "${SGBUF_STATIC_ONLY:-0}" = 1 ] && summary

# meson_tests DIR LABEL [meson test args]: one check per unit test of a
# libdmabuf build tree.
meson_tests() {
	local dir=$1 label=$2 n=0 name res st json
	shift 2
	rm -f "$dir/meson-logs/$label"*.json
	meson test -C "$dir" --logbase "$label" --print-errorlogs "$@" \
		>"$out/libdmabuf-$label.log" 2>&1
	# With --wrap, meson appends the wrapper's name to the log's name.
	for json in "$dir/meson-logs/$label"*.json; do :; done
	while IFS=$'\t' read -r name res; do
		n=$((n + 1))
		case $res in
		SKIP)
			skipped=$((skipped + 1))
			printf 'ok - libdmabuf %s: %s # SKIP\n' "$label" "$name"
			continue
			;;
		OK) st=0 ;;
		*) st=1 ;;
		esac
		result $st "libdmabuf $label: $name ($res)" "$out/libdmabuf-$label.log"
	done < <(python3 -c '
import json, sys
for line in open(sys.argv[1]):
    t = json.loads(line)
    print(t["name"] + "\t" + t["result"])' "$json" 2>/dev/null)
	[ "$n" -gt 0 ]
	result $? "libdmabuf $label: $n unit tests ran" "$out/libdmabuf-$label.log"
}

stock=""
for k in $kernels; do
	[ "$k" = debug ] || stock="$stock $k"
done

if [ "${SGBUF_SKIP_HOST:-0}" != 1 ]; then
	note "libdmabuf"
	log=$out/libdmabuf-build.log
	libdir=$(scripts/libdmabuf.sh host 2>"$log")
	result $? "libdmabuf and dmabuf build with -Wall -Wextra -Werror" "$log"
	[ -n "$libdir" ] && meson_tests "$libdir" unit

	# What `make install-lib` installs, staged: pkg-config finds the library,
	# a program builds against it and runs, the man pages are there.
	log=$out/libdmabuf-install.log
	stage=$top/build/stage
	rm -rf "$stage"
	(
		set -e
		meson install -C "$libdir" --destdir "$stage"
		pcdir=$(dirname "$(find "$stage" -name dmabuf.pc)")
		flags=$(PKG_CONFIG_SYSROOT_DIR=$stage PKG_CONFIG_LIBDIR=$pcdir \
			pkg-config --cflags --libs dmabuf)
		echo "pkg-config --cflags --libs dmabuf: $flags"
		printf '%s\n' '#include <dmabuf/dmabuf.h>' '#include <stdio.h>' \
			'int main(void) { return puts(dmabuf_version()) < 0; }' \
			>"$stage/pkgtest.c"
		# shellcheck disable=SC2086 # flags are words
		gcc -Wall -Wextra -Werror "$stage/pkgtest.c" $flags -o "$stage/pkgtest"
		libpath=$(echo "$flags" | tr ' ' '\n' | sed -n 's/^-L//p')
		LD_LIBRARY_PATH=$libpath "$stage/pkgtest" | grep -qx "$(cat VERSION)"
		find "$stage" -path '*/man1/dmabuf.1*' | grep -q .
		find "$stage" -path '*/man3/libdmabuf.3*' | grep -q .
	) >"$log" 2>&1
	result $? "libdmabuf installs; pkg-config, a client build and man pages work" "$log"
	log=$out/libdmabuf-san-build.log
	sandir=$(scripts/libdmabuf.sh san 2>"$log")
	result $? "libdmabuf builds with ASan and UBSan" "$log"
	[ -n "$sandir" ] && ASAN_OPTIONS=detect_leaks=1 \
		UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		meson_tests "$sandir" asan-ubsan
	# The tool's tests are shell scripts: valgrind would check the shell.
	[ -n "$libdir" ] && meson_tests "$libdir" valgrind --no-suite tool \
		--timeout-multiplier 10 \
		--wrap "valgrind -q --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite,indirect"
fi
log=$out/libdmabuf-static-build.log
staticdir=$(scripts/libdmabuf.sh static 2>"$log")
result $? "libdmabuf: static tool and guest tests build" "$log"

if [ "${SGBUF_SKIP_HOST:-0}" != 1 ] && [ -n "$stock" ]; then
	note "guest harness self-test"
	log=$out/harness.log
	# shellcheck disable=SC2086 # one word per kernel
	selftests/vm/test-harness.sh $stock >"$log" 2>&1
	result $? "guest harness self-test ($(grep -c '^ok' "$log") checks)" "$log"
fi

note "building selftests"
log=$out/selftests-build.log
make -s -C selftests/sgbuf KSFT_DIR="$ksrc/tools/testing/selftests" \
	OUT="$top/build/tests" >"$log" 2>&1
result $? "selftests build with -Wall -Wextra -Werror" "$log"
cp selftests/guest/run-suite.sh build/tests/
# libdmabuf's guest tests and the dmabuf tool (run-suite.sh runs them).
if [ -n "${staticdir:-}" ]; then
	mkdir -p build/tests/libdmabuf
	cp "$staticdir"/tests/guest/libdmabuf_*_test "$staticdir"/tools/dmabuf \
		libdmabuf/tools/guest-tool-test.sh build/tests/libdmabuf/ 2>/dev/null
fi

# guest K V [LABEL CMD ALLOW]: boot kernel K (a release, or "debug") in
# variant V and run the guest suite, or CMD, forgiving the WARN()s that
# match ALLOW (run-in-vm.sh --allow-warn); count its TAP lines, and one
# failure if the guest itself ended badly (timeout, splat, taint).
guest() {
	local k=$1 v=$2 label=${3:-$2} cmd=${4:-sh /tests/run-suite.sh}
	local allow=${5:-} log con start rc p s f state args
	# Every lane: no zeroing by the allocator (it would hide a missing
	# __GFP_ZERO), freed pages poisoned, SLUB's red zones and poisoning.
	local append="init_on_alloc=0 page_poison=1 slub_debug=FZPU"
	local env="SGBUF_FUZZ_CALLS=$fuzz_calls"
	log=$out/guest-$k-$label.log
	con=$out/console-$k-$label.log
	args=(--variant "$v" --mem 5G --log "$con")
	[ -n "$allow" ] && args+=(--allow-warn "$allow")
	case $k in
	debug)
		args+=(--kit "$kit" --smp 2 --timeout 3600)
		append="$append kasan_multi_shot hung_task_timeout_secs=300"
		# 4 x 1000 stress cycles: 4 x 10000 take 7 minutes here. The
		# memcg test stays on the stock kernels: with this kernel's
		# bigger slab objects the cgroup fills up inside
		# dma_buf_export()'s inode allocation, which is the core's,
		# not sgbuf's, and invokes the memcg OOM killer
		# (docs/testing.md).
		env="SGBUF_FUZZ_CALLS=$debug_fuzz_calls SGBUF_STRESS_CYCLES=1000"
		env="$env SGBUF_STRESS_ARGS='-T alloc_until_memory_max'"
		;;
	6.12.*) append="$append kfence.sample_interval=10" ;&
	*) args+=(--timeout 900) ;;
	esac
	note "guest $k, $label"
	start=$SECONDS
	# 5 GiB: some pages lie above 4 GiB, so the engine's 32-bit DMA
	# device must bounce them through swiotlb.
	selftests/vm/run-in-vm.sh "${args[@]}" --append "$append" \
		-m vgem -m vivid -k "build/kmod/$(kver "$k")/kernel/sgbuf.ko" \
		-f build/tests:/tests "$k" -- "$env $cmd" \
		>"$log" 2>&1
	rc=$?
	p=$(grep -cE '^ok ' "$log" | tr -d ' ')
	s=$(grep -E '^ok ' "$log" | grep -c '# SKIP')
	f=$(grep -cE '^not ok ' "$log")
	p=$((p - s))
	grep -E '^(not ok|ok .*# SKIP)' "$log" | sed 's/^/  /'
	state=ok
	if [ $rc -ne 0 ]; then
		state="exit $rc"
		f=$((f + 1))
		echo "  not ok - guest run ended with status $rc (124 timeout," \
			"125 splat or taint, 126 module load)"
		grep -vE '^(ok|not ok) ' "$log" | tail -n 60 | sed 's/^/#   /'
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	skipped=$((skipped + s))
	rows+=("$(printf '%-24s %-8s %5d %5d %5d  %-8s %4ds' "$(kver "$k")" "$label" \
		"$p" "$f" "$s" "$state" $((SECONDS - start)))")
	echo "  $p passed, $f failed, $s skipped ($((SECONDS - start)) s; log: ${log#"$top"/})"
}

for k in $kernels; do
	if [ "$k" = debug ]; then
		[ -n "$kit" ] || continue
		for v in $debug_variants; do guest "$k" "$v"; done
		# The fail-nth sweeps that make the kernel's own code WARN
		# (run-suite.sh says which), in a boot that forgives exactly
		# those warnings. qbuf_via_vivid stays out: vb2 leaks a
		# dma-buf reference when its attach fails, which also
		# blocks rmmod.
		guest "$k" default warns \
			"/tests/sgbuf_failnth_test -t vmap_via_vivid -t mmap_one_run" \
			'dma-buf\.c:[0-9]+ dma_buf_vmap\+|memtype\.c:[0-9]+ get_pat_info\+'
	else
		for v in $variants; do guest "$k" "$v"; done
	fi
done

summary
