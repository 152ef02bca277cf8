#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# kernel-doc-man.sh PERL KERNEL_DOC HEADER VERSION: the man page (section 3)
# of every function, struct and enum documented in HEADER, from the
# kernel's scripts/kernel-doc, on stdout. kernel-doc writes section 9
# "Kernel Hacker's Manual" pages; they are renamed here. With
# SOURCE_DATE_EPOCH set, the pages carry that date.
set -eu
perl=$1 kdoc=$2 header=$3 version=$4

if [ -n "${SOURCE_DATE_EPOCH:-}" ]; then
	KBUILD_BUILD_TIMESTAMP="@$SOURCE_DATE_EPOCH"
	export KBUILD_BUILD_TIMESTAMP
fi
out=$("$perl" "$kdoc" -man "$header")
[ -n "$out" ] || { echo "kernel-doc-man: no output for $header" >&2; exit 1; }
printf '%s\n' "$out" | sed -E \
	"s/^\.TH \"[^\"]*\" 9 \"([^\"]*)\" \"([^\"]*)\" \"[^\"]*\" LINUX\$/.TH \"\1\" 3 \"\2\" \"libdmabuf $version\" \"libdmabuf API\"/"
