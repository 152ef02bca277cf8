#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# Installs the Debian packages sgbuf builds and tests with, if any is
# missing: the two guest kernels with their headers and modules, QEMU,
# busybox for the guest, the kernel source (kselftest headers,
# checkpatch), and the userspace toolchain. Runs apt-get only when needed.
set -euo pipefail

PACKAGES=(
	build-essential perl bc bison flex libelf-dev kmod cpio xz-utils zstd
	sparse dwarves pkg-config meson ninja-build shellcheck
	qemu-system-x86 busybox-static
	linux-image-amd64 linux-headers-amd64
	linux-image-6.12-amd64 linux-headers-6.12-amd64
	linux-source-6.12
	libdrm-dev scdoc valgrind python3
	# the debug kernel of make check-debug
	ccache libssl-dev
)

missing=()
for p in "${PACKAGES[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed'; then
		missing+=("$p")
	fi
done

if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi

echo "install-deps: installing ${missing[*]}"
SUDO=
if [ "$(id -u)" -ne 0 ]; then
	SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
echo "install-deps: done"
