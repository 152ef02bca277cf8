#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# check-symbols.sh LIB SYMBOLS MAP HEADER: four lists of the API's functions
# agree: the dynamic symbols LIB defines (each in the LIBDMABUF_0 version
# node), the names in SYMBOLS, the global names of the version script MAP
# and the function prototypes of HEADER.
set -u
lib=$1
list=$2
map=$3
header=$4
# (no trap: under meson test --wrap=valgrind, dash leaks its trap string)
tmp=$(mktemp -d "${TMPDIR:-/tmp}/check-symbols.XXXXXX") || exit 1

# what the library exports, version node stripped (checked below); a
# static build (libdmabuf.a) exports nothing: the other three still agree
lists="map header"
: >"$tmp/wrong-node"
case $lib in
*.a)
	echo "note: $lib is a static archive: its exports are not checked"
	;;
*)
	nm -D --defined-only --with-symbol-versions "$lib" |
		awk '$2 == "T" || $2 == "D" || $2 == "B" || $2 == "R" { print $3 }' |
		grep -v '^LIBDMABUF_0@@LIBDMABUF_0$' | sort >"$tmp/exported"
	grep -v '@@LIBDMABUF_0$' "$tmp/exported" >"$tmp/wrong-node"
	sed 's/@@LIBDMABUF_0$//' "$tmp/exported" >"$tmp/lib"
	lists="lib map header"
	;;
esac

grep -v '^#' "$list" | sort >"$tmp/symbols.txt"

# the map file: the names between "global:" and "local:"
sed -n '/global:/,/local:/p' "$map" |
	sed -n 's/^[[:space:]]*\([a-z_][a-z0-9_]*\);.*/\1/p' | sort >"$tmp/map"

# the header: a prototype starts at column 0 with its return type, then
# the function name and "(" (comment lines start with " *")
grep -E '^[a-z][a-z0-9_ ]*[ *]dmabuf_[a-z0-9_]+\(' "$header" |
	sed -E 's/^.*[ *](dmabuf_[a-z0-9_]+)\(.*$/\1/' | sort >"$tmp/header"

status=0
if [ -s "$tmp/wrong-node" ]; then
	echo "exported outside the LIBDMABUF_0 version node:"
	cat "$tmp/wrong-node"
	status=1
fi
for f in $lists; do
	if ! cmp -s "$tmp/symbols.txt" "$tmp/$f"; then
		echo "$f differs from $list:"
		diff -u "$tmp/symbols.txt" "$tmp/$f" | tail -n +3
		status=1
	fi
done
[ -s "$tmp/symbols.txt" ] || { echo "no symbols in $list"; status=1; }
[ $status -eq 0 ] &&
	echo "ok: $(wc -l <"$tmp/symbols.txt") symbols in LIBDMABUF_0: $lists and $list agree"
rm -rf "$tmp"
exit $status
