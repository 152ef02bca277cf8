#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Runs inside a test guest (busybox sh), with sgbuf, vgem and vivid loaded:
# every test program in /tests in order, then the end-of-run checks.
# Prints TAP; the host counts "ok" and "not ok" lines.
#
# On a kernel with the debug facilities (the debug kernel of make
# check-debug) it also checks that kmemleak finds nothing, with sgbuf loaded
# and again after rmmod, that the DMA-API debug layer counted no error and
# that lockdep is still on (it turns itself off after its first report).
# SGBUF_FUZZ_CALLS=N runs sgbuf_fuzz for N calls before the end checks;
# SGBUF_STRESS_CYCLES=N sets sgbuf_stress_test's cycles per thread,
# SGBUF_STRESS_ARGS its harness options.

BUFINFO=/sys/kernel/debug/dma_buf/bufinfo
KMEMLEAK=/sys/kernel/debug/kmemleak
DMA_API_ERRORS=/sys/kernel/debug/dma-api/error_count
# sgbuf_engine_test ends with the test that tries to unload the module while
# a fence pins it: keep it the last program.
TESTS="sgbuf_alloc_test sgbuf_mmap_test sgbuf_sync_test sgbuf_sync_range_test
sgbuf_heap_test sgbuf_import_test sgbuf_engine_xexp_test sgbuf_failnth_test
sgbuf_stress_test libdmabuf sgbuf_engine_test"
# Three fail-nth sweeps provoke warnings of the kernel's own code and run
# in a boot of their own (scripts/check.sh, docs/testing.md): failing
# sgbuf's vmap makes dma_buf_vmap() WARN, a failed whole-VMA
# remap_pfn_range() makes x86 PAT WARN, and vb2 leaks a dma-buf reference
# when its attach fails.
FAILNTH_ALONE="-T vmap_via_vivid -T mmap_one_run -T qbuf_via_vivid"

# Buffers exported by sgbuf: bufinfo rows whose exp_name column is sgbuf.
sgbuf_buffers() {
	awk '$5 == "sgbuf" { n++ } END { print n + 0 }' "$BUFINFO"
}

result() {
	if [ "$1" -eq 0 ]; then
		echo "ok - guest: $2"
	else
		echo "not ok - guest: $2"
	fi
}

# leak_check WHEN: a kmemleak scan must report no suspect. Objects younger
# than 5 s are never reported, so wait that long first; a second scan
# settles objects the first one found still referenced from stacks.
leak_check() {
	if [ ! -w "$KMEMLEAK" ]; then
		echo "ok - guest: kmemleak $1 # SKIP kernel built without CONFIG_DEBUG_KMEMLEAK"
		return
	fi
	sleep 6
	echo scan >"$KMEMLEAK"
	echo scan >"$KMEMLEAK"
	n=$(grep -c '^unreferenced object' "$KMEMLEAK")
	sed -n '1,120s/^/# kmemleak: /p' "$KMEMLEAK"
	[ "$n" -eq 0 ]
	result $? "kmemleak: no leak $1 ($n suspects)"
}

echo "# kernel $(uname -r), cmdline: $(cat /proc/cmdline)"
baseline=$(sgbuf_buffers)
# What booting the kernel leaked is not ours: scan once and forget it.
if [ -w "$KMEMLEAK" ]; then
	echo scan >"$KMEMLEAK"
	echo clear >"$KMEMLEAK"
fi

# libdmabuf's guest tests (TAP) and the dmabuf tool's test script, from
# /tests/libdmabuf.
run_libdmabuf() {
	n=0
	for t in /tests/libdmabuf/libdmabuf_*_test; do
		[ -x "$t" ] || continue
		n=$((n + 1))
		echo "# ---- ${t##*/}"
		"$t"
		rc=$?
		[ $rc -eq 0 ]
		result $? "${t##*/} exited with status $rc"
	done
	[ $n -gt 0 ]
	result $? "libdmabuf guest tests present ($n programs)"
	echo "# ---- dmabuf tool"
	if [ -f /tests/libdmabuf/guest-tool-test.sh ]; then
		PATH=/tests/libdmabuf:$PATH sh /tests/libdmabuf/guest-tool-test.sh
		rc=$?
		[ $rc -eq 0 ]
		result $? "guest-tool-test.sh exited with status $rc"
	else
		result 1 "guest-tool-test.sh is missing"
	fi
}

