#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# guest-tool-test.sh [DMABUF]: tests of the dmabuf tool that need sgbuf.
# Runs inside a test guest (busybox sh, root, debugfs mounted) with sgbuf
# loaded; DMABUF is the tool (default: dmabuf next to this script, else in
# PATH). Prints TAP lines "ok - tool: ..." / "not ok - tool: ...", with the
# output of a failed check as "#" lines; exits 0 (the lines count).

here=$(dirname "$0")
if [ -n "$1" ]; then
	D=$1
elif [ -x "$here/dmabuf" ]; then
	D=$here/dmabuf
else
	D=dmabuf
fi
T=$(mktemp -d /tmp/tool-test.XXXXXX) || exit 1
BUFINFO=/sys/kernel/debug/dma_buf/bufinfo

# ok COND_STATUS DESCRIPTION: a TAP line; on failure the last outputs.
ok() {
	if [ "$1" -eq 0 ]; then
		echo "ok - tool: $2"
		return 0
	fi
	echo "not ok - tool: $2"
	for f in out err; do
		[ -s "$T/$f" ] && sed "s/^/# $f: /" "$T/$f" | head -n 30
	done
	return 1
}

# run CMD...: runs it with stdout, stderr in $T/out, $T/err; sets $rc.
run() {
	"$@" >"$T/out" 2>"$T/err" </dev/null
	rc=$?
}

has() {	# has out|err REGEX
	grep -Eq -- "$2" "$T/$1"
}

sgbuf_buffers() {
	awk '$5 == "sgbuf" { n++ } END { print n + 0 }' "$BUFINFO"
}

# The number of processes named dmabuf.
dmabuf_procs() {
	n=0
	for c in /proc/[0-9]*/comm; do
		[ "$(cat "$c" 2>/dev/null)" = dmabuf ] && n=$((n + 1))
	done
	echo $n
}

