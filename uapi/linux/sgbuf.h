/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * sgbuf - scatter-gather dma-buf exporter and simulated DMA consumer
 *
 * This header is the single source of truth for the sgbuf ABI. It is
 * included by the kernel module, by libdmabuf and by the selftests, and
 * it compiles as plain C90 userspace code.
 *
 * Conventions (see docs/uapi.md):
 *  - Sizes and pointers are __u64; structs have no implicit padding.
 *  - Every unknown flag bit and every non-zero reserved field is rejected
 *    with -EINVAL, and so is a non-zero output field on input. Unknown
 *    ioctls fail with -ENOTTY.
 *  - Structs are extensible: the kernel accepts a user struct that is
 *    larger than the one it knows only if the extra bytes are zero (else
 *    -E2BIG, as openat2 and clone3 do), and a smaller one only down to the
 *    first published size (*_SIZE_VER0, else -EINVAL).
 */
#ifndef _UAPI_LINUX_SGBUF_H
#define _UAPI_LINUX_SGBUF_H

#include <linux/const.h>
#include <linux/ioctl.h>
#include <linux/types.h>

/**
 * DOC: sgbuf device nodes
 *
 * /dev/sgbuf is the native interface (this header).
 *
 * /dev/dma_heap/sgbuf implements DMA_HEAP_IOCTL_ALLOC from
 * <linux/dma-heap.h> exactly as the kernel's dma-heap core does, so that
 * existing dma-heap users can allocate sgbuf buffers, including on kernels
 * that have no dma-heap support of their own.
 */

/* 0xB9 is unassigned in Documentation/userspace-api/ioctl/ioctl-number.rst */
#define SGBUF_IOC_MAGIC		0xB9

/** SGBUF_NAME_LEN - size of a buffer name, NUL terminator included */
#define SGBUF_NAME_LEN		32

/*
 * The ABI revision reported by SGBUF_IOCTL_GET_INFO. 3 added
 * SGBUF_IOCTL_SYNC_RANGE, SGBUF_JOB_CHECKSUM64 and struct
 * sgbuf_wait.checksum64; the caps bits tell what a module offers.
 */
#define SGBUF_ABI_VERSION	3

/**
 * SGBUF_ALLOC_CONTIGUOUS - allocate one physically contiguous range
 *
 * Limited to the largest block the buddy allocator hands out (struct
 * sgbuf_info.max_contig_size, 4 MiB on x86-64); sgbuf does not use CMA. A
 * larger request fails with -EFBIG.
 */
#define SGBUF_ALLOC_CONTIGUOUS	_BITULL(0)
#define SGBUF_ALLOC_VALID_FLAGS	(SGBUF_ALLOC_CONTIGUOUS)

/**
 * struct sgbuf_alloc - argument of SGBUF_IOCTL_ALLOC
 * @size:	in: size in bytes, a non-zero multiple of the page size
 * @flags:	in: SGBUF_ALLOC_* flags
 * @fd_flags:	in: flags of the new fd: O_CLOEXEC, and O_RDWR or O_RDONLY
 *		(values from <fcntl.h>; 0 means O_RDONLY). An O_RDONLY buffer
 *		cannot be mapped writable by the CPU; devices it is attached
 *		to may still write it.
 * @fd:		out: the new dma-buf fd; must be 0 on input
 * @name:	in: optional NUL-terminated name of printable characters,
 *		shown in fdinfo, debugfs bufinfo and /proc/<pid>/maps. An
 *		empty string leaves the buffer unnamed. It can be changed
 *		later with DMA_BUF_SET_NAME on the dma-buf fd.
 * @reserved:	must be zero
 *
 * Errors: EINVAL (bad size, flags, fd_flags, name, fd or reserved field),
 * E2BIG (non-zero bytes past the struct this module knows), EFBIG (size
 * above max_buffer_size, or a contiguous request above max_contig_size),
 * ENOSPC (the max_total_size module parameter would be exceeded), ENOMEM,
 * EINTR (fatal signal while allocating), EFAULT, EMFILE/ENFILE.
 */
struct sgbuf_alloc {
	__u64 size;
	__u64 flags;
	__u32 fd_flags;
	__s32 fd;
	char name[SGBUF_NAME_LEN];
	__u64 reserved[2];
};

#define SGBUF_ALLOC_SIZE_VER0	72

