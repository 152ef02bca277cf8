#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# run-in-vm.sh - boot an installed Debian kernel in QEMU with a busybox
# initramfs, optionally load modules, run one shell command in the guest and
# return its exit status.  Nothing is ever loaded into the host kernel.
#
# Run with -h for usage.  Exit status:
#   <n>  the guest command's exit status
#   124  timeout (QEMU killed)
#   125  kernel splat (panic/oops/WARN/BUG/KASAN/lockdep/...), taint W or D,
#        or the VM died without reporting a status
#   126  a module failed to load (the command was not run)
#   2    usage error / host-side setup failure

set -euo pipefail

SELF=$(readlink -f "${BASH_SOURCE[0]}")
VMDIR=$(dirname "$SELF")
TOP=$(cd "$VMDIR/../.." && pwd)
BUILD=${SGVM_BUILD_DIR:-$TOP/build/vm}
CACHE=$BUILD/cache

usage() {
	cat <<'EOF'
usage: run-in-vm.sh [options] KVER -- 'guest shell command'

KVER is an installed kernel version (/lib/modules/KVER, /boot/vmlinuz-KVER),
or the shorthands 6.1 / 6.12 (see kernels.sh), or "kit" with --kit.

  --kit DIR        boot a kernel kit built by scripts/debug-kernel.sh
                   (DIR/vmlinux, DIR/root/lib/modules, DIR/release)
                   instead of an installed kernel; KVER may then be "kit"
  -m NAME          in-tree module of KVER (+ its dependencies), insmod'ed
                   before the command (repeatable)
  -k FILE.ko[:'p1=v p2=v']
                   out-of-tree module with optional parameters, insmod'ed
                   after the -m ones, in the given order (repeatable)
  -f SRC[:DEST]    copy a file/dir into the initramfs (default DEST
                   /bin/<basename>); dynamic ELFs get their libraries too
  --variant default|swiotlb|iommu
                   default: -machine pc; swiotlb: swiotlb=force;
                   iommu: q35 + intel-iommu, intel_iommu=on iommu.strict=1
  --append ARGS    extra kernel command line
  --allow-warn RE  forgive WARN()s whose "WARNING: ... at" line matches the
                   extended regex RE (and the W taint they leave); for a
                   known warning of the kernel's own code that a test
                   provokes on purpose (see check-console.sh)
  --mem SIZE       guest memory (default 2G)
  --smp N          guest CPUs (default 1)
  --cpu MODEL      QEMU CPU model (default qemu64 with TCG, host with KVM)
  --timeout SECS   kill the VM after SECS (default 600) -> exit 124
  --accel auto|kvm|tcg
                   auto (default): KVM only if usable and a probe boot works
  --console        copy the kernel console to stderr live
  --log FILE       save the kernel console log to FILE
  --timing         print boot/command timing to stderr
  --keep           keep the work directory (printed on stderr)
  -h, --help       this text

Exit: guest status; 124 timeout; 125 splat/panic/taint W|D; 126 insmod failed.
EOF
}

die() {
	echo "run-in-vm: $*" >&2
	exit 2
}

# ---------------------------------------------------------------- options
MODS=()
KMODS=()
FILES=()
VARIANT=default
APPEND=""
MEM=2G
SMP=1
CPU=""
TIMEOUT=600
ACCEL=auto
CONSOLE=0
LOGFILE=""
KEEP=0
TIMING=0
KVER=""
CMD=""
KIT=""

need_arg() {
	[[ $# -ge 2 ]] || die "option $1 needs an argument"
}

while [[ $# -gt 0 ]]; do
	case $1 in
	-m) need_arg "$@"; MODS+=("$2"); shift 2 ;;
	-k) need_arg "$@"; KMODS+=("$2"); shift 2 ;;
	--kit) need_arg "$@"; KIT=$2; shift 2 ;;
	-f) need_arg "$@"; FILES+=("$2"); shift 2 ;;
	--variant) need_arg "$@"; VARIANT=$2; shift 2 ;;
	--append) need_arg "$@"; APPEND="$APPEND $2"; shift 2 ;;
	--allow-warn) need_arg "$@"; export SGVM_ALLOW_WARN=$2; shift 2 ;;
	--mem) need_arg "$@"; MEM=$2; shift 2 ;;
	--smp) need_arg "$@"; SMP=$2; shift 2 ;;
	--cpu) need_arg "$@"; CPU=$2; shift 2 ;;
	--timeout|-t) need_arg "$@"; TIMEOUT=$2; shift 2 ;;
	--accel|-a) need_arg "$@"; ACCEL=$2; shift 2 ;;
	--console) CONSOLE=1; shift ;;
	--log) need_arg "$@"; LOGFILE=$2; shift 2 ;;
	--keep) KEEP=1; shift ;;
	--timing) TIMING=1; shift ;;
	-h|--help) usage; exit 0 ;;
	--) shift; CMD="$*"; break ;;
	-*) usage >&2; die "unknown option: $1" ;;
	*)
		if [[ -z $KVER ]]; then
			KVER=$1
			shift
		else
			# no "--": the rest is the command
			CMD="$*"
			break
		fi
		;;
	esac
