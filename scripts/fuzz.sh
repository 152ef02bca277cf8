#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# make fuzz: sgbuf_fuzz, the structure-aware ioctl fuzzer
# (selftests/sgbuf/sgbuf_fuzz.c), in QEMU guests.
#
# Installs what is missing, builds the fuzzer and sgbuf.ko, then boots the
# debug kernel of scripts/debug-kernel.sh (KASAN, lockdep, kmemleak,
# DMA-API debugging, ...) if it is built, else Debian's 6.12 with a note,
# loads vgem and sgbuf, and runs SGBUF_FUZZ_CALLS calls of one seed: chunks
# of SGBUF_FUZZ_CHUNK calls (one fuzzer process each, --start moving on),
# SGBUF_FUZZ_BOOT_CHUNKS chunks per boot. It fails if a guest's console
# shows a kernel splat (run-in-vm.sh exits 125), a guest times out, or the
# fuzzer says "not ok". Then it writes build/fuzz/crash-<seed>-<start>.txt:
# seed, chunk, kernel, the failing call or the last call the kernel log
# marked before the splat, the console excerpt and the command to replay:
#
#   make fuzz SGBUF_FUZZ_REPLAY=build/fuzz/crash-<seed>-<start>.txt
#
# reruns that chunk on the same kernel with --trace from the last mark (a
# race reproduces only statistically; SGBUF_FUZZ_THREADS=0 replays without
# the racing thread, deterministically up to timing-dependent results).
#
# Environment:
#   SGBUF_FUZZ_CALLS        calls in total (default 1000000)
#   SGBUF_FUZZ_SEED         seed (default: from the time)
#   SGBUF_FUZZ_KERNEL       auto (default: the debug kernel if built, else
#                           6.12), debug (builds it if needed: ~20 min
#                           cold), 6.12 or 6.1
#   SGBUF_FUZZ_CHUNK        calls per fuzzer process (default 100000;
#                           20000 on the debug kernel)
#   SGBUF_FUZZ_BOOT_CHUNKS  chunks per guest boot (default 5)
#   SGBUF_FUZZ_THREADS      racing threads (default 1)
#   SGBUF_FUZZ_ARGS         more sgbuf_fuzz options, e.g. '--fail-at 1234'
#                           or '--kmsg-splat-at 1234' to see a failure
#   SGBUF_FUZZ_REPLAY       a crash file to replay instead
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
out=$top/build/fuzz
mkdir -p "$out"

calls=${SGBUF_FUZZ_CALLS:-1000000}
seed=${SGBUF_FUZZ_SEED:-$(($(date +%s%N) / 1000 % 281474976710656))}
want=${SGBUF_FUZZ_KERNEL:-auto}
threads=${SGBUF_FUZZ_THREADS:-1}
read -r -a extra <<<"${SGBUF_FUZZ_ARGS:-}"
replay=${SGBUF_FUZZ_REPLAY:-}
kmsg_every=1000
t0=$SECONDS

step() { printf '\n==> %s\n' "$*"; }
die() {
	echo "make fuzz: $*" >&2
	exit 1
}
fail_log() {
	echo "make fuzz: $1 failed; the log is ${2#"$top"/}:" >&2
	tail -n 30 "$2" >&2
	exit 1
}
num() { [[ $1 =~ ^[0-9]+$ ]] || die "$2 must be a number, not '$1'"; }

# crash_get FILE KEY: the value of a "KEY=value" line of a crash file.
crash_get() { sed -n "s/^$2=//p" "$1" | head -n 1; }

if [ -n "$replay" ]; then
	[ -r "$replay" ] || die "no such crash file: $replay"
	seed=$(crash_get "$replay" seed)
	want=$(crash_get "$replay" kernel)
	threads=${SGBUF_FUZZ_THREADS:-$(crash_get "$replay" threads)}
	read -r -a extra <<<"$(crash_get "$replay" args)"
