#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# check-console.sh LOG [TAINT] - scan a kernel console log for splats.
#
# Exit 0 if clean.  Exit 125 if LOG contains a splat pattern (the console is
# printed to stderr from the first matching line, up to 150 lines), or if the
# numeric TAINT value has bit 9 (W, 512) or bit 7 (D, 128) set.
# Taint O (4096) and E (8192) from unsigned out-of-tree modules are fine.
# Exit 2 on usage errors.
#
# SGVM_ALLOW_WARN=REGEX forgives WARN()s whose "WARNING: ... at" line
# matches REGEX: their whole "cut here" ... "end trace" block is dropped
# before the scan, and taint W is then accepted. For a known warning of
# the kernel's own code that a test provokes on purpose; each forgiven
# block is named on stderr.

set -euo pipefail

# Keep in sync with the documentation in run-in-vm.sh / README.
SPLAT_RE='WARNING:|BUG:|Oops|Kernel panic|general protection fault|KASAN:|UBSAN:|KFENCE:|possible circular locking|inconsistent lock state|sleeping function called from invalid context|DMA-API: |hung_task|soft lockup|unreferenced object|blocked for more than [0-9]+ seconds|rcu: INFO: .* detected stalls|refcount_t: |list_(add|del) corruption'
TAINT_BAD=$(( (1 << 9) | (1 << 7) ))

if [[ $# -lt 1 || $# -gt 2 ]]; then
	echo "usage: $0 CONSOLE.LOG [TAINT]" >&2
	exit 2
fi
log=$1
taint=${2:-}
[[ -r $log ]] || { echo "check-console: cannot read $log" >&2; exit 2; }

rc=0
allowed=0
if [[ -n ${SGVM_ALLOW_WARN:-} ]]; then
	filtered=$(mktemp)
	trap 'rm -f "$filtered"' EXIT
	# shellcheck disable=SC2016  # awk program
	LC_ALL=C awk -v re="$SGVM_ALLOW_WARN" -v out="$filtered" '
	{ sub(/\r$/, "") }
	/-\[ cut here \]-/ { inblk = 1; blk = $0 "\n"; allow = 0; next }
	inblk {
		blk = blk $0 "\n"
		if ($0 ~ /WARNING: .* at / && $0 ~ re) { allow = 1; w = $0 }
		if ($0 ~ /---\[ end trace/) {
			inblk = 0
			if (allow) { n++; print "forgiven: " w > "/dev/stderr" }
			else printf "%s", blk > out
		}
		next
	}
	{ print > out }
	END { if (inblk) printf "%s", blk > out; print n + 0 }' "$log" >"$filtered.n" 2> >(sed 's/^/check-console: /' >&2)
	allowed=$(cat "$filtered.n")
	rm -f "$filtered.n"
	log=$filtered
fi
first=$(LC_ALL=C grep -a -n -m1 -E "$SPLAT_RE" "$log" | cut -d: -f1 || true)
if [[ -n $first ]]; then
	{
		echo "run-in-vm: kernel splat in console log (line $first):"
		tail -n "+$first" "$log" | head -n 150 | tr -d '\r' | sed 's/^/  | /'
	} >&2
	rc=125
fi
if [[ -n $taint ]]; then
	if [[ ! $taint =~ ^[0-9]+$ ]]; then
		echo "check-console: bad taint value: $taint" >&2
		exit 2
	fi
	# A forgiven WARN() leaves taint W behind; D never passes.
	(( allowed > 0 )) && taint=$(( taint & ~(1 << 9) ))
	if (( taint & TAINT_BAD )); then
		echo "run-in-vm: kernel tainted $taint (W=512/D=128 set)" >&2
		rc=125
	fi
fi
exit "$rc"
