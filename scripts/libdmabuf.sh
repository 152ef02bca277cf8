#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# libdmabuf.sh CONFIG: configures (once) and builds one of libdmabuf's
# build trees, and prints its directory.
#
#   host     build/libdmabuf         shared library, tool, unit tests,
#                                    API man pages (kernel-doc)
#   san      build/libdmabuf-san     the same with ASan and UBSan
#   static   build/libdmabuf-static  static tool and tests for the guests
#
# Output of meson and ninja goes to stderr.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cfg=${1:?usage: libdmabuf.sh host|san|static}
opts=()
case $cfg in
host)
	dir=$top/build/libdmabuf
	ksrc=$("$top/scripts/ksrc.sh")
	opts=(-Dkernel_doc="$ksrc/scripts/kernel-doc")
	;;
san)
	dir=$top/build/libdmabuf-san
	opts=("-Db_sanitize=address,undefined" -Db_lundef=false)
	;;
static)
	dir=$top/build/libdmabuf-static
	opts=(-Ddefault_library=static -Dstatic_executables=true)
	;;
*)
	echo "libdmabuf.sh: unknown configuration '$cfg'" >&2
	exit 2
	;;
esac

if [ ! -f "$dir/build.ninja" ]; then
	meson setup --prefix=/usr/local "${opts[@]}" "$dir" "$top/libdmabuf" >&2
elif [ ${#opts[@]} -gt 0 ]; then
	meson configure "${opts[@]}" "$dir" >&2
fi
ninja -C "$dir" >&2
echo "$dir"