/* Bits of struct sgbuf_info.caps */
#define SGBUF_CAP_CONTIGUOUS	_BITULL(0)	/* SGBUF_ALLOC_CONTIGUOUS works */
#define SGBUF_CAP_HEAP_NODE	_BITULL(1)	/* /dev/dma_heap/sgbuf exists */
#define SGBUF_CAP_ENGINE	_BITULL(2)	/* the DMA consumer ioctls exist */
/**
 * SGBUF_CAP_SYNC_RANGE - SGBUF_IOCTL_SYNC_RANGE exists (ABI 3)
 */
#define SGBUF_CAP_SYNC_RANGE	_BITULL(3)
/**
 * SGBUF_CAP_CHECKSUM64 - SGBUF_JOB_CHECKSUM64 exists (ABI 3)
 */
#define SGBUF_CAP_CHECKSUM64	_BITULL(4)

/**
 * struct sgbuf_info - argument of SGBUF_IOCTL_GET_INFO (output only)
 * @abi_version:	SGBUF_ABI_VERSION of the running module
 * @caps:		SGBUF_CAP_* bits
 * @page_size:		the kernel's page size; sizes are multiples of it
 * @max_buffer_size:	largest buffer ALLOC accepts (module parameter)
 * @max_total_size:	cap on the bytes of all live buffers (module parameter)
 * @total_size:		bytes of all live buffers right now
 * @max_contig_size:	largest SGBUF_ALLOC_CONTIGUOUS buffer
 * @live_buffers:	number of live buffers
 * @reserved:		zero
 */
struct sgbuf_info {
	__u64 abi_version;
	__u64 caps;
	__u64 page_size;
	__u64 max_buffer_size;
	__u64 max_total_size;
	__u64 total_size;
	__u64 max_contig_size;
	__u64 live_buffers;
	__u64 reserved[4];
};

#define SGBUF_INFO_SIZE_VER0	96

/**
 * DOC: SGBUF_IOCTL_ALLOC
 *
 * Allocates a zeroed scatter-gather buffer, charged to the caller's memory
 * cgroup, and returns it as a dma-buf fd in &struct sgbuf_alloc.fd. The fd
 * exists in the caller's table only once the ioctl has succeeded.
 */
#define SGBUF_IOCTL_ALLOC	_IOWR(SGBUF_IOC_MAGIC, 0x00, struct sgbuf_alloc)

/**
 * DOC: SGBUF_IOCTL_GET_INFO
 *
 * Reports the module's limits and current usage.
 */
#define SGBUF_IOCTL_GET_INFO	_IOR(SGBUF_IOC_MAGIC, 0x01, struct sgbuf_info)

/*
 * Flags of struct sgbuf_sync_range: START or END, and READ, WRITE or both.
 * They have the values of DMA_BUF_SYNC_* in <linux/dma-buf.h>.
 */
/**
 * SGBUF_SYNC_READ - the CPU reads the range (DMA_BUF_SYNC_READ)
 */
#define SGBUF_SYNC_READ		_BITULL(0)
/**
 * SGBUF_SYNC_WRITE - the CPU writes the range (DMA_BUF_SYNC_WRITE)
 */
#define SGBUF_SYNC_WRITE	_BITULL(1)
/**
 * SGBUF_SYNC_RW - the CPU reads and writes the range (DMA_BUF_SYNC_RW)
 */
#define SGBUF_SYNC_RW		(SGBUF_SYNC_READ | SGBUF_SYNC_WRITE)
/**
 * SGBUF_SYNC_START - CPU access begins (DMA_BUF_SYNC_START, 0)
 */
#define SGBUF_SYNC_START	0ULL
/**
 * SGBUF_SYNC_END - CPU access ends (DMA_BUF_SYNC_END)
 */
#define SGBUF_SYNC_END		_BITULL(2)
/**
 * SGBUF_SYNC_VALID_FLAGS - every flag bit SGBUF_IOCTL_SYNC_RANGE knows
 */
#define SGBUF_SYNC_VALID_FLAGS	(SGBUF_SYNC_RW | SGBUF_SYNC_END)