done

[[ -n $KVER ]] || { usage >&2; die "missing KVER"; }
[[ -n $CMD ]] || die "missing guest command (after --)"
[[ $TIMEOUT =~ ^[0-9]+$ && $TIMEOUT -gt 0 ]] || die "bad --timeout: $TIMEOUT"
[[ $SMP =~ ^[0-9]+$ ]] || die "bad --smp: $SMP"
case $VARIANT in default|swiotlb|iommu) ;; *) die "bad --variant: $VARIANT" ;; esac
case $ACCEL in auto|kvm|tcg) ;; *) die "bad --accel: $ACCEL" ;; esac

# modprobe/modinfo read modules from MODBASE/lib/modules/KVER
MODBASE=/
if [[ -n $KIT ]]; then
	[[ -e $KIT/ready && -s $KIT/vmlinux ]] || die "--kit $KIT: not a built kit"
	KVER=$(cat "$KIT/release")
	MODBASE=$(readlink -f "$KIT/root")
fi

# KVER shorthands
if [[ -z $KIT && ! -d /lib/modules/$KVER ]]; then
	# shellcheck source=kernels.sh
	source "$VMDIR/kernels.sh"
	case $KVER in
	6.1|61) KVER=$KVER_61 ;;
	6.12|612) KVER=$KVER_612 ;;
	esac
fi
if [[ -n $KIT ]]; then
	VMLINUZ=$(readlink -f "$KIT/vmlinux")
else
	VMLINUZ=/boot/vmlinuz-$KVER
	[[ -d /lib/modules/$KVER ]] || die "kernel $KVER not installed (/lib/modules/$KVER)"
fi
[[ -r $VMLINUZ ]] || die "cannot read $VMLINUZ"

command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 not found"
BUSYBOX=""
for b in /bin/busybox /usr/bin/busybox; do
	if [[ -x $b ]] && ! LC_ALL=C ldd "$b" >/dev/null 2>&1; then
		BUSYBOX=$b
		break
	fi
done
[[ -n $BUSYBOX ]] || die "static busybox not found (apt-get install busybox-static)"

mkdir -p "$CACHE" "$BUILD/tmp"