fi
num "$calls" SGBUF_FUZZ_CALLS
num "$seed" SGBUF_FUZZ_SEED
num "$threads" SGBUF_FUZZ_THREADS

step "checking Debian packages (installs missing ones)"
scripts/install-deps.sh
# shellcheck source=selftests/vm/kernels.sh
. selftests/vm/kernels.sh

# The kernel: vm=(run-in-vm.sh options), vm_kver, kdir=(module build).
kit=""
case $want in
auto)
	status=$(scripts/debug-kernel.sh --status)
	if [[ $status = built:* ]]; then
		kit=${status#built: }
	else
		echo "make fuzz: note: the debug kernel is not built (${status#not built: });" \
			"fuzzing Debian's 6.12 instead. SGBUF_FUZZ_KERNEL=debug builds it" \
			"first (about 20 minutes cold) and fuzzes under KASAN, lockdep and" \
			"kmemleak." >&2
		want=6.12
	fi
	;;
debug)
	step "the debug kernel (scripts/debug-kernel.sh; ~20 min the first time)"
	kit=$(scripts/debug-kernel.sh) || die "building the debug kernel failed"
	;;
6.1|6.12|[0-9]*) ;;
*) die "SGBUF_FUZZ_KERNEL must be auto, debug, 6.1 or 6.12, not '$want'" ;;
esac
if [ -n "$kit" ]; then
	want=debug
	kver=$(cat "$kit/release")
	kdir=(KDIR="$kit/build")
	vm=(--kit "$kit" --smp 2 --mem 3G)
	vm_kver=kit
	chunk=${SGBUF_FUZZ_CHUNK:-20000}
	rate_min=100		# calls/s the timeout allows for
else
	case $want in
	6.1) kver=$KVER_61 ;;
	6.12) kver=$KVER_612 ;;
	*) kver=$want ;;
	esac
	if [ -z "$kver" ] || [ ! -d "/lib/modules/$kver" ]; then
		die "kernel $want is not installed"
	fi
	want=$kver
	kdir=()
	vm=(--mem 2G)
	vm_kver=$kver
	chunk=${SGBUF_FUZZ_CHUNK:-100000}
	rate_min=500
fi
per_boot=${SGBUF_FUZZ_BOOT_CHUNKS:-5}
num "$chunk" SGBUF_FUZZ_CHUNK
num "$per_boot" SGBUF_FUZZ_BOOT_CHUNKS
if [ "$chunk" -eq 0 ] || [ "$per_boot" -eq 0 ]; then
	die "SGBUF_FUZZ_CHUNK and SGBUF_FUZZ_BOOT_CHUNKS must not be 0"
fi

step "building sgbuf.ko for $kver and sgbuf_fuzz"
make -s -C kernel KVER="$kver" "${kdir[@]}" BUILD_DIR="$out/kmod/$kver" \
	>"$out/module.log" 2>&1 || fail_log "building sgbuf.ko" "$out/module.log"
ko=$out/kmod/$kver/kernel/sgbuf.ko
ksft=$(scripts/ksrc.sh)/tools/testing/selftests
make -s -C selftests/sgbuf KSFT_DIR="$ksft" OUT="$out/bin" \
	"$out/bin/sgbuf_fuzz" >"$out/build.log" 2>&1 ||
	fail_log "building sgbuf_fuzz" "$out/build.log"

# guest FILE.out FILE.console TIMEOUT CMD: one boot. Returns run-in-vm's
# status: the guest command's, 124 timeout, 125 splat, 126 insmod.
guest() {
	local rc=0
	# printk.devkmsg=on: the marks must not be rate limited away
	selftests/vm/run-in-vm.sh "${vm[@]}" --timeout "$3" --log "$2" \
		--append printk.devkmsg=on -m vgem -k "$ko" -f "$out/bin/sgbuf_fuzz:/tests/sgbuf_fuzz" \
		"$vm_kver" -- "$4" >"$1" 2>&1 || rc=$?
	return "$rc"
}