# A child process of $1, if any.
child_of() {
	for s in /proc/[0-9]*/status; do
		if [ "$(awk '/^PPid:/ { print $2 }' "$s" 2>/dev/null)" = "$1" ]; then
			s=${s#/proc/}
			echo "${s%/status}"
			return
		fi
	done
}

# wait_for FILE REGEX: up to 20 s for FILE to have a line matching REGEX.
wait_for() {
	i=0
	while ! grep -Eq -- "$2" "$1" 2>/dev/null; do
		i=$((i + 1))
		[ $i -gt 200 ] && return 1
		sleep 0.1
	done
}

report_lines() {	# report_lines FRAMES: the report of a good run
	has out "^frames: +$1 of $1 \($1 verified\)$" &&
	has out '^bytes: +[0-9]+ \(' &&
	has out '^rate: +[0-9.]+ frames/s, [0-9.]+ MB/s$' &&
	has out '^latency: +p50 [0-9.]+ ms, p99 [0-9.]+ ms' &&
	has out '^errors: +0$' &&
	has out '^result: +ok$'
}

compare_lines() {	# compare_lines FRAMES
	has out "^pipe\(2\): +$1 frames, [0-9.]+ s, [0-9.]+ frames/s, [0-9.]+ MB/s, 0 errors" &&
	has out '^ratio: +[0-9.]+x'
}

test_pipe_modes() {
	# pool 2: 4 buffers of 8 MB fit the 64 MiB of swiotlb=force
	for mode in copy checksum; do
		run "$D" pipe --frames 30 --pool 2 --mode $mode --quiet
		[ $rc -eq 0 ] && report_lines 30 && compare_lines 30 &&
			has out "mode $mode, backend sgbuf"
		ok $? "pipe --mode $mode: 30 frames verified, report and pipe(2) comparison"
		for l in frames bytes rate latency errors pipe ratio; do
			grep "^$l" "$T/out" | sed 's/^/# /'
		done
	done
	run "$D" pipe --frames 20 -W 640 -H 480 --pool 2 --mode cpu --no-compare
	[ $rc -eq 0 ] && report_lines 20 && ! has out '^pipe\(2\)'
	ok $? "pipe --mode cpu --no-compare: 20 frames of 640x480 verified"
	if grep -q swiotlb=force /proc/cmdline; then
		echo "ok - tool: pipe: the engine copies system-heap buffers # SKIP swiotlb=force cannot bounce the system heap's 1 MiB segments"
	elif [ -e /dev/dma_heap/system ]; then
		run "$D" pipe --frames 10 -W 640 -H 480 --backend heap:system -q \
			--no-compare
		[ $rc -eq 0 ] && report_lines 10 && has out 'backend system$'
		ok $? "pipe: the engine copies system-heap buffers"
	else
		echo "ok - tool: pipe: the engine copies system-heap buffers # SKIP no system heap on this kernel"
	fi
}

test_pipe_errors() {
	run "$D" pipe --frames 5 -W 640 -H 480 --corrupt 3:12345 -q --no-compare
	[ $rc -eq 1 ] && has err 'consumer: frame 3: wrong byte at offset 12345: ' &&
		has out '^errors: +1$' && has out '^result: +FAILED$'
	ok $? "pipe: a wrong byte fails the run, naming the frame and offset"
	run "$D" pipe --frames 5 -W 640 -H 480 --mode checksum --corrupt 2:7 -q \
		--no-compare
	[ $rc -eq 1 ] && has err 'frame 2: CRC-32 of the copy 0x[0-9a-f]{8}, expected 0x[0-9a-f]{8}; wrong byte at offset 7: '
	ok $? "pipe --mode checksum: a wrong byte fails the CRC, offset located"
	run "$D" pipe --frames 5 -W 640 -H 480 --fail-frame 1 -q --no-compare
	[ $rc -eq 1 ] && has err 'frame 1: the DMA job failed: Input/output error'
	ok $? "pipe: a failed DMA job fails the run, naming the frame"
	run "$D" pipe --frames 5 -W 640 -H 480 --mode checksum --fail-frame 4 -q \
		--no-compare
	[ $rc -eq 1 ] && has err 'frame 4: the DMA job failed'
	ok $? "pipe --mode checksum: a failed copy fails its frame"
	[ "$(dmabuf_procs)" -eq 0 ]
	ok $? "pipe: no stage process left after failed runs"
}

# Kills one stage of a running pipe: the run fails and nothing is left.
test_pipe_kill() {
	"$D" pipe --frames 1000 -W 640 -H 480 -q --no-compare >"$T/out" 2>"$T/err" &
	pid=$!
	child=
	i=0
	while [ -z "$child" ] && [ $i -lt 100 ]; do
		sleep 0.1
		i=$((i + 1))
		child=$(child_of $pid)
	done
	sleep 0.5
	[ -n "$child" ] && kill -KILL "$child"
	wait $pid
	rc=$?
	[ -n "$child" ] && [ $rc -eq 1 ] && has err 'was killed by signal 9' &&
		[ "$(dmabuf_procs)" -eq 0 ]
	ok $? "pipe: a killed stage fails the run (status $rc), the others are reaped"
}

# The steady state of a running pipe, as list shows it: both pools
# mapped, the producer's buffers held by the DMA stage and attached to
# the engine.
pipe_listed() {
	has out '^ *[0-9]+ +7\.9 MiB +sgbuf +pipe-src-0 +[0-9]+ +dmabuf\[[0-9]+\] fd [0-9]+ map 7\.9 MiB; dmabuf\[[0-9]+\] fd [0-9]+; attached: sgbuf-dma\.0$' &&
		[ "$(grep -c ' pipe-[sd][rs][ct]-[01] ' "$T/out")" -eq 4 ]
}

test_list_pipe() {
	"$D" pipe --frames 40 --pool 2 -q --no-compare >"$T/pipe.out" 2>&1 &
	pid=$!
	# until list catches it in the steady state (not starting, not
	# already tearing down, which a fast guest may reach first)
	i=0
	until "$D" list >"$T/out" 2>"$T/err" && has out 'pipe-dst-1 .*map' &&
		pipe_listed; do
		i=$((i + 1))
		[ $i -gt 100 ] && break
		sleep 0.1
	done
	pipe_listed
	ok $? "list while pipe runs: 4 buffers, their holders, maps and attachments"
	grep -E 'pipe-|^sgbuf' "$T/out" | sed 's/^/# /'
	wait $pid
	rc=$?
	cp "$T/pipe.out" "$T/out"
	[ $rc -eq 0 ]
	ok $? "pipe run alongside list exits 0"
}

test_list_alloc() {
	"$D" alloc --name X --map 1M --hold 30 >"$T/alloc.out" 2>"$T/alloc.err" &
	pid=$!
	wait_for "$T/alloc.out" '^inode:'
	fd=$(sed -n 's/^fd: *//p' "$T/alloc.out")
	ino=$(sed -n 's/^inode: *//p' "$T/alloc.out")
	run "$D" list
	[ $rc -eq 0 ] &&
		has out "^ *$ino +1 MiB +sgbuf +X +[0-9]+ +dmabuf\[$pid\] fd $fd map 1 MiB$" &&
		has out "^ *$pid +dmabuf +1 +1 +1 +1 MiB +1 MiB$"
	ok $? "list shows buffer X: size, exporter, holder pid $pid, fd and mapping"
	run "$D" list --json
	[ $rc -eq 0 ] && has out "\"inode\":$ino,\"size\":1048576,\"exporter\":\"sgbuf\",\"name\":\"X\"" &&
		has out "\"holders\":\\[\\{\"pid\":$pid,\"comm\":\"dmabuf\",\"fds\":\\[$fd\\],\"mapped\":1048576\\}\\]"
	ok $? "list --json shows buffer X and its holder"
	run "$D" info "/proc/$pid/fd/$fd"
	[ $rc -eq 0 ] && has out '^size: +1048576 \(1 MiB\)$' &&
		has out '^exporter: +sgbuf$' && has out '^name: +X$' &&
		has out "^inode: +$ino$" && has out '^count: +[0-9]+$'
	ok $? "info /proc/PID/fd/N on another process's buffer"
	kill -TERM $pid
	wait $pid
	rc=$?
	run "$D" list
	[ $rc -eq 0 ] && ! has out ' X '
	ok $? "alloc --hold ends with status 0 on SIGTERM, buffer gone"
}

test_info_alloc() {
	run "$D" alloc --name Y 64k -- sh -c "$D info \$DMABUF_FD; echo size=\$DMABUF_SIZE"
	[ $rc -eq 0 ] && has out '^name: +Y$' && has out '^size: +65536 ' &&
		has out '^size=65536$'
	ok $? "alloc -- COMMAND: the command inherits the buffer (DMABUF_FD)"
	run "$D" alloc 1M -- sh -c 'exit 7'
	[ $rc -eq 7 ]
	ok $? "alloc -- COMMAND: the command's exit status ($rc)"
	run "$D" info 0
	[ $rc -eq 1 ] && has err 'fd 0 is not a dma-buf \(it is /dev/null\)'
	ok $? "info on a non-dma-buf fd: clear error, status 1"
	run "$D" info 99
	[ $rc -eq 1 ] && has err 'fd 99 is not open'
	ok $? "info on a closed fd: clear error, status 1"
	run "$D" info /proc/1/fd/999
	[ $rc -eq 1 ] && has err 'process 1 has no such fd'
	ok $? "info on a missing /proc fd: clear error"
	run "$D" alloc --backend sgbuf --contiguous 8M
	[ $rc -eq 1 ] && has err 'cannot allocate 8 MiB: larger than the backend allows for a contiguous buffer'
	ok $? "alloc --contiguous above the limit: clear error, status 1"
	run "$D" alloc --backend heap:no-such 1M
	[ $rc -eq 1 ] && has err '/dev/dma_heap/no-such does not exist'
	ok $? "alloc from a missing heap: clear error, status 1"
	run "$D" alloc 1M -- /nonexistent
	[ $rc -eq 127 ] && has err "cannot run '/nonexistent'"
	ok $? "alloc -- missing command: status 127"
	run "$D" alloc 0
	[ $rc -eq 2 ] && has err "bad size '0'"
	ok $? "alloc 0: usage error, status 2"
	run "$D" caps
	[ $rc -eq 0 ] && has out '^sgbuf +sgbuf +4 KiB ' &&
		has out '^engine: sgbuf DMA consumer available'
	ok $? "caps: sgbuf and its engine"
}

echo "# dmabuf tool tests: $("$D" --version)"
baseline=$(sgbuf_buffers)
test_pipe_modes
test_pipe_errors
test_pipe_kill
test_list_pipe
test_list_alloc
test_info_alloc
now=$(sgbuf_buffers)
[ "$now" -eq "$baseline" ]
ok $? "sgbuf buffers in bufinfo back to baseline ($now, was $baseline)"
rm -rf "$T"
exit 0
