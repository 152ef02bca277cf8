/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * sgbuf - scatter-gather dma-buf exporter
 *
 * This header is the single source of truth for the sgbuf ABI. It is
 * included by the kernel module, by libdmabuf and by the selftests, and
 * it compiles as plain C90 userspace code.
 *
 * Conventions (see docs/uapi.md):
 *  - Sizes and pointers are __u64; structs have no implicit padding.
 *  - Every unknown flag bit and every non-zero reserved field is rejected
 *    with -EINVAL. Unknown ioctls fail with -ENOTTY.
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

/* The ABI revision reported by SGBUF_IOCTL_GET_INFO. */
#define SGBUF_ABI_VERSION	1

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

#endif /* _UAPI_LINUX_SGBUF_H */