/**
 * struct sgbuf_sync_range - argument of SGBUF_IOCTL_SYNC_RANGE
 * @fd:		in: a dma-buf fd exported by sgbuf; borrowed, the caller
 *		keeps it
 * @pad:	must be zero
 * @flags:	in: SGBUF_SYNC_START or SGBUF_SYNC_END, ORed with
 *		SGBUF_SYNC_READ, SGBUF_SYNC_WRITE or both (SGBUF_SYNC_RW)
 * @offset:	in: first byte of the range
 * @length:	in: bytes in the range; non-zero. The range must lie inside
 *		the buffer.
 * @reserved:	must be zero
 *
 * DMA_BUF_IOCTL_SYNC restricted to [@offset, @offset + @length), with the
 * same flags and the same rules otherwise. START first waits for the
 * buffer's fences (device writers for a CPU read, every fence for a CPU
 * write; interruptibly), then makes what devices wrote into the range
 * visible to the CPU. END makes what the CPU wrote into the range visible
 * to devices. As for the whole buffer, every device mapping is synced,
 * oldest attachment first, and a kernel mapping (vmap) of the buffer is
 * invalidated or flushed, but only over the range.
 *
 * Granularity: where a device reaches the buffer through bounce buffers
 * (swiotlb), exactly the range's bytes are copied, and bytes outside it
 * keep what the CPU or the device last saw of them. Where the CPU's caches
 * are not coherent with devices, cache maintenance works on whole cache
 * lines (dma_get_cache_alignment(), 64 bytes on most CPUs): the lines that
 * hold the range's first and last bytes are written back or invalidated
 * whole, bytes next to the range included. Use ranges that start and end
 * on cache-line boundaries when the CPU and a device write neighbouring
 * bytes.
 *
 * START and END pair up as for DMA_BUF_IOCTL_SYNC. An unpaired call does
 * not fail, but it is not harmless either: each call moves data. Under
 * swiotlb a second START after CPU writes, with no END between, copies
 * the bounce buffer over what the CPU wrote, and an END without a START
 * copies the pages over what a device wrote into the bounce buffer; on a
 * CPU whose caches are not coherent, a START may discard cache lines the
 * CPU wrote and has not yet handed over with END.
 * Any open file of /dev/sgbuf will do; the ioctl uses none of its engine
 * state.
 *
 * Errors: EBADF (@fd is not an open fd), EOPNOTSUPP (a dma-buf that sgbuf
 * did not export: use DMA_BUF_IOCTL_SYNC on it instead), EINVAL (@fd is not
 * a dma-buf; bad flags, @pad or @reserved; @length 0; a range that does
 * not lie inside the buffer, overflow included), E2BIG (non-zero bytes
 * past the struct this module knows), EINTR (a signal arrived while
 * waiting for fences), EFAULT.
 */
struct sgbuf_sync_range {
	__s32 fd;
	__u32 pad;
	__u64 flags;
	__u64 offset;
	__u64 length;
	__u64 reserved[2];
};

/**
 * SGBUF_SYNC_RANGE_SIZE_VER0 - first published size of the struct
 */
#define SGBUF_SYNC_RANGE_SIZE_VER0	48

/**
 * DOC: SGBUF_IOCTL_SYNC_RANGE
 *
 * Begins or ends CPU access to part of an sgbuf dma-buf, as
 * DMA_BUF_IOCTL_SYNC does for the whole buffer; see &struct
 * sgbuf_sync_range. Present when SGBUF_CAP_SYNC_RANGE is set.
 */
#define SGBUF_IOCTL_SYNC_RANGE	\
	_IOW(SGBUF_IOC_MAGIC, 0x02, struct sgbuf_sync_range)

/*
 * The simulated DMA consumer (the "engine").
 *
 * Every open file of /dev/sgbuf has its own engine, created by the file's
 * first engine ioctl (a file used only to allocate or sync has none): one
 * queue whose jobs run in submission order, one dma_fence timeline, its own
 * imports and its own software fences. Import handles and software fence ids are scoped to
 * the file. The first engine ioctl of a file fails with ENOMEM if the
 * engine cannot be allocated. Closing the file cancels what has not
 * started, waits for the running job, signals every fence (with
 * -ECANCELED when cancelled) and drops the imports.
 *
 * The engine moves data only through the DMA addresses the exporter gave
 * it, translating each back to the page behind it (directly, through a
 * swiotlb bounce slot, or through the IOMMU), as a device would.
 */

/* Bits of struct sgbuf_import.flags */
/* Attach through the engine's 32-bit DMA-mask device instead of 64-bit. */
#define SGBUF_IMPORT_DMA32	_BITULL(0)
/*
 * The engine does no dma_sync of its own around jobs on this import and
 * relies entirely on the exporter (map, unmap, begin/end_cpu_access): under
 * swiotlb=force an exporter that misses a sync then shows wrong data.
 */