# ---------------------------------------------------------------- work dir
WORK=$(mktemp -d "$BUILD/tmp/run.XXXXXX")
QPID=""
TAILPID=""
# shellcheck disable=SC2317  # invoked via trap
cleanup() {
	local rc=$?
	if [[ -n $QPID ]] && kill -0 "$QPID" 2>/dev/null; then
		kill -TERM "$QPID" 2>/dev/null || true
		wait "$QPID" 2>/dev/null || true
	fi
	if [[ -n $TAILPID ]]; then
		kill "$TAILPID" 2>/dev/null || true
		wait "$TAILPID" 2>/dev/null || true
	fi
	if [[ $KEEP = 1 ]]; then
		echo "run-in-vm: work dir kept: $WORK" >&2
	else
		rm -rf "$WORK"
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ------------------------------------------------------- vmlinux extraction
# Find a compressed payload in the bzImage, decompress it and keep the first
# result that is an ELF file.  Cached per (path, size, mtime).
is_elf() {
	[[ $(head -c4 "$1" 2>/dev/null | od -An -tx1 | tr -d ' \n') = 7f454c46 ]]
}

extract_vmlinux() {
	local src=$1 out=$2 tmp magic dec off
	tmp=$(mktemp "$out.tmp.XXXXXX")
	for spec in 'xz:\xFD\x37\x7A\x58\x5A\x00' 'zstd:\x28\xB5\x2F\xFD' \
		'gzip:\x1F\x8B\x08' 'lzma:\x5D\x00\x00\x00' 'bzip2:BZh'; do
		dec=${spec%%:*}
		magic=${spec#*:}
		command -v "$dec" >/dev/null || continue
		while read -r off; do
			[[ -n $off ]] || continue
			tail -c "+$((off + 1))" "$src" | "$dec" -dc >"$tmp" 2>/dev/null || true
			if is_elf "$tmp"; then
				chmod 644 "$tmp"
				mv -f "$tmp" "$out"
				return 0
			fi
		done < <(LC_ALL=C grep -obUaP "$magic" "$src" | cut -d: -f1 | head -n 8 || true)
	done
	rm -f "$tmp"
	return 1
}

has_pvh_note() {
	# XEN_ELFNOTE_PHYS32_ENTRY (type 18 in the "Xen" note namespace)
	LC_ALL=C readelf -n "$1" 2>/dev/null | grep -A0 -E '^\s+Xen\s' | grep -qE 'PHYS32_ENTRY|Unknown note type: \(0x00000012\)'
}

KERNEL=$VMLINUZ
# A kit's vmlinux is booted as it is (CONFIG_PVH=y); an installed kernel's
# vmlinux is extracted once from its bzImage for the faster PVH boot.
if [[ -z $KIT ]]; then
	vm_key="$(basename "$VMLINUZ")-$(stat -c '%s-%Y' "$VMLINUZ")"
	VMLINUX=$CACHE/vmlinux-$vm_key
	if [[ ! -s $VMLINUX ]]; then
		if extract_vmlinux "$VMLINUZ" "$VMLINUX"; then
			if command -v readelf >/dev/null && ! has_pvh_note "$VMLINUX"; then
				echo "run-in-vm: $VMLINUX has no PVH entry note; booting the bzImage" >&2
				: >"$VMLINUX.nopvh"
			fi
		else
			echo "run-in-vm: cannot extract vmlinux from $VMLINUZ; booting the bzImage (slower)" >&2
		fi
	fi
	if [[ -s $VMLINUX && ! -e $VMLINUX.nopvh ]]; then
		KERNEL=$VMLINUX
	fi
fi

# ---------------------------------------------------------------- initramfs
ROOT=$WORK/root
mkdir -p "$ROOT"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,root,lib/sgvm-modules}
cp "$BUSYBOX" "$ROOT/bin/busybox"
printf '%s\n' "$KVER" >"$ROOT/etc/kver"
printf '%s\n' "$CMD" >"$ROOT/etc/guest-cmd.sh"

# copy a dynamic ELF's libraries and loader
copy_libs() {
	local f=$1 lib
	head -c4 "$f" 2>/dev/null | grep -q 'ELF' || return 0
	LC_ALL=C ldd "$f" >/dev/null 2>&1 || return 0    # static or not ours
	while read -r lib; do
		[[ -n $lib && -e $lib ]] || continue
		[[ -e $ROOT$lib ]] && continue
		mkdir -p "$ROOT$(dirname "$lib")"
		cp -L "$lib" "$ROOT$lib"
	done < <(LC_ALL=C ldd "$f" 2>/dev/null | sed -n -e 's/.*=> \(\/[^ ]*\) .*/\1/p' -e 's/^\s*\(\/[^ ]*\) (0x.*/\1/p')
}

for spec in "${FILES[@]}"; do
	src=${spec%%:*}
	if [[ $spec = *:* ]]; then dest=${spec#*:}; else dest=/bin/$(basename "$src"); fi
	[[ -e $src ]] || die "-f: no such file: $src"
	[[ $dest = /* ]] || dest=/$dest
	mkdir -p "$ROOT$(dirname "$dest")"
	if [[ -d $src ]]; then
		cp -a "$src" "$ROOT$dest"
		while IFS= read -r -d '' x; do copy_libs "$x"; done \
			< <(find "$ROOT$dest" -type f -perm -u+x -print0)
	else
		cp -L "$src" "$ROOT$dest"
		copy_libs "$src"
	fi
done

# modules: decompress on the host, generate /etc/modules.sh
MODSH=$ROOT/etc/modules.sh
: >"$MODSH"
declare -A LOADED=()
modn=0

unpack_ko() {      # unpack_ko SRC -> prints guest path
	local src=$1 name dst
	name=$(basename "$src")
	name=${name%.xz}; name=${name%.zst}; name=${name%.gz}
	modn=$((modn + 1))
	dst=/lib/sgvm-modules/$(printf '%02d' "$modn")-$name
	case $src in
	*.xz) xz -dc "$src" >"$ROOT$dst" ;;
	*.zst) zstd -qdc "$src" >"$ROOT$dst" ;;
	*.gz) gzip -dc "$src" >"$ROOT$dst" ;;
	*) cp "$src" "$ROOT$dst" ;;
	esac
	printf '%s' "$dst"
}

# hard dependency closure (modinfo depends=), so that softdeps that fail to
# load (e.g. crc32c-intel on qemu64) are only warnings
declare -A HARD=()
hard_closure() {
	local m=$1 d deps
	m=${m//-/_}
	[[ -n ${HARD[$m]:-} ]] && return 0
	HARD[$m]=1
	deps=$(modinfo -b "$MODBASE" -k "$KVER" -F depends "$1" 2>/dev/null || true)
	for d in ${deps//,/ }; do hard_closure "$d"; done
}

add_intree() {      # add_intree NAME
	local name=$1 path key dst kind
	local deps
	if ! deps=$(modprobe -d "$MODBASE" -S "$KVER" --show-depends "$name" 2>&1); then
		echo "run-in-vm: -m $name: not a module of $KVER: $deps" >&2
		exit 126
	fi
	hard_closure "$name"
	while read -r kind path _; do
		case $kind in
		builtin) echo "run-in-vm: note: $path is built into $KVER" >&2; continue ;;
		insmod) ;;
		*) continue ;;
		esac
		key=$(basename "$path"); key=${key%%.ko*}; key=${key//-/_}
		[[ -n ${LOADED[$key]:-} ]] && continue
		LOADED[$key]=1
		dst=$(unpack_ko "$path")
		if [[ -n ${HARD[$key]:-} ]]; then
			printf 'load_mod hard %q\n' "$dst" >>"$MODSH"
		else
			printf 'load_mod soft %q\n' "$dst" >>"$MODSH"
		fi
	done <<<"$deps"
}

for m in "${MODS[@]}"; do add_intree "$m"; done

# out-of-tree: pull in in-tree deps from modinfo depends= first
declare -A KNAMES=()
for spec in "${KMODS[@]}"; do
	f=${spec%%:*}
	n=$(basename "$f"); n=${n%%.ko*}; KNAMES[${n//-/_}]=1
done
for spec in "${KMODS[@]}"; do
	f=${spec%%:*}
	[[ -f $f ]] || { echo "run-in-vm: -k: no such file: $f" >&2; exit 126; }
	deps=$(modinfo -F depends "$f" 2>/dev/null || true)
	for d in ${deps//,/ }; do
		[[ -n ${KNAMES[${d//-/_}]:-} || -n ${LOADED[${d//-/_}]:-} ]] && continue
		add_intree "$d"
	done
done
for spec in "${KMODS[@]}"; do
	f=${spec%%:*}
	params=()
	if [[ $spec = *:* ]]; then read -ra params <<<"${spec#*:}"; fi
	dst=$(unpack_ko "$f")
	{
		printf 'load_mod hard %q' "$dst"
		[[ ${#params[@]} -gt 0 ]] && printf ' %q' "${params[@]}"
		printf '\n'
	} >>"$MODSH"
done

TOKEN=$(od -An -N6 -tx1 /dev/urandom | tr -d ' \n')

cat >"$ROOT/init" <<EOF
#!/bin/busybox sh
# generated by run-in-vm.sh
/bin/busybox --install -s
export PATH=/bin:/sbin:/usr/bin:/usr/sbin:/usr/local/bin:/usr/local/sbin HOME=/root TERM=dumb
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs tmpfs /tmp
mount -t tmpfs tmpfs /dev/shm
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
stty -F /dev/ttyS1 raw -echo
exec </dev/null >/dev/ttyS1 2>&1

T=$TOKEN
modfail=0
load_mod() {
	kind=\$1; shift
	insmod "\$@" && return 0
	rc=\$?
	if [ "\$kind" = soft ]; then
		echo "run-in-vm: warning: optional module \$1 failed to load (rc \$rc)"
		return 0
	fi
	echo "run-in-vm: insmod \$* failed (rc \$rc)"
	modfail=1
	return 1
}
finish() {
	echo "@@SGVM-TAINT-\$T \$(cat /proc/sys/kernel/tainted)@@"
	# last close of ttyS1 waits until the UART has drained; stty uses
	# TCSADRAIN as a second guarantee
	exec >/dev/null 2>&1
	stty -F /dev/ttyS1 raw -echo
	sync
	poweroff -f
	sleep 100
}

. /etc/modules.sh
if [ \$modfail != 0 ]; then
	echo "@@SGVM-MODFAIL-\$T@@"
	finish
fi
read -r up _ </proc/uptime
echo "@@SGVM-START-\$T \$up@@"
cd /
sh /etc/guest-cmd.sh
rc=\$?
read -r up _ </proc/uptime
echo "@@SGVM-RC-\$T \$rc \$up@@"
finish
EOF
chmod 755 "$ROOT/init"

INITRD=$WORK/initramfs.cpio
(cd "$ROOT" && find . -print0 | LC_ALL=C sort -z | cpio --null -o -H newc --quiet --owner=0:0 >"$INITRD")

# ---------------------------------------------------------------- accel
kvm_usable() {
	[[ -r /dev/kvm && -w /dev/kvm ]] || return 1
	grep -qwE 'vmx|svm' /proc/cpuinfo || return 1
	local boot_id key f
	boot_id=$(cat /proc/sys/kernel/random/boot_id 2>/dev/null || echo none)
	key="$KVER-$(uname -r)-$boot_id"
	f=$CACHE/kvm-probe-$key
	if [[ ! -f $f ]]; then
		if "$SELF" --accel kvm --timeout 25 --mem 512M ${KIT:+--kit "$KIT"} \
			"$KVER" -- true >/dev/null 2>&1; then
			echo ok >"$f"
		else
			echo fail >"$f"
		fi
	fi
	[[ $(cat "$f") = ok ]]
}

if [[ $ACCEL = auto ]]; then
	if kvm_usable; then ACCEL=kvm; else ACCEL=tcg; fi
fi
if [[ -z $CPU ]]; then
	if [[ $ACCEL = kvm ]]; then CPU=host; else CPU=qemu64; fi
fi

# ---------------------------------------------------------------- qemu
CMDLINE="console=ttyS0 loglevel=5 panic=-1 oops=panic rdinit=/init"
MACHINE=(-machine pc)
case $VARIANT in
swiotlb) CMDLINE="$CMDLINE swiotlb=force" ;;
iommu)
	if [[ $ACCEL = kvm ]]; then
		MACHINE=(-machine 'q35,kernel-irqchip=split' -device 'intel-iommu,intremap=on')
	else
		MACHINE=(-machine q35 -device intel-iommu)
	fi
	CMDLINE="$CMDLINE intel_iommu=on iommu.strict=1"
	;;
esac
CMDLINE="$CMDLINE${APPEND}"

CONLOG=$WORK/console.log
: >"$CONLOG"
FIFO=$WORK/ttyS1.fifo
mkfifo "$FIFO"

QEMU=(qemu-system-x86_64 -accel "$ACCEL" -cpu "$CPU" "${MACHINE[@]}"
	-m "$MEM" -smp "$SMP"
	-nodefaults -no-user-config -display none -monitor none -no-reboot
	-kernel "$KERNEL" -initrd "$INITRD" -append "$CMDLINE"
	-serial "file:$CONLOG" -serial stdio)
printf '%q ' "${QEMU[@]}" >"$WORK/qemu.cmd"
echo >>"$WORK/qemu.cmd"

T0=$EPOCHREALTIME
timeout --kill-after=5 "$TIMEOUT" "${QEMU[@]}" </dev/null >"$FIFO" 2>"$WORK/qemu.err" &
QPID=$!

if [[ $CONSOLE = 1 ]]; then
	tail -s 0.2 -n +1 -f --pid="$QPID" "$CONLOG" 2>/dev/null | tr -d '\r' >&2 &
	TAILPID=$!
fi

# ttyS1 -> stdout (\r stripped); marker lines go to $WORK/markers as
# "NAME values... host-time".  awk reads in blocks and flushes every line.
MARKERS=$WORK/markers
: >"$MARKERS"
# shellcheck disable=SC2016  # awk program
awk -v tok="$TOKEN" -v mf="$MARKERS" '
{
	gsub(/\r/, "")
	if (index($0, "@@SGVM-") && match($0, "@@SGVM-[A-Z]+-" tok "[ 0-9.]*@@$")) {
		printf "%s", substr($0, 1, RSTART - 1)
		fflush()
		m = substr($0, RSTART + 7, RLENGTH - 9)
		sub("-" tok, "", m)
		"date +%s.%N" | getline t
		close("date +%s.%N")
		print m, t >>mf
		close(mf)
		next
	}
	print
	fflush()
}' <"$FIFO"

GUEST_RC=""
TAINT=""
MODFAIL=0
START_T=""
START_UP=""
RC_T=""
RC_UP=""
while read -r name a b c; do
	case $name in
	START) START_UP=$a; START_T=$b ;;
	RC) GUEST_RC=$a; RC_UP=$b; RC_T=$c ;;
	TAINT) TAINT=$a ;;
	MODFAIL) MODFAIL=1 ;;
	esac
done <"$MARKERS"

QRC=0
wait "$QPID" || QRC=$?
QPID=""
T_END=$EPOCHREALTIME
if [[ -n $TAILPID ]]; then
	wait "$TAILPID" 2>/dev/null || true
	TAILPID=""
fi

if [[ -n $LOGFILE ]]; then
	tr -d '\r' <"$CONLOG" >"$LOGFILE"
fi

fsub() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a - b }'; }
if [[ $TIMING = 1 ]]; then
	{
		printf 'run-in-vm: timing (%s, %s, -cpu %s, %s):' "$KVER" "$ACCEL" "$CPU" "$VARIANT"
		[[ -n $START_T ]] && printf ' boot-to-command %ss (guest uptime %ss);' \
			"$(fsub "$START_T" "$T0")" "$START_UP"
		[[ -n $RC_T && -n $START_T ]] && printf ' command %ss (guest uptime at exit %ss);' \
			"$(fsub "$RC_T" "$START_T")" "$RC_UP"
		printf ' total %ss\n' "$(fsub "$T_END" "$T0")"
	} >&2
fi

TIMED_OUT=0
if [[ $QRC = 124 || $QRC = 137 ]] && [[ -z $TAINT ]]; then
	TIMED_OUT=1
fi

# ---------------------------------------------------------------- verdict
SPLAT=0
TAINT_ARG=()
[[ -n $TAINT ]] && TAINT_ARG=("$TAINT")
if ! "$VMDIR/check-console.sh" "$CONLOG" "${TAINT_ARG[@]}"; then
	SPLAT=1
fi

if [[ $SPLAT = 1 ]]; then
	[[ $TIMED_OUT = 1 ]] && echo "run-in-vm: (the VM also timed out after ${TIMEOUT}s)" >&2
	exit 125
fi
if [[ $TIMED_OUT = 1 ]]; then
	echo "run-in-vm: timeout after ${TIMEOUT}s; last console lines:" >&2
	if [[ -s $WORK/qemu.err ]]; then
		grep -v '^qemu-system-x86_64: terminating on signal' "$WORK/qemu.err" | sed 's/^/  qemu: /' >&2 || true
	fi
	tail -n 20 "$CONLOG" | tr -d '\r' | sed 's/^/  | /' >&2
	exit 124
fi
if [[ $MODFAIL = 1 ]]; then
	echo "run-in-vm: module load failed; last console lines:" >&2
	tail -n 10 "$CONLOG" | tr -d '\r' | sed 's/^/  | /' >&2
	exit 126
fi
if [[ -z $GUEST_RC ]]; then
	echo "run-in-vm: the guest did not report an exit status (qemu rc $QRC)" >&2
	if [[ -s $WORK/qemu.err ]]; then
		sed 's/^/  qemu: /' "$WORK/qemu.err" >&2
	fi
	tail -n 40 "$CONLOG" | tr -d '\r' | sed 's/^/  | /' >&2
	exit 125
fi
if [[ -z $TAINT ]]; then
	echo "run-in-vm: warning: no taint report from the guest" >&2
fi
exit "$GUEST_RC"
