#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# check-symbols.sh LIB SYMBOLS: the dynamic symbols LIB defines are exactly
# the names in SYMBOLS, each in the LIBDMABUF_0 version node.
lib=$1
list=$2
actual=$(nm -D --defined-only --with-symbol-versions "$lib" |
	awk '$2 == "T" || $2 == "D" || $2 == "B" || $2 == "R" { print $3 }' |
	grep -v '^LIBDMABUF_0@@LIBDMABUF_0$' | sort)
expected=$(grep -v '^#' "$list" | sed 's/$/@@LIBDMABUF_0/' | sort)
if [ "$actual" != "$expected" ]; then
	echo "exported symbols differ from $list:"
	printf '%s\n' "$expected" >"${TMPDIR:-/tmp}/sym.expected.$$"
	printf '%s\n' "$actual" | diff -u "${TMPDIR:-/tmp}/sym.expected.$$" - 
	rm -f "${TMPDIR:-/tmp}/sym.expected.$$"
	exit 1
fi
echo "ok: $(printf '%s\n' "$actual" | wc -l) symbols, all in LIBDMABUF_0"