#define SGBUF_IMPORT_NO_SYNC	_BITULL(1)
#define SGBUF_IMPORT_VALID_FLAGS	(SGBUF_IMPORT_DMA32 | SGBUF_IMPORT_NO_SYNC)

/**
 * struct sgbuf_import - argument of SGBUF_IOCTL_IMPORT
 * @fd:		in: any dma-buf fd; borrowed, the caller keeps it
 * @handle:	out: non-zero import handle, valid on this file only; 0 on
 *		input
 * @flags:	in: SGBUF_IMPORT_* flags
 * @size:	out: size of the dma-buf in bytes; 0 on input
 * @reserved:	must be zero
 *
 * The engine attaches the dma-buf to its device, maps it
 * (DMA_BIDIRECTIONAL) and holds a reference until SGBUF_IOCTL_UNIMPORT or
 * until the file is closed, so the fd may be closed right after import.
 * Errors: EBADF (not an fd), EINVAL (not a dma-buf, bad flags or reserved),
 * EMFILE (more than 1024 imports on this file), plus whatever the exporter
 * returns from attach and map.
 */
struct sgbuf_import {
	__s32 fd;
	__u32 handle;
	__u64 flags;
	__u64 size;
	__u64 reserved[2];
};

#define SGBUF_IMPORT_SIZE_VER0	40

/**
 * struct sgbuf_unimport - argument of SGBUF_IOCTL_UNIMPORT
 * @handle:	the import to drop; jobs already submitted keep it alive
 *		until they are done
 * @flags:	must be zero
 * @reserved:	must be zero
 *
 * Errors: ENOENT (no such handle), EINVAL.
 */
struct sgbuf_unimport {
	__u32 handle;
	__u32 flags;
	__u64 reserved;
};

#define SGBUF_UNIMPORT_SIZE_VER0	16

/* Job types, struct sgbuf_submit.op */
#define SGBUF_JOB_FILL		1	/* dst range = repeated 32-bit pattern */
/*
 * src range -> dst range. Two ranges of one dma-buf must not overlap
 * (EINVAL); two different dma-bufs that share pages (two udmabufs of one
 * memfd, for instance) are not detected, and copying between overlapping
 * parts of them gives undefined contents, as memcpy() does.
 */
#define SGBUF_JOB_COPY		2
#define SGBUF_JOB_CHECKSUM	3	/* CRC-32 (as zlib's crc32()) of src range */
/**
 * SGBUF_JOB_CHECKSUM64 - job type: the checksum64 of the src range
 *
 * See "sgbuf checksum64" below for its definition. The result is in
 * struct sgbuf_wait.checksum64. Present when SGBUF_CAP_CHECKSUM64 is set.
 */
#define SGBUF_JOB_CHECKSUM64	4

/**
 * DOC: sgbuf checksum64
 *
 * SGBUF_JOB_CHECKSUM64 computes a Fletcher-style 64-bit checksum that
 * costs little more than reading the data, where CRC-32 is compute-bound.
 * It is meant for tests of data movement, where wrong, missing, stale,
 * reordered or shifted data changes it with overwhelming likelihood. It is
 * not a CRC, gives no guarantee for any class of error and has no
 * cryptographic strength: both sums are taken modulo 2^64, so a change
 * that leaves both unchanged goes unnoticed. For instance, bit 63 flipped
 * in two words an even number of words apart, or +d, -2d and +d added to
 * three consecutive words.
 *
 * Over the L bytes d[0] .. d[L - 1] of the range (L >= 1):
 *
 *  1. The bytes form N = ceil(L / 8) 64-bit words, each read little-endian:
 *     w[i] = d[8i] | d[8i + 1] << 8 | ... | d[8i + 7] << 56, where bytes
 *     past the range (d[L] and on, in the last word only) count as 0.
 *  2. One more word follows them: w[N] = L.
 *  3. With a = 0 and b = 0, for i = 0 .. N in order:
 *     a = a + w[i], then b = b + a, both modulo 2^64.
 *  4. The result is b XOR (a rotated left by 32 bits), that is
 *     b ^ (a << 32 | a >> 32).
 *
 * Word boundaries count from the start of the range, whatever its offset
 * in the buffer. docs/uapi.md has a reference implementation in C. Test
 * vectors: the 9 bytes "123456789" give 0x9c9690eca4aea13b, one zero byte
 * gives 0x0000000100000001.
 */

