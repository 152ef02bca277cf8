#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Unpacks the few files sgbuf uses from Debian's linux-source-6.12 tarball
# into build/ksrc (once): the kselftest headers, the upstream dma-buf heap
# selftest, vgem's uapi header (libdrm does not ship it), checkpatch.pl
# with its data files, and kernel-doc. They are used
# at build time only and never copied into the repository.
# Prints the path of the unpacked tree.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
dest=$top/build/ksrc
tarball=$(find /usr/src -maxdepth 1 -name "linux-source-6.12*.tar.*" | sort | head -n 1)
if [ -z "$tarball" ]; then
	echo "ksrc: linux-source-6.12 is not installed (run scripts/install-deps.sh)" >&2
	exit 1
fi
inner=$(basename "$tarball"); inner=${inner%.tar.*}
stamp=$dest/.stamp-$(stat -c %s-%Y "$tarball")

if [ ! -e "$stamp" ]; then
	rm -rf "$dest"
	mkdir -p "$dest"
	tar -xf "$tarball" -C "$dest" --wildcards \
		"$inner/tools/testing/selftests/kselftest.h" \
		"$inner/tools/testing/selftests/kselftest_harness.h" \
		"$inner/tools/testing/selftests/dmabuf-heaps/*" \
		"$inner/include/uapi/drm/vgem_drm.h" \
		"$inner/scripts/checkpatch.pl" \
		"$inner/scripts/spelling.txt" \
		"$inner/scripts/const_structs.checkpatch" \
		"$inner/scripts/kernel-doc"
	touch "$stamp"
fi
echo "$dest/$inner"
