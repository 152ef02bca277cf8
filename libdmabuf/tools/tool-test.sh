#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# tool-test.sh DMABUF CASE: host tests of the dmabuf tool, no dma-buf
# backend needed. Each CASE runs commands and checks their exit status and
# what they print; any mismatch fails the test (exit 1) and says why.

tool=$1
case_name=$2
fails=0
# (no trap: under meson test --wrap=valgrind, dash leaks its trap string)
tmp=$(mktemp -d) || exit 1

# expect STATUS 'stdout regex' 'stderr regex' CMD...: an empty regex
# matches anything; "-" requires the stream to be empty.
expect() {
	want=$1 out_re=$2 err_re=$3
	shift 3
	"$@" >"$tmp/out" 2>"$tmp/err" </dev/null
	got=$?
	desc="$*"
	if [ "$got" -ne "$want" ]; then
		fail "$desc: exit status $got, expected $want"
	fi
	check_stream out "$out_re" "$desc"
	check_stream err "$err_re" "$desc"
}

check_stream() {
	if [ "$2" = "-" ]; then
		[ -s "$tmp/$1" ] && fail "$3: std$1 not empty"
	elif [ -n "$2" ] && ! grep -Eq -- "$2" "$tmp/$1"; then
		fail "$3: std$1 does not match /$2/"
	fi
	return 0
}

fail() {
	echo "FAIL: $*"
	echo "--- stdout:"; cat "$tmp/out"
	echo "--- stderr:"; cat "$tmp/err"
	fails=$((fails + 1))
}

case $case_name in
help)
	expect 0 '^usage: dmabuf ' - "$tool" --help
	for c in list info alloc caps pipe; do
		grep -q "^  $c " "$tmp/out" || fail "--help does not list $c"
	done
	for c in list info alloc caps pipe; do
		expect 0 "^usage: dmabuf $c" - "$tool" "$c" --help
		expect 0 "^usage: dmabuf $c" - "$tool" help "$c"
	done
	expect 0 '^usage: dmabuf ' - "$tool" help
	;;
version)
	expect 0 '^dmabuf [0-9]+\.[0-9]+\.[0-9]+ \(libdmabuf [0-9]+\.[0-9]+\.[0-9]+\)$' - \
		"$tool" --version
	;;
usage)
	expect 2 - '^usage: dmabuf ' "$tool"
	expect 2 - "unknown command 'frobnicate'" "$tool" frobnicate
	expect 2 - "unknown option '--bogus'" "$tool" --bogus
	expect 2 - "unknown command 'nope'" "$tool" help nope
	expect 2 - "^dmabuf list: unknown option '--bogus'" "$tool" list --bogus
	expect 2 - "Try 'dmabuf list --help'" "$tool" list -x
	expect 2 - "unexpected argument 'extra'" "$tool" list extra
	expect 2 - "unexpected argument 'x'" "$tool" caps x
	expect 2 - "unknown backend 'nonsense'" "$tool" caps --backend nonsense
	;;
list)
	expect 0 '^ *INODE +SIZE +EXPORTER +NAME +COUNT +HELD BY$' '' "$tool" list
	grep -Eq '^ *PID +COMMAND +BUFFERS +FDS +MAPS +SIZE +PSS$' "$tmp/out" ||
		fail "list: no process table header"
	grep -Eq '^EXPORTER +BUFFERS +SIZE$' "$tmp/out" ||
		fail "list: no exporter table header"
	grep -Eq '^total +[0-9]+ +[0-9]' "$tmp/out" ||
		fail "list: no total line"
	expect 0 '^ *INODE' '' "$tool" list --bytes
	;;
list-json)
	expect 0 '^\{"buffers":\[' '' "$tool" list --json
	if command -v python3 >/dev/null; then
		python3 -c 'import json, sys; d = json.load(sys.stdin)
for k in ("buffers", "processes", "exporters", "total", "bufinfo",
	  "unreadable_processes"):
	assert k in d, k' <"$tmp/out" || fail "list --json: not the expected JSON"
	fi
	;;
info)
	expect 2 - 'missing FD' "$tool" info
	expect 2 - "neither an fd number nor /proc/PID/fd/N" "$tool" info foo
	expect 1 - '^dmabuf info: fd 0 is not a dma-buf \(it is /dev/null\)$' \
		"$tool" info 0
	expect 1 - '^dmabuf info: fd 97 is not open$' "$tool" info 97
	expect 1 - '/proc/self/fd/0 is not a dma-buf \(it is /dev/null\)' \
		"$tool" info /proc/self/fd/0
	expect 1 - 'no process 2147483646' "$tool" info /proc/2147483646/fd/0
	expect 1 - '/etc/passwd is not a dma-buf' "$tool" info /etc/passwd
	;;
alloc)
	expect 2 - 'missing SIZE' "$tool" alloc
	expect 2 - "bad size '0'" "$tool" alloc 0
	expect 2 - "bad size '12Q'" "$tool" alloc 12Q
	expect 2 - "bad size 'k'" "$tool" alloc k
	expect 2 - "too large" "$tool" alloc 99999999999999999999
	expect 2 - "too large" "$tool" alloc 100000000000G
	expect 2 - "unknown backend 'gpu'" "$tool" alloc --backend gpu 1M
	expect 2 - "needs an argument" "$tool" alloc 1M --name
	expect 2 - "bad --hold" "$tool" alloc --hold soon 1M
	expect 2 - "not with a COMMAND" "$tool" alloc --hold 1 1M -- true
	expect 1 - '/dev/dma_heap/no-such-heap' \
		"$tool" alloc --backend heap:no-such-heap 1M
	;;
pipe)
	expect 2 - "bad --frames '0'" "$tool" pipe --frames 0
	expect 2 - "unknown mode 'fast'" "$tool" pipe --mode fast
	expect 2 - "option '--width' needs an argument" "$tool" pipe --width
	expect 2 - "bad --pool '65'" "$tool" pipe --pool 65
	expect 2 - "larger than 1 GiB" "$tool" pipe -W 65536 -H 65536
	expect 2 - "--corrupt: no such frame" "$tool" pipe --frames 2 --corrupt 2
	expect 2 - "--fail-frame needs the engine" "$tool" pipe --mode cpu \
		--fail-frame 1
	if [ ! -e /dev/sgbuf ]; then
		expect 1 - 'sgbuf DMA engine' "$tool" pipe --frames 1
	fi
	;;
caps)
	"$tool" caps >"$tmp/out" 2>"$tmp/err" </dev/null
	rc=$?
	[ $rc -le 1 ] || fail "caps: exit status $rc"
	check_stream out '^BACKEND +NAME +PAGE +MAX SIZE +MAX CONTIG +FLAGS$' caps
	check_stream out '^engine: ' caps
	check_stream out '^sgbuf ' caps
	check_stream out '^udmabuf ' caps
	if [ ! -e /dev/sgbuf ]; then
		check_stream out '^sgbuf +- .*not present$' caps
	fi
	;;
*)
	echo "unknown case $case_name"
	rm -rf "$tmp"
	exit 2
	;;
esac

rm -rf "$tmp"
[ $fails -eq 0 ] && echo "ok: $case_name"
[ $fails -eq 0 ]
