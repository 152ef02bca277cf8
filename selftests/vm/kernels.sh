#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# kernels.sh - source it to get the installed test kernels:
#   KVER_61   newest 6.1.* under /lib/modules (empty if none)
#   KVER_612  newest 6.12.* under /lib/modules (empty if none)
#   sgvm_kernels        prints "KVER_61=..." and "KVER_612=..."
#   sgvm_kernel_list    prints the non-empty versions, one per line
# Run it directly to print them.  Safe to source under set -euo pipefail.

_sgvm_newest() {
	# _sgvm_newest PREFIX: newest /lib/modules/PREFIX* that also has a vmlinuz
	local d v best=""
	for d in /lib/modules/"$1"*; do
		[[ -d $d ]] || continue
		v=${d##*/}
		[[ -e /boot/vmlinuz-$v ]] || continue
		if [[ -z $best ]] || [[ $(printf '%s\n%s\n' "$best" "$v" | sort -V | tail -n1) = "$v" ]]; then
			best=$v
		fi
	done
	printf '%s' "$best"
}

KVER_61=$(_sgvm_newest 6.1.)
KVER_612=$(_sgvm_newest 6.12.)

sgvm_kernels() {
	printf 'KVER_61=%s\nKVER_612=%s\n' "$KVER_61" "$KVER_612"
}

sgvm_kernel_list() {
	local v
	for v in "$KVER_61" "$KVER_612"; do
		[[ -n $v ]] && printf '%s\n' "$v"
	done
	return 0
}

if [[ ${BASH_SOURCE[0]} = "$0" ]]; then
	sgvm_kernels
fi