# The splat regex of check-console.sh, to find the first splat's line.
splat_re=$(sed -n "s/^SPLAT_RE='\(.*\)'\$/\1/p" selftests/vm/check-console.sh)

# report OUT CONSOLE RC START COUNT: write the crash file of a failed boot
# whose chunk started at START, and say how to replay it.
report() {
	local o=$1 con=$2 rc=$3 start=$4 count=$5 verdict fcall="" mark="" line
	local crash=$out/crash-$seed-$start.txt progress excerpt first
	verdict=$(grep -m1 '^not ok - fuzz' "$o" || true)
	case $rc in
	124) verdict="guest timed out${verdict:+; $verdict}" ;;
	125) verdict="kernel splat in the console${verdict:+; $verdict}" ;;
	esac
	[ -n "$verdict" ] || verdict="guest exited with status $rc"
	fcall=$(sed -n 's/^not ok - fuzz: seed [0-9]*, call \([0-9]*\):.*/\1/p' "$o" |
		head -n 1)
	# The last call the kernel log marked before the first splat.
	first=$(LC_ALL=C grep -a -n -m1 -E "$splat_re" "$con" | cut -d: -f1 || true)
	if [ -n "$first" ]; then
		line=$(head -n "$((first - 1))" "$con" |
			LC_ALL=C grep -a -o "sgbuf_fuzz: seed $seed calls [0-9]*" | tail -n 1 || true)
		excerpt=$(tail -n "+$first" "$con" | head -n 60 | tr -d '\r')
	else
		line=$(LC_ALL=C grep -a -o "sgbuf_fuzz: seed $seed calls [0-9]*" "$con" |
			tail -n 1 || true)
		excerpt=$(tail -n 30 "$con" | tr -d '\r')
	fi
	mark=${line##* }
	if [ -z "$mark" ] || [ "$mark" -lt "$start" ]; then
		mark=$start
	fi
	progress=$(grep '^# fuzz: seed' "$o" | tail -n 1 || true)
	{
		echo "# sgbuf_fuzz failure, written by scripts/fuzz.sh on $(date -u '+%F %T') UTC"
		echo "# Replay: make fuzz SGBUF_FUZZ_REPLAY=${crash#"$top"/}"
		echo "# (add SGBUF_FUZZ_THREADS=0 to replay without the racing thread)"
		echo "seed=$seed"
		echo "start=$start"
		echo "count=$count"
		echo "threads=$threads"
		echo "kernel=$want"
		echo "args=${extra[*]}"
		echo "failing_call=$fcall"
		echo "last_mark=$mark"
		echo "verdict=$verdict"
		echo "guest_command=$(replay_cmd "$start" "$count" "$fcall" "$mark")"
		echo "# last progress line: ${progress:-none}"
		echo "# console excerpt:"
		printf '%s\n' "$excerpt" | sed 's/^/#   /'
	} >"$crash"
	echo "make fuzz: FAILED: $verdict" >&2
	echo "make fuzz: chunk $start..$((start + count)) of seed $seed on $want;" \
		"guest output ${o#"$top"/}, console ${con#"$top"/}" >&2
	echo "make fuzz: replay with: make fuzz SGBUF_FUZZ_REPLAY=${crash#"$top"/}" >&2
}

# replay_cmd START COUNT FAILING_CALL MARK: the guest command that reruns a
# chunk up to the failure (or two marks past the last one) with --trace.
replay_cmd() {
	local start=$1 count=$2 fcall=$3 mark=$4 n
	if [ -n "$fcall" ]; then
		n=$((fcall + 1 - start))
	else
		n=$((mark + 2 * kmsg_every - start))
		[ "$n" -le "$count" ] || n=$count
	fi
	echo "/tests/sgbuf_fuzz --seed $seed --start $start --count $n" \
		"--threads $threads --kmsg-every $kmsg_every --trace-from $mark ${extra[*]}"
}

