#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# debug-kernel.sh [--print-key|--status]
#
# Builds the debug kernel of `make check-debug` from Debian's
# linux-source-6.12: x86_64_defconfig + kvm_guest.config +
# selftests/debug/debug.config, with ccache. Prints the kit directory:
#
#   KIT/vmlinux          the kernel, booted through its PVH entry
#   KIT/root/lib/modules/RELEASE/   the in-tree modules (vgem, vivid, ...)
#   KIT/build            the O= tree out-of-tree modules build against
#   KIT/release          `make kernelrelease`
#
# The kit lives outside the repository, in $SGBUF_CACHE (default
# ~/.cache/sgbuf), keyed by a hash of the fragment, the source package's
# version, the compiler and this script's recipe version; a kit that is
# there is used as it is. A cold build takes about 20 minutes on 2 idle
# cores, a rebuild with a warm ccache about a minute. Progress goes to
# stderr once a minute, the full log to KIT.log.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
fragment=$top/selftests/debug/debug.config
# Bump when the way the kit is built changes.
recipe=1

cache=${SGBUF_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/sgbuf}
tarball=$(find /usr/src -maxdepth 1 -name 'linux-source-6.12.tar.*' | sort | head -n 1)
[ -n "$tarball" ] || { echo "debug-kernel: linux-source-6.12 is not installed" >&2; exit 1; }
srcver=$(dpkg-query -W -f='${Version}' linux-source-6.12 2>/dev/null || stat -c %s-%Y "$tarball")
ccver=$(gcc --version | head -n 1)
key=$( { cat "$fragment"; echo "$srcver"; echo "$ccver"; echo "recipe $recipe"; } |
	sha256sum | cut -c1-16)
kit=$cache/debug-kernel/$key

case ${1:-} in
--print-key) echo "$key"; exit 0 ;;
--status)
	if [ -e "$kit/ready" ]; then echo "built: $kit"; else echo "not built: $kit"; fi
	exit 0
	;;
"") ;;
*) echo "usage: $0 [--print-key|--status]" >&2; exit 2 ;;
esac

mkdir -p "$cache/debug-kernel"
exec 9>"$cache/debug-kernel/.lock"
flock 9

if [ -e "$kit/ready" ]; then
	echo "$kit"
	exit 0
fi

command -v ccache >/dev/null || { echo "debug-kernel: ccache missing (make deps)" >&2; exit 1; }

# The whole source tree, unpacked once per source package version.
src=$cache/src-$srcver
if [ ! -e "$src/.unpacked" ]; then
	echo "debug-kernel: unpacking $(basename "$tarball") into $src" >&2
	rm -rf "$src"
	mkdir -p "$src"
	tar -xf "$tarball" -C "$src" --strip-components=1
	touch "$src/.unpacked"
fi

rm -rf "$kit"
mkdir -p "$kit"
log=$kit.log
b=$kit/build
export CCACHE_DIR=$cache/ccache
export CCACHE_MAXSIZE=2G
# Absolute paths differ between checkouts and caches; let ccache hit anyway.
export CCACHE_BASEDIR=$cache
jobs=$(nproc)

kmake() {
	make -C "$src" O="$b" CC="ccache gcc" HOSTCC="ccache gcc" "$@"
}

echo "debug-kernel: configuring ($key)" >&2
{
	kmake x86_64_defconfig
	kmake kvm_guest.config
	"$src/scripts/kconfig/merge_config.sh" -m -O "$b" "$b/.config" "$fragment"
	kmake olddefconfig
} >"$log" 2>&1 || { tail -n 30 "$log" >&2; exit 1; }

# Every line of the fragment must have survived olddefconfig.
lost=0
while IFS= read -r line; do
	case $line in
	CONFIG_*=*) want=$line; sym=${line%%=*} ;;
	"# CONFIG_"*" is not set") sym=${line#\# }; sym=${sym%% *}; want="" ;;
	*) continue ;;
	esac
	if [ -n "$want" ]; then
		grep -qxF "$want" "$b/.config" && continue
	else
		grep -q "^$sym=" "$b/.config" || continue
	fi
	echo "debug-kernel: olddefconfig did not keep: $line" >&2
	lost=1
done <"$fragment"
[ $lost = 0 ] || exit 1

echo "debug-kernel: building vmlinux and modules with -j$jobs" \
	"(cold: about 20 min on 2 cores; log: $log)" >&2
start=$SECONDS
kmake -j"$jobs" vmlinux modules >>"$log" 2>&1 &
pid=$!
while kill -0 "$pid" 2>/dev/null; do
	for _ in $(seq 60); do
		sleep 1
		kill -0 "$pid" 2>/dev/null || break
	done
	kill -0 "$pid" 2>/dev/null || break
	printf 'debug-kernel: %d min, %d objects built\n' $(((SECONDS - start) / 60)) \
		"$(find "$b" -name '*.o' 2>/dev/null | wc -l)" >&2
done
if ! wait "$pid"; then
	echo "debug-kernel: build failed; last lines of $log:" >&2
	grep -E 'error|Error' "$log" | tail -n 20 >&2
	exit 1
fi
kmake INSTALL_MOD_PATH="$kit/root" INSTALL_MOD_STRIP=1 modules_install >>"$log" 2>&1
kmake -s kernelrelease >"$kit/release"
ln -s build/vmlinux "$kit/vmlinux"
echo "debug-kernel: built $(cat "$kit/release") in $(((SECONDS - start) / 60)) min" \
	"(ccache: $(ccache -s | grep -E '^ *Hits' | head -n 1 | tr -s ' '))" >&2
touch "$kit/ready"
echo "$kit"