cd /tests || exit 1
for t in $TESTS; do
	if [ "$t" = libdmabuf ]; then
		run_libdmabuf
		continue
	fi
	if [ ! -x "./$t" ]; then
		result 1 "$t is missing"
		continue
	fi
	echo "# ---- $t"
	args=""
	[ "$t" = sgbuf_failnth_test ] && args=$FAILNTH_ALONE
	[ "$t" = sgbuf_stress_test ] && args=${SGBUF_STRESS_ARGS:-}
	# shellcheck disable=SC2086 # options are words
	"./$t" $args
	rc=$?
	# 0: pass, 4: everything skipped (kselftest's KSFT_SKIP)
	[ $rc -eq 0 ] || [ $rc -eq 4 ]
	result $? "$t exited with status $rc"
done

# The kernel's own dma-heap selftest tests every node in /dev/dma_heap. Run
# it on a private /dev/dma_heap that holds only sgbuf's node, so that the
# result is sgbuf's alone on every kernel.
heap_dev=$(cat /sys/class/misc/sgbuf_heap/dev)
echo "# ---- dmabuf-heap (upstream selftest) on /dev/dma_heap/sgbuf only"
unshare -m sh -c "mount -t tmpfs -o mode=0755 none /dev/dma_heap &&
	mknod -m 0600 /dev/dma_heap/sgbuf c ${heap_dev%:*} ${heap_dev#*:} &&
	exec ./dmabuf-heap"
rc=$?
[ $rc -eq 0 ]
result $? "dmabuf-heap exited with status $rc"

# For comparison only (not counted): the same test on the system heap.
if [ -e /dev/dma_heap/system ]; then
	echo "# ---- dmabuf-heap on the system heap, for comparison (not counted)"
	unshare -m sh -c "mount -t tmpfs -o mode=0755 none /dev/dma_heap &&
		mknod -m 0600 /dev/dma_heap/system c $(tr : ' ' </sys/class/dma_heap/system/dev) &&
		exec ./dmabuf-heap" 2>&1 | sed 's/^/# system heap: /'
fi

if [ -n "${SGBUF_FUZZ_CALLS:-}" ]; then
	echo "# ---- sgbuf_fuzz, $SGBUF_FUZZ_CALLS calls"
	./sgbuf_fuzz --count "$SGBUF_FUZZ_CALLS"
	rc=$?
	[ $rc -eq 0 ]
	result $? "sgbuf_fuzz exited with status $rc"
fi

now=$(sgbuf_buffers)
[ "$now" -eq "$baseline" ]
result $? "sgbuf buffers in bufinfo back to baseline ($now, was $baseline)"
leak_check "with sgbuf loaded, after the suite"

rmmod sgbuf
result $? "rmmod sgbuf after the suite"
[ ! -e /dev/sgbuf ] && [ ! -e /dev/dma_heap/sgbuf ]
result $? "device nodes gone after rmmod"
leak_check "after rmmod sgbuf"

if [ -r "$DMA_API_ERRORS" ]; then
	n=$(cat "$DMA_API_ERRORS")
	[ "$n" -eq 0 ]
	result $? "DMA-API debug: $n errors"
else
	echo "ok - guest: DMA-API debug error count # SKIP kernel built without CONFIG_DMA_API_DEBUG"
fi
if [ -r /proc/lockdep_stats ]; then
	n=$(awk '$1 == "debug_locks:" { print $2 }' /proc/lockdep_stats)
	[ "$n" = 1 ]
	result $? "lockdep still on at the end (debug_locks: $n)"
else
	echo "ok - guest: lockdep still on # SKIP kernel built without CONFIG_PROVE_LOCKING"
fi
exit 0
