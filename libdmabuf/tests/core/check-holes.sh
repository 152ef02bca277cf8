#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# check-holes.sh PAHOLE BINARY: pahole finds every public struct in
# BINARY's debug information, with no hole and no padding.
set -u
pahole=$1
bin=$2
status=0
for s in dmabuf_caps dmabuf_info dmabuf_job dmabuf_engine_config \
	dmabuf_frame; do
	out=$("$pahole" -C "$s" "$bin" 2>&1)
	if ! printf '%s\n' "$out" | grep -q "^struct $s {"; then
		echo "not found by pahole: struct $s"
		printf '%s\n' "$out" | head -n 5
		status=1
	elif printf '%s\n' "$out" | grep -Eq 'XXX|hole|padding:'; then
		echo "struct $s has holes or padding:"
		printf '%s\n' "$out"
		status=1
	else
		echo "ok: struct $s: $(printf '%s\n' "$out" |
			sed -n 's/.*size: \([0-9]*\),.*/\1/p') bytes, no hole"
	fi
done
exit $status