# ------------------------------------------------------------- replay
if [ -n "$replay" ]; then
	start=$(crash_get "$replay" start)
	count=$(crash_get "$replay" count)
	cmd=$(replay_cmd "$start" "$count" "$(crash_get "$replay" failing_call)" \
		"$(crash_get "$replay" last_mark)")
	step "replaying ${replay#"$top"/} on $want: $cmd"
	o=$out/replay-$seed-$start.out
	con=$out/replay-$seed-$start.console
	rc=0
	guest "$o" "$con" 3600 "$cmd" || rc=$?
	tail -n 40 "$o"
	case $rc in
	0) echo "make fuzz: replay did not reproduce it (a race reproduces only" \
		"statistically; the trace is in ${o#"$top"/})" >&2
	   exit 1 ;;
	125) echo "make fuzz: replay reproduced a kernel splat; trace ${o#"$top"/}," \
		"console ${con#"$top"/}" >&2 ;;
	*) echo "make fuzz: replay reproduced the failure (status $rc); trace" \
		"${o#"$top"/}, console ${con#"$top"/}" >&2 ;;
	esac
	exit 0
fi

# -------------------------------------------------------------- the run
nchunks=$(((calls + chunk - 1) / chunk))
nboots=$(((nchunks + per_boot - 1) / per_boot))
step "fuzzing $want: $calls calls of seed $seed, $nchunks chunk(s) of up to" \
	"$chunk calls in $nboots boot(s), $threads racing thread(s)"
rm -f "$out"/boot-*.out "$out"/boot-*.console
done_calls=0
fuzz_time=0
next=0
boot=0
while [ "$next" -lt "$calls" ]; do
	boot=$((boot + 1))
	cmd=""
	bcalls=0
	first_start=$next
	for ((c = 0; c < per_boot && next < calls; c++)); do
		n=$chunk
		[ $((next + n)) -le "$calls" ] || n=$((calls - next))
		cmd+="${cmd:+ && }echo '# chunk $next $n' && /tests/sgbuf_fuzz --seed $seed"
		cmd+=" --start $next --count $n --threads $threads --kmsg-every $kmsg_every ${extra[*]}"
		next=$((next + n))
		bcalls=$((bcalls + n))
	done
	o=$out/boot-$boot.out
	con=$out/boot-$boot.console
	timeout=$((bcalls / rate_min + 300))
	tb=$SECONDS
	rc=0
	guest "$o" "$con" "$timeout" "$cmd" || rc=$?
	grep -E '^(ok|not ok) - fuzz|^# [0-9]+ calls in' "$o" | sed "s/^/boot $boot: /" || true
	if [ "$rc" -ne 0 ]; then
		# the chunk that failed: the last one that began
		line=$(grep '^# chunk ' "$o" | tail -n 1 || true)
		if [ -n "$line" ]; then
			read -r _ _ cstart ccount <<<"$line"
		else
			cstart=$first_start
			ccount=$chunk
		fi
		[ "$rc" -eq 126 ] && die "a module did not load (see ${o#"$top"/})"
		report "$o" "$con" "$rc" "$cstart" "$ccount"
		exit 1
	fi
	done_calls=$((done_calls + bcalls))
	fuzz_time=$(awk -v t="$fuzz_time" '/^# [0-9]+ calls in [0-9.]+ s/ { t += $5 } END { print t }' "$o")
	echo "make fuzz: boot $boot of $nboots: $bcalls calls in $((SECONDS - tb)) s" \
		"($done_calls of $calls)"
done

rate=$(awk -v n="$done_calls" -v t="$fuzz_time" 'BEGIN { printf "%.0f", (t > 0 ? n / t : 0) }')
echo
echo "make fuzz: ok: $done_calls calls of seed $seed on $want, no splat, no" \
	"violation ($rate calls/s while fuzzing; $((SECONDS - t0)) s in all)"