/* Bits of struct sgbuf_submit.flags */
#define SGBUF_SUBMIT_IN_FENCE	_BITULL(0)	/* wait for in_fence_fd first */
#define SGBUF_SUBMIT_OUT_FENCE	_BITULL(1)	/* return out_fence_fd */
#define SGBUF_SUBMIT_VALID_FLAGS	(SGBUF_SUBMIT_IN_FENCE | \
					 SGBUF_SUBMIT_OUT_FENCE)

/**
 * struct sgbuf_submit - argument of SGBUF_IOCTL_SUBMIT
 * @op:		in: SGBUF_JOB_*
 * @src:	in: import handle read by COPY, CHECKSUM and CHECKSUM64,
 *		else 0
 * @dst:	in: import handle written by FILL and COPY, else 0
 * @in_fence_fd: in: sync_file fd to wait for, with SGBUF_SUBMIT_IN_FENCE
 *		(borrowed), else 0
 * @flags:	in: SGBUF_SUBMIT_* flags
 * @src_offset:	in: byte offset into @src
 * @dst_offset:	in: byte offset into @dst
 * @length:	in: bytes to fill, copy or checksum; non-zero. Ranges must lie
 *		inside their buffers; COPY ranges in one buffer must not overlap.
 * @pattern:	in: FILL: 32-bit pattern, stored little-endian and repeated
 *		from @dst_offset on; the upper 32 bits must be zero. Else 0.
 * @seqno:	out: the job's number on this file's timeline, from 1; 0 on
 *		input
 * @out_fence_fd: out: with SGBUF_SUBMIT_OUT_FENCE, a new sync_file fd
 *		(O_CLOEXEC) owned by the caller; else unchanged; 0 on input
 * @pad:	must be zero
 * @reserved:	must be zero
 *
 * Before it starts, a job waits for the fences already in each buffer's
 * reservation object (a write waits for all, a read for writers) and for
 * the in-fence; jobs of the same file simply run in order, and one's
 * failure does not fail the next. Its own fence is added to each buffer's reservation object
 * at submit time, with WRITE usage for @dst and READ usage for @src, so
 * poll(), DMA_BUF_IOCTL_SYNC and DMA_BUF_IOCTL_EXPORT_SYNC_FILE on the
 * dma-buf wait for it. A failed job's fence carries its error.
 *
 * Errors: EINVAL (bad op, handles for the op, flags, ranges, pattern,
 * reserved, an in_fence_fd that is not a sync_file), ENOENT (unknown
 * handle), EBUSY (queue_depth jobs in flight), EINTR, ENOMEM, EMFILE,
 * EFAULT. On EFAULT while writing the reply the job has been submitted
 * and runs; only its out-fence fd is lost.
 */
struct sgbuf_submit {
	__u32 op;
	__u32 src;
	__u32 dst;
	__s32 in_fence_fd;
	__u64 flags;
	__u64 src_offset;
	__u64 dst_offset;
	__u64 length;
	__u64 pattern;
	__u64 seqno;
	__s32 out_fence_fd;
	__u32 pad;
	__u64 reserved[2];
};

#define SGBUF_SUBMIT_SIZE_VER0	88

/**
 * struct sgbuf_wait - argument of SGBUF_IOCTL_WAIT
 * @seqno:	in: a job number returned by SUBMIT on this file
 * @timeout_ns:	in: relative timeout; 0 polls, negative waits forever
 * @status:	out: 0, or the job's negative errno (-EIO from error
 *		injection, -ECANCELED, -ETIMEDOUT for a fence it waited for
 *		that did not signal in time, or the error of such a fence)
 * @checksum:	out: CHECKSUM jobs: the CRC-32 of the range; CHECKSUM64
 *		jobs: the low 32 bits of @checksum64; other jobs, and failed
 *		ones: 0
 * @flags:	must be zero
 * @checksum64:	out: CHECKSUM64 jobs: the checksum64 of the range; every
 *		other job (CHECKSUM included), and failed ones: 0. Added in
 *		ABI 3 in place of the first reserved word, which programs
 *		built against ABI 2 pass back as they found it: it is written
 *		only for the job type they cannot submit. A module without
 *		SGBUF_CAP_CHECKSUM64 never writes it, so 0 there means "not
 *		filled in", not a checksum.
 * @reserved:	must be zero; ABI 2's reserved[1], kept an array so that
 *		sources written for ABI 2, which index reserved[], still build
 *
 * @status, @checksum and @checksum64 must be 0 on input.
 *
 * Errors: ETIME (not done within the timeout), EINTR, EINVAL (seqno 0 or
 * never submitted), ENOENT (the result is no longer kept: only the last
 * 256 jobs' results are).
 */
