#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The guest half of `make demo` (busybox sh, sgbuf loaded): runs
# `dmabuf pipe` and, while it runs, `dmabuf list`. Exit status: pipe's.

FRAMES=${FRAMES:-240}

echo "== guest: Linux $(uname -r), $(grep -c ^processor /proc/cpuinfo) CPU," \
	"$(awk '/MemTotal/ { print int($2 / 1024) " MiB" }' /proc/meminfo)"
echo "== sgbuf: /dev/sgbuf and /dev/dma_heap/sgbuf are here"
dmabuf caps
echo
echo "== dmabuf pipe: $FRAMES frames of 1920x1080 RGBA through three processes:"
echo "   producer  writes each frame with the CPU into a pool of sgbuf dma-bufs"
echo "             and hands it on (fd passed once over a unix socket, then by slot);"
echo "   DMA stage imports both pools into sgbuf's simulated DMA engine, which"
echo "             copies each frame through its DMA addresses; the job's fence"
echo "             goes downstream and back to the producer as the release fence;"
echo "   consumer  waits for the fence, verifies every byte, releases the buffer."
# Progress goes through a pipe, so the tool prints whole lines, not \r.
(
	dmabuf pipe --frames "$FRAMES" >/tmp/pipe.out
	echo $? >/tmp/pipe.rc
) 2>&1 | sed 's/^/   | /' &

# Take the list once the pools are allocated (or the pipe ended).
i=0
while [ $i -lt 100 ] && [ ! -e /tmp/pipe.rc ] &&
	[ "$(grep -c pipe- /sys/kernel/debug/dma_buf/bufinfo 2>/dev/null)" -lt 8 ]; do
	sleep 0.1
	i=$((i + 1))
done
echo
echo "== dmabuf list, taken while the pipe runs"
dmabuf list
echo

wait
rc=$(cat /tmp/pipe.rc 2>/dev/null || echo 1)
echo
echo "== dmabuf pipe report"
cat /tmp/pipe.out
exit "$rc"