struct sgbuf_wait {
	__u64 seqno;
	__s64 timeout_ns;
	__s32 status;
	__u32 checksum;
	__u64 flags;
	__u64 checksum64;
	__u64 reserved[1];	/* an array as in ABI 2, not a flexible one */
};

#define SGBUF_WAIT_SIZE_VER0	48

#define SGBUF_MAX_QUEUE_DEPTH	256

/**
 * struct sgbuf_engine_config - argument of SGBUF_IOCTL_ENGINE_CONFIG
 * @bandwidth:	bytes per second the engine moves; 0 = unlimited (default)
 * @latency_ns:	extra time each job takes, at most 10 s (default 0)
 * @queue_depth: jobs in flight before SUBMIT fails with EBUSY,
 *		1..SGBUF_MAX_QUEUE_DEPTH (default 64)
 * @flags:	must be zero
 * @fail_seqno:	the job with this seqno fails with @fail_error instead of
 *		running; 0 = no error injection (default)
 * @fail_error:	negative errno for @fail_seqno; 0 means -EIO
 * @pad:	must be zero
 * @reserved:	must be zero
 *
 * Applies to jobs submitted after the call. The simulated time of one job
 * (latency plus length / bandwidth) is capped at the job_timeout_ms module
 * parameter, so that every fence signals in bounded time.
 */
struct sgbuf_engine_config {
	__u64 bandwidth;
	__u64 latency_ns;
	__u32 queue_depth;
	__u32 flags;
	__u64 fail_seqno;
	__s32 fail_error;
	__u32 pad;
	__u64 reserved[2];
};

#define SGBUF_ENGINE_CONFIG_SIZE_VER0	56

/**
 * struct sgbuf_sw_fence - argument of SGBUF_IOCTL_SW_FENCE_CREATE
 * @flags:	must be zero
 * @fence_fd:	out: a new sync_file fd (O_CLOEXEC) owned by the caller; 0
 *		on input
 * @id:		out: the fence's id for SGBUF_IOCTL_SW_FENCE_SIGNAL; 0 on input
 * @reserved:	must be zero
 *
 * A fence that userspace signals: the software timeline for tests, usable
 * as any job's in-fence or anywhere a sync_file is accepted. A fence not
 * signalled within the job_timeout_ms module parameter (default 10 s)
 * signals with -ETIMEDOUT; unsignalled fences are signalled with
 * -ECANCELED when the file is closed.
 */
struct sgbuf_sw_fence {
	__u64 flags;
	__s32 fence_fd;
	__u32 id;
	__u64 reserved[2];
};

#define SGBUF_SW_FENCE_SIZE_VER0	32

/**
 * struct sgbuf_sw_signal - argument of SGBUF_IOCTL_SW_FENCE_SIGNAL
 * @id:		a software fence of this file
 * @error:	0, or a negative errno the fence carries
 * @flags:	must be zero
 * @reserved:	must be zero
 *
 * Errors: ENOENT (no such unsignalled fence), EINVAL.
 */
struct sgbuf_sw_signal {
	__u32 id;
	__s32 error;
	__u64 flags;
	__u64 reserved;
};

#define SGBUF_SW_SIGNAL_SIZE_VER0	24

#define SGBUF_IOCTL_IMPORT	_IOWR(SGBUF_IOC_MAGIC, 0x10, struct sgbuf_import)
#define SGBUF_IOCTL_UNIMPORT	_IOW(SGBUF_IOC_MAGIC, 0x11, struct sgbuf_unimport)
#define SGBUF_IOCTL_SUBMIT	_IOWR(SGBUF_IOC_MAGIC, 0x12, struct sgbuf_submit)
#define SGBUF_IOCTL_WAIT	_IOWR(SGBUF_IOC_MAGIC, 0x13, struct sgbuf_wait)
#define SGBUF_IOCTL_ENGINE_CONFIG \
	_IOW(SGBUF_IOC_MAGIC, 0x14, struct sgbuf_engine_config)
#define SGBUF_IOCTL_SW_FENCE_CREATE \
	_IOWR(SGBUF_IOC_MAGIC, 0x15, struct sgbuf_sw_fence)
#define SGBUF_IOCTL_SW_FENCE_SIGNAL \
	_IOW(SGBUF_IOC_MAGIC, 0x16, struct sgbuf_sw_signal)

#endif /* _UAPI_LINUX_SGBUF_H */
