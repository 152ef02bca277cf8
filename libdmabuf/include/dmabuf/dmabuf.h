/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libdmabuf - allocate, map, synchronise and share dma-buf buffers, and
 * drive sgbuf's simulated DMA consumer.
 *
 * The rules every function follows (errors, fd ownership, structs,
 * threads) are in "DOC: conventions" below; docs/libdmabuf.md is the
 * overview and docs/channel.md the channel's protocol.
 */
#ifndef DMABUF_DMABUF_H
#define DMABUF_DMABUF_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#ifdef __cplusplus
extern "C" {
#endif

/**
 * DOC: conventions
 *
 * Errors: a function that can fail returns a negative errno on failure
 * (never a bare -1) and 0, or a documented non-negative value, on success.
 * On failure nothing is changed, no output is written and no fd is left
 * open (exceptions are documented: a message that arrives with fds that
 * cannot be installed is consumed). Timeouts are reported as -ETIME; EINTR
 * and EAGAIN are retried inside the library. Each function's "Return:"
 * lists the errors it reports itself and the usual ones from the kernel;
 * others the kernel reports pass through unchanged.
 *
 * Arguments: a NULL pointer where an object or an output is required, an
 * object of the wrong kind (a consumer channel to a producer function),
 * an unknown flag bit or a non-zero reserved word is -EINVAL.
 *
 * File descriptors: every fd argument or result is documented as
 * *borrowed* (the caller keeps ownership) or *owned* (ownership passes).
 * One rule for bad fds, everywhere: an fd argument that is negative (where
 * -1 does not mean "none") or not open is -EBADF; an open fd of the wrong
 * kind (not a dma-buf, not a sync_file) is -EINVAL, except that the socket
 * functions report an fd that is not a socket as -ENOTSOCK. Where -1 means
 * "none" (fences), any other negative value is -EBADF. Every fd the
 * library opens or receives has O_CLOEXEC. No function raises SIGPIPE.
 *
 * Structs: every public struct has room to grow. Input structs (struct
 * dmabuf_job, struct dmabuf_engine_config, struct dmabuf_frame given to
 * dmabuf_channel_send()) have a @flags word and reserved words: zero the
 * whole struct (``= { 0 }`` or memset()) before setting its fields; an
 * unknown flag or a non-zero reserved word is -EINVAL. Output structs
 * (struct dmabuf_caps, struct dmabuf_info, struct dmabuf_frame filled by
 * the channel) have reserved words that the library zeroes. No struct has
 * implicit padding, and no struct member is an enum: fields that hold an
 * enum's values are uint32_t.
 *
 * Threads: there is no global state, and every function may be called
 * from any thread. An object (struct dmabuf_allocator, struct
 * dmabuf_engine, struct dmabuf_channel) is not locked: calls on one object
 * must not overlap, whichever functions they are. In particular a
 * channel's dmabuf_channel_receive() and dmabuf_channel_release() (or a
 * producer's dmabuf_channel_acquire() and dmabuf_channel_send()) must not
 * run on two threads at once: serialise them with a lock of your own, or
 * give the channel to one thread. Different objects may be used
 * concurrently. The functions that take only fds (buffers, fences,
 * sockets) keep no state and may be called concurrently. After fork(),
 * only one of the processes may go on using an object.
 */

/** DMABUF_VERSION_MAJOR - major version of this header (the VERSION file) */
#define DMABUF_VERSION_MAJOR 0
/** DMABUF_VERSION_MINOR - minor version of this header */
#define DMABUF_VERSION_MINOR 1
/** DMABUF_VERSION_PATCH - patch level of this header */
#define DMABUF_VERSION_PATCH 0

/**
 * dmabuf_version() - version of the library at run time
 *
 * Return: the project version as "MAJOR.MINOR.PATCH", a static string;
 * the library built from this header returns DMABUF_VERSION_MAJOR,
 * DMABUF_VERSION_MINOR and DMABUF_VERSION_PATCH.
 */
const char *dmabuf_version(void);

/* ------------------------------------------------------------------ */
/* Allocation                                                          */
/* ------------------------------------------------------------------ */

/**
 * enum dmabuf_backend - where buffers come from
 * @DMABUF_BACKEND_AUTO: the first that works of sgbuf, the dma-heap
 *	"system", udmabuf
 * @DMABUF_BACKEND_SGBUF: /dev/sgbuf (the sgbuf kernel module)
 * @DMABUF_BACKEND_HEAP: a dma-heap, /dev/dma_heap/<name>
 * @DMABUF_BACKEND_UDMABUF: /dev/udmabuf, backed by a sealed memfd
 */
enum dmabuf_backend {
	DMABUF_BACKEND_AUTO = 0,
	DMABUF_BACKEND_SGBUF = 1,
	DMABUF_BACKEND_HEAP = 2,
	DMABUF_BACKEND_UDMABUF = 3,
};

/** DMABUF_NAME_MAX - size of a buffer name, NUL included (the kernel's) */
#define DMABUF_NAME_MAX 32

/* Bits of struct dmabuf_caps.flags */
/** DMABUF_CAP_CONTIGUOUS - DMABUF_ALLOC_CONTIGUOUS can succeed */
#define DMABUF_CAP_CONTIGUOUS (1u << 0)
/**
 * DMABUF_CAP_CACHED - CPU mappings are known to be cached
 *
 * Set for sgbuf, udmabuf and the heaps "system" and "sgbuf". Not set means
 * uncached *or unknown*: the kernel does not say whether another dma-heap
 * maps its buffers cached, and the library does not guess from the name.
 */
#define DMABUF_CAP_CACHED (1u << 1)
/** DMABUF_CAP_NAME_AT_ALLOC - buffers are named at allocation, not after */
#define DMABUF_CAP_NAME_AT_ALLOC (1u << 2)
/** DMABUF_CAP_SYNC_RANGE - dmabuf_sync_range() syncs only the range */
#define DMABUF_CAP_SYNC_RANGE (1u << 3)
/**
 * DMABUF_CAP_ENGINE - the sgbuf module offers its DMA engine
 *
 * dmabuf_engine_new() can then succeed. Reported by the SGBUF backend
 * only (from SGBUF_IOCTL_GET_INFO): other backends know nothing of the
 * engine and leave the bit clear; dmabuf_engine_new() tells for sure.
 */
#define DMABUF_CAP_ENGINE (1u << 4)
/**
 * DMABUF_CAP_CHECKSUM64 - the engine runs DMABUF_JOB_CHECKSUM64 jobs
 *
 * SGBUF backend only, as DMABUF_CAP_ENGINE.
 */
#define DMABUF_CAP_CHECKSUM64 (1u << 5)

/**
 * struct dmabuf_caps - what an allocator can do (output)
 * @backend:	the backend in use, an enum dmabuf_backend value (never
 *		DMABUF_BACKEND_AUTO)
 * @flags:	DMABUF_CAP_* bits
 * @name:	"sgbuf", the heap's name, or "udmabuf"
 * @page_size:	sizes are rounded up to a multiple of this
 * @max_size:	largest single buffer, 0 if unknown
 * @max_contig_size: largest DMABUF_ALLOC_CONTIGUOUS buffer, 0 if none
 * @reserved:	zeroed by the library
 */
struct dmabuf_caps {
	uint32_t backend;
	uint32_t flags;
	char name[64];
	uint64_t page_size;
	uint64_t max_size;
	uint64_t max_contig_size;
	uint64_t reserved[8];
};

/** struct dmabuf_allocator - an open backend (opaque) */
struct dmabuf_allocator;

/**
 * dmabuf_allocator_new() - open an allocation backend
 * @backend:	the backend, or DMABUF_BACKEND_AUTO
 * @heap:	with DMABUF_BACKEND_HEAP, the heap's name (NULL: "system");
 *		else must be NULL
 * @out:	the new allocator, to free with dmabuf_allocator_free()
 *
 * Return: 0; -ENOENT if the backend does not exist on this system (with
 * AUTO: if none does; else AUTO returns the first other error); -EACCES
 * or -EPERM if its device cannot be opened; -EINVAL (unknown backend, a
 * heap name with another backend, a heap name that is not one path
 * component shorter than 64 bytes, NULL @out); -ENOMEM; -EMFILE.
 */
int dmabuf_allocator_new(enum dmabuf_backend backend, const char *heap,
			 struct dmabuf_allocator **out);

/**
 * dmabuf_allocator_free() - close an allocator
 * @alloc:	the allocator, or NULL
 *
 * Buffers allocated from it stay valid: each is its own fd.
 */
void dmabuf_allocator_free(struct dmabuf_allocator *alloc);

/**
 * dmabuf_allocator_caps() - what an allocator can do
 * @alloc:	the allocator
 * @caps:	filled in, reserved words zeroed
 *
 * Return: 0, or -EINVAL if @alloc or @caps is NULL.
 */
int dmabuf_allocator_caps(const struct dmabuf_allocator *alloc,
			  struct dmabuf_caps *caps);

/* Flags of dmabuf_alloc() */
/** DMABUF_ALLOC_CONTIGUOUS - one physically contiguous range (sgbuf only) */
#define DMABUF_ALLOC_CONTIGUOUS (1u << 0)
/** DMABUF_ALLOC_READONLY - the fd is O_RDONLY: it cannot be mapped writable */
#define DMABUF_ALLOC_READONLY (1u << 1)

/**
 * dmabuf_alloc() - allocate a zeroed buffer
 * @alloc:	the allocator
 * @size:	bytes, rounded up to the backend's page size; non-zero
 * @flags:	DMABUF_ALLOC_* flags
 * @name:	the buffer's name (printable ASCII, shorter than
 *		DMABUF_NAME_MAX), or NULL or "" for none
 *
 * Return: a new dma-buf fd, **owned** by the caller (O_CLOEXEC), or a
 * negative errno: -EINVAL (NULL @alloc, size 0, unknown flag, bad name),
 * -EOPNOTSUPP (a flag the backend cannot honour: CONTIGUOUS except on
 * sgbuf, READONLY on udmabuf), -EFBIG (above the backend's limit, or a
 * size that does not fit in the backend's size type), -ENOSPC (sgbuf's
 * total limit), -ENOMEM, -EMFILE, -ENFILE.
 */
int dmabuf_alloc(struct dmabuf_allocator *alloc, uint64_t size,
		 uint32_t flags, const char *name);

/* ------------------------------------------------------------------ */
/* Buffer operations; @fd is always a borrowed dma-buf fd               */
/* ------------------------------------------------------------------ */

/**
 * struct dmabuf_info - what the kernel reports about a dma-buf (output)
 * @size:	bytes
 * @inode:	the dma-buf's inode number, unique among live buffers (as in
 *		/proc/<pid>/maps and debugfs bufinfo)
 * @count:	references held on the buffer's file (fds, mappings,
 *		imports); -1 if the kernel does not say
 * @exporter:	the exporter's name, e.g. "sgbuf", "system", "udmabuf"; ""
 *		if the kernel does not say
 * @name:	the buffer's name, "" if it has none (or the kernel does not
 *		say)
 * @reserved:	zeroed by the library
 */
struct dmabuf_info {
	uint64_t size;
	uint64_t inode;
	int64_t count;
	char exporter[64];
	char name[DMABUF_NAME_MAX];
	uint64_t reserved[8];
};

/**
 * dmabuf_get_info() - size, inode, exporter and name of a buffer
 * @fd:		a dma-buf fd (borrowed)
 * @info:	filled in, reserved words zeroed
 *
 * Reads /proc/self/fdinfo/<fd> and fstat(). Where /proc is not mounted or
 * the kernel's fdinfo lacks a line, @size comes from lseek(SEEK_END),
 * @count is -1 and @exporter and @name are "".
 * Return: 0, -EBADF, -EINVAL if @fd is not a dma-buf or @info is NULL, or
 * another negative errno.
 */
int dmabuf_get_info(int fd, struct dmabuf_info *info);

/**
 * dmabuf_set_name() - name a buffer (DMA_BUF_SET_NAME)
 * @fd:		a dma-buf fd (borrowed)
 * @name:	printable ASCII, shorter than DMABUF_NAME_MAX
 *
 * Return: 0, -EBADF, -EINVAL (not a dma-buf, NULL or bad name), or the
 * kernel's error.
 */
int dmabuf_set_name(int fd, const char *name);

/**
 * dmabuf_get_name() - a buffer's name
 * @fd:		a dma-buf fd (borrowed)
 * @name:	receives the name, "" if it has none
 * @len:	size of @name; DMABUF_NAME_MAX is always enough
 *
 * Return: 0, -ERANGE if @len is too small, -EBADF, -EINVAL (not a
 * dma-buf, NULL @name, @len 0), or another negative errno.
 */
int dmabuf_get_name(int fd, char *name, size_t len);

/* Access modes of the map, sync and fence functions */
/** DMABUF_READ - the CPU (or a device) reads */
#define DMABUF_READ (1u << 0)
/** DMABUF_WRITE - the CPU (or a device) writes */
#define DMABUF_WRITE (1u << 1)
/** DMABUF_RW - both */
#define DMABUF_RW (DMABUF_READ | DMABUF_WRITE)
/** DMABUF_SYNC_START - dmabuf_sync_range(): CPU access begins */
#define DMABUF_SYNC_START (1u << 2)
/** DMABUF_SYNC_END - dmabuf_sync_range(): CPU access ends */
#define DMABUF_SYNC_END (1u << 3)

/**
 * dmabuf_map() - map a whole buffer into this process
 * @fd:		a dma-buf fd (borrowed; the mapping stays valid after it
 *		is closed)
 * @access:	DMABUF_READ, DMABUF_WRITE or both
 * @addr:	receives the address (MAP_SHARED)
 * @size:	receives the length of the mapping; may be NULL
 *
 * CPU accesses through the mapping must be bracketed by
 * dmabuf_sync_begin() and dmabuf_sync_end() (or dmabuf_sync_range()).
 * Return: 0, -EBADF, -EINVAL (not a dma-buf, bad @access, NULL @addr),
 * -EACCES (a writable mapping of an O_RDONLY fd), -EFBIG (an empty buffer,
 * or one that does not fit in the address space), -ENOMEM, or the
 * exporter's error.
 */
int dmabuf_map(int fd, uint32_t access, void **addr, size_t *size);

/**
 * dmabuf_unmap() - undo dmabuf_map()
 * @addr:	the address dmabuf_map() returned
 * @size:	the size it returned
 *
 * Return: 0, or -EINVAL (NULL @addr, @size 0, an @addr that is not
 * page-aligned).
 */
int dmabuf_unmap(void *addr, size_t size);

/**
 * dmabuf_sync_begin() - begin CPU access (DMA_BUF_IOCTL_SYNC START)
 * @fd:		a dma-buf fd (borrowed)
 * @access:	DMABUF_READ, DMABUF_WRITE or both
 *
 * Waits for the buffer's fences (for writers before a read, for every
 * user before a write) and makes device writes visible to the CPU.
 * Return: 0, -EBADF, -EINVAL (not a dma-buf, bad @access), or the
 * exporter's error.
 */
int dmabuf_sync_begin(int fd, uint32_t access);

/**
 * dmabuf_sync_end() - end CPU access (DMA_BUF_IOCTL_SYNC END)
 * @fd:		a dma-buf fd (borrowed)
 * @access:	the same as for the matching dmabuf_sync_begin()
 *
 * Makes CPU writes visible to devices.
 * Return: 0, -EBADF, -EINVAL (not a dma-buf, bad @access), or the
 * exporter's error.
 */
int dmabuf_sync_end(int fd, uint32_t access);

/**
 * dmabuf_sync_range() - begin or end CPU access to part of a buffer
 * @fd:		a dma-buf fd (borrowed)
 * @flags:	DMABUF_READ, DMABUF_WRITE or both, ORed with exactly one of
 *		DMABUF_SYNC_START and DMABUF_SYNC_END
 * @offset:	start of the range in bytes
 * @length:	bytes, non-zero; the range must lie inside the buffer
 *
 * Buffers from sgbuf sync only the range (SGBUF_IOCTL_SYNC_RANGE, when the
 * running module offers it: DMABUF_CAP_SYNC_RANGE); any other dma-buf
 * syncs whole, as dmabuf_sync_begin() and dmabuf_sync_end() do.
 *
 * Cost: the library keeps no state, so each call opens /dev/sgbuf, issues
 * the ioctl and closes it again, on top of the sync itself. That is a few
 * microseconds where opening /dev/sgbuf is cheap (the module sets up a
 * file's engine only when it is first used); where /dev/sgbuf does not
 * exist the call falls back to the whole-buffer sync at once. For whole
 * buffers, use dmabuf_sync_begin() and dmabuf_sync_end().
 *
 * Return: 0, -EBADF, -EINVAL (not a dma-buf; flags with no access, with
 * both or neither of START and END, or an unknown bit; @length 0; a range
 * outside the buffer), or the exporter's error.
 */
int dmabuf_sync_range(int fd, uint32_t flags, uint64_t offset,
		      uint64_t length);

/**
 * dmabuf_wait() - wait until a buffer is idle for an access
 * @fd:		a dma-buf fd (borrowed)
 * @access:	DMABUF_READ waits for writers, DMABUF_WRITE for every user
 * @timeout_ms:	milliseconds; 0 polls, negative waits forever
 *
 * Return: 0 when idle, -ETIME on timeout, -EBADF, -EINVAL (not a dma-buf,
 * bad @access), or another negative errno.
 */
int dmabuf_wait(int fd, uint32_t access, int timeout_ms);

/**
 * dmabuf_export_sync_file() - a buffer's current fences as a sync_file
 * @fd:		a dma-buf fd (borrowed)
 * @access:	DMABUF_READ: the fences a reader waits for (writers);
 *		DMABUF_WRITE: those a writer waits for (all)
 *
 * Return: a new sync_file fd, **owned** by the caller (O_CLOEXEC), or a
 * negative errno: -EBADF, -EINVAL (not a dma-buf, bad @access),
 * -EOPNOTSUPP (a kernel without DMA_BUF_IOCTL_EXPORT_SYNC_FILE), -ENOMEM,
 * -EMFILE.
 */
int dmabuf_export_sync_file(int fd, uint32_t access);

/**
 * dmabuf_import_sync_file() - add a fence to a buffer's reservation object
 * @fd:		a dma-buf fd (borrowed)
 * @access:	DMABUF_WRITE: the fence is a write; DMABUF_READ: a read
 * @sync_fd:	a sync_file fd (borrowed)
 *
 * Return: 0, -EBADF (@fd or @sync_fd negative or not open), -EINVAL (@fd
 * not a dma-buf, @sync_fd not a sync_file, bad @access), -EOPNOTSUPP (a
 * kernel without DMA_BUF_IOCTL_IMPORT_SYNC_FILE), -ENOMEM.
 */
int dmabuf_import_sync_file(int fd, uint32_t access, int sync_fd);

/* ------------------------------------------------------------------ */
/* Fences (sync_file fds)                                               */
/* ------------------------------------------------------------------ */

/**
 * dmabuf_fence_wait() - wait for a sync_file to signal
 * @sync_fd:	a sync_file fd (borrowed)
 * @timeout_ms:	milliseconds; 0 polls, negative waits forever
 *
 * Return: 0 if it signalled without error, the fence's negative error if
 * it signalled with one (e.g. -EIO, -ECANCELED), -ETIME on timeout, -EBADF
 * (@sync_fd negative or not open), or -EINVAL (not a sync_file).
 */
int dmabuf_fence_wait(int sync_fd, int timeout_ms);

/**
 * dmabuf_fence_status() - state of a sync_file without waiting
 * @sync_fd:	a sync_file fd (borrowed)
 *
 * Return: 1 signalled without error, 0 still active, the fence's negative
 * error if it signalled with one, -EBADF (@sync_fd negative or not open),
 * or -EINVAL (not a sync_file; a fence that failed with -EINVAL looks the
 * same).
 */
int dmabuf_fence_status(int sync_fd);

/**
 * dmabuf_fence_merge() - a sync_file that signals when both have
 * @a:		a sync_file fd (borrowed)
 * @b:		a sync_file fd (borrowed)
 *
 * When both hold fences of one timeline (e.g. two jobs of one engine), the
 * kernel keeps only the later one, so the earlier one's error is not seen
 * in the merged fence: wait for such fences separately if their errors
 * matter.
 *
 * Return: a new sync_file fd, **owned** by the caller (O_CLOEXEC), or a
 * negative errno: -EBADF (either negative or not open), -EINVAL (either
 * not a sync_file), -ENOMEM, -EMFILE.
 */
int dmabuf_fence_merge(int a, int b);

/* ------------------------------------------------------------------ */
/* sgbuf's simulated DMA consumer                                       */
/* ------------------------------------------------------------------ */

/** struct dmabuf_engine - an engine of /dev/sgbuf (opaque) */
struct dmabuf_engine;

/**
 * dmabuf_engine_new() - open a DMA consumer engine
 * @out:	the new engine; free with dmabuf_engine_free()
 *
 * Each engine has its own queue, timeline, imports and software fences.
 * Return: 0, -EINVAL (NULL @out), -ENOENT if sgbuf is not loaded,
 * -EOPNOTSUPP if the loaded module has no engine, -EACCES, -ENOMEM,
 * -EMFILE.
 */
int dmabuf_engine_new(struct dmabuf_engine **out);

/**
 * dmabuf_engine_free() - close an engine
 * @engine:	the engine, or NULL
 *
 * Jobs not started are cancelled (their fences signal -ECANCELED), the
 * running one completes, imports are dropped.
 */
void dmabuf_engine_free(struct dmabuf_engine *engine);

/**
 * dmabuf_engine_fd() - the engine's /dev/sgbuf fd
 * @engine:	the engine
 *
 * Return: the fd, **borrowed** from the engine (do not close it), or
 * -EINVAL if @engine is NULL.
 */
int dmabuf_engine_fd(const struct dmabuf_engine *engine);

/* Flags of dmabuf_engine_import() */
/** DMABUF_IMPORT_DMA32 - attach through the engine's 32-bit DMA-mask device */
#define DMABUF_IMPORT_DMA32 (1u << 0)
/** DMABUF_IMPORT_NO_SYNC - the engine does no syncs: the exporter's only */
#define DMABUF_IMPORT_NO_SYNC (1u << 1)

/**
 * dmabuf_engine_import() - attach and map a dma-buf for the engine
 * @engine:	the engine
 * @fd:		any dma-buf fd (borrowed; the import holds its own reference)
 * @flags:	DMABUF_IMPORT_* flags
 * @handle:	receives the import's handle (non-zero)
 *
 * Return: 0, -EBADF, -EINVAL (NULL @engine or @handle, unknown flag, @fd
 * not a dma-buf), -EMFILE (more than 1024 imports on the engine), or the
 * exporter's error from attaching or mapping (-ENOMEM, -EIO, ...).
 */
int dmabuf_engine_import(struct dmabuf_engine *engine, int fd,
			 uint32_t flags, uint32_t *handle);

/**
 * dmabuf_engine_unimport() - drop an import
 * @engine:	the engine
 * @handle:	from dmabuf_engine_import(); jobs already submitted keep the
 *		buffer until they finish
 *
 * Return: 0, -ENOENT (no such handle), or -EINVAL (NULL @engine).
 */
int dmabuf_engine_unimport(struct dmabuf_engine *engine, uint32_t handle);

/**
 * enum dmabuf_job_op - what a job does (the values of struct
 * dmabuf_job.op)
 * @DMABUF_JOB_FILL: dst range = repeated 32-bit little-endian pattern
 * @DMABUF_JOB_COPY: src range -> dst range
 * @DMABUF_JOB_CHECKSUM: CRC-32 (zlib's crc32()) of the src range
 * @DMABUF_JOB_CHECKSUM64: sgbuf's 64-bit checksum of the src range (see
 *	SGBUF_JOB_CHECKSUM64 in <linux/sgbuf.h>); only where
 *	DMABUF_CAP_CHECKSUM64 is set, older modules reject it with -EINVAL
 */
enum dmabuf_job_op {
	DMABUF_JOB_FILL = 1,
	DMABUF_JOB_COPY = 2,
	DMABUF_JOB_CHECKSUM = 3,
	DMABUF_JOB_CHECKSUM64 = 4,
};

/* Flags of struct dmabuf_job */
/** DMABUF_JOB_IN_FENCE - the job waits for @in_fence_fd first */
#define DMABUF_JOB_IN_FENCE (1u << 0)

/**
 * struct dmabuf_job - a job for dmabuf_engine_submit() (input)
 * @op:		the operation, an enum dmabuf_job_op value
 * @flags:	DMABUF_JOB_* flags
 * @src:	import handle read by COPY and the checksums, else 0
 * @dst:	import handle written by FILL and COPY, else 0
 * @src_offset:	byte offset into @src
 * @dst_offset:	byte offset into @dst
 * @length:	bytes; non-zero
 * @pattern:	FILL's pattern, else 0
 * @in_fence_fd: with DMABUF_JOB_IN_FENCE, a sync_file the job waits for
 *		first (borrowed); ignored without it, so that a zeroed job
 *		never names fd 0
 * @reserved:	must be zero
 */
struct dmabuf_job {
	uint32_t op;
	uint32_t flags;
	uint32_t src;
	uint32_t dst;
	uint64_t src_offset;
	uint64_t dst_offset;
	uint64_t length;
	uint32_t pattern;
	int32_t in_fence_fd;
	uint64_t reserved[4];
};

/**
 * dmabuf_engine_submit() - queue a job
 * @engine:	the engine
 * @job:	the job
 * @seqno:	receives the job's number for dmabuf_engine_wait(); may be
 *		NULL
 * @out_fence_fd: if non-NULL, receives a new sync_file fd that signals
 *		when the job is done, **owned** by the caller (O_CLOEXEC)
 *
 * The job waits for the fences already in its buffers' reservation
 * objects, and its own fence is added to them (a write to dst, a read of
 * src), so that dmabuf_wait(), dmabuf_sync_begin() and other devices wait
 * for it.
 * Return: 0; -EBUSY if the queue is full (queue_depth jobs in flight);
 * -EBADF (DMABUF_JOB_IN_FENCE with an @in_fence_fd that is negative or
 * not open); -EINVAL (NULL @engine or @job, unknown flag, non-zero
 * reserved word, unknown op, handles that do not suit the op, a range
 * outside its buffer, an @in_fence_fd that is not a sync_file); -ENOENT
 * (an unknown handle); -ENOMEM; -EMFILE.
 */
int dmabuf_engine_submit(struct dmabuf_engine *engine,
			 const struct dmabuf_job *job, uint64_t *seqno,
			 int *out_fence_fd);

/**
 * dmabuf_engine_wait() - wait for a job and fetch its result
 * @engine:	the engine
 * @seqno:	from dmabuf_engine_submit()
 * @timeout_ms:	milliseconds; 0 polls, negative waits forever
 * @checksum:	checksum jobs: receives the result (the CRC-32 for
 *		DMABUF_JOB_CHECKSUM, the 64-bit sum for DMABUF_JOB_CHECKSUM64);
 *		may be NULL
 *
 * Return: 0 if the job succeeded, its negative error if it failed (-EIO,
 * -ECANCELED, -ETIMEDOUT, ...), -ETIME if it is not done within the
 * timeout, -ENOENT if its result is no longer kept (only the last 256
 * jobs' are), -EINVAL (NULL @engine, @seqno 0 or never handed out).
 */
int dmabuf_engine_wait(struct dmabuf_engine *engine, uint64_t seqno,
		       int timeout_ms, uint64_t *checksum);

/**
 * struct dmabuf_engine_config - simulated device properties (input)
 * @flags:	must be zero (none defined yet)
 * @queue_depth: jobs in flight before submit fails with -EBUSY, 1..256;
 *		0 = the default, 64
 * @bandwidth:	bytes per second; 0 = unlimited
 * @latency_ns:	extra time per job, at most 10 s
 * @fail_seqno:	the job with this number fails; 0 = none
 * @fail_error:	its negative errno (0: -EIO)
 * @reserved:	must be zero
 *
 * A zeroed struct means the defaults: unlimited bandwidth, no latency,
 * queue depth 64, no error injection.
 */
struct dmabuf_engine_config {
	uint32_t flags;
	uint32_t queue_depth;
	uint64_t bandwidth;
	uint64_t latency_ns;
	uint64_t fail_seqno;
	int32_t fail_error;
	uint32_t reserved[7];
};

/**
 * dmabuf_engine_configure() - set the simulated device's properties
 * @engine:	the engine
 * @config:	the properties; apply to jobs submitted afterwards
 *
 * Return: 0, or -EINVAL (NULL @engine or @config, non-zero @flags or
 * reserved word, @queue_depth above 256, @latency_ns above 10 s, a
 * positive @fail_error).
 */
int dmabuf_engine_configure(struct dmabuf_engine *engine,
			    const struct dmabuf_engine_config *config);

/**
 * dmabuf_engine_sw_fence() - a fence this process signals itself
 * @engine:	the engine
 * @id:		receives the id for dmabuf_engine_sw_signal()
 *
 * An unsignalled fence signals -ETIMEDOUT after sgbuf's job_timeout_ms
 * and -ECANCELED when the engine is freed.
 * Return: a new sync_file fd, **owned** by the caller (O_CLOEXEC), or a
 * negative errno: -EINVAL (NULL @engine or @id), -ENOMEM, -EMFILE.
 */
int dmabuf_engine_sw_fence(struct dmabuf_engine *engine, uint32_t *id);

/**
 * dmabuf_engine_sw_signal() - signal a software fence
 * @engine:	the engine
 * @id:		from dmabuf_engine_sw_fence()
 * @error:	0, or the negative errno the fence carries
 *
 * Return: 0, -ENOENT if there is no such unsignalled fence, -EINVAL (NULL
 * @engine, positive @error).
 */
int dmabuf_engine_sw_signal(struct dmabuf_engine *engine, uint32_t id,
			    int error);

/* ------------------------------------------------------------------ */
/* Passing fds between processes                                        */
/* ------------------------------------------------------------------ */

/** DMABUF_MAX_FDS - most fds one message carries */
#define DMABUF_MAX_FDS 16

/**
 * DOC: sockets
 *
 * The sockets are AF_UNIX SOCK_SEQPACKET: message boundaries are kept, and
 * a message's fds arrive with it. Who can connect: a socket at a
 * filesystem path is guarded by the file's permissions (connect() needs
 * write permission on it; dmabuf_listen() creates it with the process's
 * umask). An abstract name ("@name") has no permissions at all: **any
 * process in the same network namespace can connect to it**, and can take
 * the name first. Check who is at the other end with dmabuf_peer_cred()
 * before trusting a connection with buffers.
 */

/**
 * dmabuf_socketpair() - a connected pair for a parent and its child
 * @sv:		receives two fds, **owned** by the caller
 *
 * AF_UNIX, SOCK_SEQPACKET (message boundaries kept), O_CLOEXEC.
 * Return: 0, -EINVAL (NULL @sv), -EMFILE, -ENFILE.
 */
int dmabuf_socketpair(int sv[2]);

/**
 * dmabuf_listen() - a socket unrelated processes connect to
 * @path:	a filesystem path, or "@name" for the abstract namespace (see
 *		"DOC: sockets" for who can connect); at most 107 bytes for
 *		a path, 108 (the "@" included) for a name
 *
 * A stale socket file at @path (one nobody listens on: a connect to it is
 * refused) is replaced; any other file is not. Concurrent dmabuf_listen()
 * calls on one path are serialised with flock() on the path's directory
 * (when the directory can be opened for reading), so that exactly one of
 * them replaces a stale file and the others see it in use; a process that
 * binds the path by other means is not covered. Probing a path where a
 * process listens queues a connection to it that is closed at once: its
 * owner may accept one connection whose peer has gone. The socket is
 * non-blocking (for dmabuf_accept()); sockets accepted from it are not.
 *
 * Return: the listening fd, **owned** by the caller (O_CLOEXEC), or a
 * negative errno: -EINVAL (NULL, "" or "@"), -ENAMETOOLONG, -EADDRINUSE
 * (someone listens there, or it is not a socket file), -EACCES, -ENOENT
 * (the directory does not exist), -EMFILE.
 */
int dmabuf_listen(const char *path);

/**
 * dmabuf_accept() - accept one connection
 * @listen_fd:	from dmabuf_listen() (borrowed)
 * @timeout_ms:	milliseconds; 0 polls, negative waits forever
 *
 * Several threads or processes may accept on one listening socket: a
 * connection another one took first is not waited for past the timeout.
 * That needs the non-blocking socket dmabuf_listen() makes: accept() on a
 * blocking listening socket of the caller's may block past the timeout
 * when others take the connection.
 *
 * Return: the connected fd, **owned** by the caller (O_CLOEXEC, blocking),
 * -ETIME, -EBADF, -ENOTSOCK, -EINVAL (not a listening socket), -EMFILE,
 * or another negative errno.
 */
int dmabuf_accept(int listen_fd, int timeout_ms);

/**
 * dmabuf_connect() - connect to dmabuf_listen()'s socket
 * @path:	as for dmabuf_listen()
 *
 * There is no timeout: connecting to a local socket returns at once while
 * the listener's queue has room (SOMAXCONN with dmabuf_listen()), and
 * otherwise waits until the listener accepts a connection.
 *
 * Return: the connected fd, **owned** by the caller (O_CLOEXEC), or a
 * negative errno: -EINVAL, -ENAMETOOLONG, -ENOENT (no socket file at the
 * path), -ECONNREFUSED (nobody listens on it, or on the abstract name),
 * -EPROTOTYPE (the listener is not SOCK_SEQPACKET), -EACCES, -EMFILE.
 */
int dmabuf_connect(const char *path);

/**
 * dmabuf_peer_cred() - who is at the other end of a socket (SO_PEERCRED)
 * @sock:	a connected AF_UNIX socket (borrowed)
 * @pid:	receives the peer's process id; may be NULL
 * @uid:	receives its effective user id; may be NULL
 * @gid:	receives its effective group id; may be NULL
 *
 * The credentials are those the peer had when it connected (or, for
 * dmabuf_socketpair(), when the pair was made), not its current ones; the
 * pid may have been reused if the peer has exited.
 * Return: 0, -EBADF, -ENOTSOCK, -ENOTCONN (no peer: an AF_UNIX socket
 * never connected), or another negative errno. (A listening socket reports
 * its own process's credentials.)
 */
int dmabuf_peer_cred(int sock, pid_t *pid, uid_t *uid, gid_t *gid);

/**
 * dmabuf_send_fds() - send bytes and fds in one message
 * @sock:	a connected SOCK_SEQPACKET socket (borrowed)
 * @data:	the bytes, at least one
 * @len:	their count
 * @fds:	fds to pass (borrowed: the receiver gets duplicates)
 * @nfds:	their count, 0..DMABUF_MAX_FDS
 *
 * Return: 0, -EPIPE if the peer has gone, -EBADF (@sock or one of @fds
 * negative or not open), -EINVAL (NULL @data, @len 0, more than
 * DMABUF_MAX_FDS fds, NULL @fds with @nfds), -ENOTSOCK, -EMSGSIZE (larger
 * than the socket's send buffer), or another negative errno.
 */
int dmabuf_send_fds(int sock, const void *data, size_t len, const int *fds,
		    unsigned int nfds);

/**
 * dmabuf_recv_fds() - receive one message with its fds
 * @sock:	a connected SOCK_SEQPACKET socket (borrowed)
 * @data:	buffer for the bytes
 * @len:	its size; a longer message is an error
 * @fds:	receives the fds, each **owned** by the caller (O_CLOEXEC)
 * @nfds:	in: room in @fds; out: fds received. NULL: room for none
 * @timeout_ms:	milliseconds; 0 polls, negative waits forever
 *
 * The socket may have SO_PASSCRED, SO_PASSPIDFD or SO_PASSSEC set: the
 * control messages they add are dropped (a pidfd is closed), and room for
 * them is kept besides the DMABUF_MAX_FDS fds.
 *
 * On any error every fd that arrived with the message is closed.
 * Return: the number of bytes received (> 0), 0 if the peer closed the
 * connection, -ETIME, -EMSGSIZE (a message longer than @len, more fds
 * than @nfds or DMABUF_MAX_FDS), -EMFILE (the fds could not be installed:
 * the message is consumed and lost), -EPROTO (an empty message, which
 * dmabuf_send_fds() never sends), -EBADF, -EINVAL (NULL @data, @len 0,
 * NULL @fds with room), -ENOTSOCK, or another negative errno.
 */
ssize_t dmabuf_recv_fds(int sock, void *data, size_t len, int *fds,
			unsigned int *nfds, int timeout_ms);

/* ------------------------------------------------------------------ */
/* Producer/consumer channel (protocol: docs/channel.md)               */
/* ------------------------------------------------------------------ */

/** DMABUF_CHANNEL_MAX_BUFFERS - most buffers in a channel's pool */
#define DMABUF_CHANNEL_MAX_BUFFERS 64

/** struct dmabuf_channel - one end of a producer/consumer channel (opaque) */
struct dmabuf_channel;

/**
 * enum dmabuf_channel_role - which end
 * @DMABUF_CHANNEL_PRODUCER: owns the pool, sends frames
 * @DMABUF_CHANNEL_CONSUMER: receives frames, releases them
 */
enum dmabuf_channel_role {
	DMABUF_CHANNEL_PRODUCER = 1,
	DMABUF_CHANNEL_CONSUMER = 2,
};

/**
 * struct dmabuf_frame - one frame in flight
 * @id:		pool slot, 0..DMABUF_CHANNEL_MAX_BUFFERS-1
 * @flags:	must be zero for dmabuf_channel_send() (none defined yet);
 *		set to zero by the channel
 * @buf_fd:	the slot's dma-buf fd, **borrowed** from the channel (valid
 *		until the channel is freed); ignored by send
 * @fence_fd:	send: the write fence, **borrowed**, or -1; receive: the
 *		write fence, **owned** by the caller, or -1; acquire: always
 *		-1 (the release fence has its own argument). See "DOC: frame
 *		fds".
 * @size:	the buffer's size; ignored by send
 * @seq:	the producer's frame number
 * @timestamp_ns: the producer's CLOCK_MONOTONIC time at send; set by send
 * @user:	opaque to the library (e.g. width, height, format, checksum)
 * @reserved:	must be zero for send; zeroed by the channel
 */
struct dmabuf_frame {
	uint32_t id;
	uint32_t flags;
	int32_t buf_fd;
	int32_t fence_fd;
	uint64_t size;
	uint64_t seq;
	uint64_t timestamp_ns;
	uint64_t user[4];
	uint64_t reserved[4];
};

/**
 * DOC: frame fds
 *
 * Who owns which fd, call by call (fences are sync_files in real use; the
 * channel only passes them on, and polls a release fence when the library
 * waits for it itself):
 *
 * - dmabuf_channel_acquire(): frame.buf_fd out, borrowed from the channel;
 *   frame.fence_fd = -1 always; the consumer's release fence goes to
 *   *release_fence_fd, owned by the caller (-1 if none), or with
 *   release_fence_fd NULL the library waits for it and closes it.
 * - dmabuf_channel_send(): frame.buf_fd ignored; frame.fence_fd in, the
 *   write fence, borrowed (the consumer gets a duplicate), or -1.
 * - dmabuf_channel_cancel(): the release fence stays with the slot; the
 *   next acquire of the slot returns it again.
 * - dmabuf_channel_receive(): frame.buf_fd out, borrowed from the channel;
 *   frame.fence_fd out, the write fence, owned by the caller, or -1.
 * - dmabuf_channel_release(): fence_fd in, the release fence, borrowed, or
 *   -1.
 *
 * Borrowed buffer fds stay valid until the channel is freed. The frame's
 * fence_fd never holds an fd the caller must not close or must close
 * twice: acquire always sets it to -1.
 */

/**
 * dmabuf_channel_new() - wrap a connected socket in a channel
 * @sock:	a connected SOCK_SEQPACKET socket, **owned** by the channel on
 *		success (borrowed on failure)
 * @role:	this end's role
 * @out:	the new channel; free with dmabuf_channel_free()
 *
 * Sends this end's HELLO and returns without waiting for the peer's. A
 * peer that has already gone is no error while messages of its are left
 * to read: a consumer created after a short-lived producer finished still
 * receives the frames, then 0.
 * Return: 0, -EBADF, -ENOTSOCK, -EINVAL (bad @role, NULL @out, a socket
 * that is not SOCK_SEQPACKET), -EPIPE (the peer has gone and left nothing
 * to read), -ENOMEM, or another negative errno.
 */
int dmabuf_channel_new(int sock, enum dmabuf_channel_role role,
		       struct dmabuf_channel **out);

/**
 * dmabuf_channel_free() - close a channel
 * @ch:		the channel, or NULL
 *
 * Closes the socket and every fd the channel holds (buffers, release
 * fences not handed out). Frames still with the peer are the peer's to
 * close.
 */
void dmabuf_channel_free(struct dmabuf_channel *ch);

/**
 * dmabuf_channel_fd() - the channel's socket, for poll() and
 * dmabuf_peer_cred()
 * @ch:		the channel
 *
 * Return: the fd, **borrowed** from the channel, or -EINVAL if @ch is
 * NULL.
 */
int dmabuf_channel_fd(const struct dmabuf_channel *ch);

/**
 * dmabuf_channel_add_buffer() - producer: put a buffer in the pool
 * @ch:		a producer channel
 * @buf_fd:	a dma-buf, or (for tests) a memfd sealed with F_SEAL_SHRINK
 *		(borrowed: the channel keeps a duplicate)
 * @id:		receives the buffer's slot (slots are numbered from 0 in
 *		the order buffers are added)
 *
 * Return: 0, -ENOSPC if the pool is full, -EBADF, -EINVAL (NULL @ch or
 * @id, a consumer channel, @buf_fd neither a dma-buf nor a memfd sealed
 * against shrinking, or empty), -EMFILE.
 */
int dmabuf_channel_add_buffer(struct dmabuf_channel *ch, int buf_fd,
			      uint32_t *id);

/**
 * dmabuf_channel_acquire() - producer: get a free buffer to fill
 * @ch:		a producer channel
 * @timeout_ms:	milliseconds; 0 polls, negative waits forever
 * @frame:	receives the slot (@id, @buf_fd, @size); @fence_fd is set to
 *		-1, the other fields to 0
 * @release_fence_fd: receives the consumer's release fence for the slot,
 *		**owned** by the caller, or -1 if none: wait for it before
 *		writing. NULL: the library waits for it (within the
 *		timeout) and closes it before returning.
 *
 * A buffer is free until it is sent, and again once the consumer has
 * released it (or the producer cancelled it). Every RELEASE that has
 * arrived is taken in first; free slots are handed out round-robin.
 * Return: 0; -ETIME (no slot came free, or with @release_fence_fd NULL its
 * fence did not signal, within the timeout: nothing changed); -EDEADLK if
 * no slot is free and none is with the consumer (all acquired, or lost to
 * -EMFILE), so that waiting could never end; -EMFILE (a RELEASE's fence
 * could not be installed: that slot is lost for good, call again; or the
 * release fence could not be duplicated for the caller: nothing changed);
 * -EPIPE if the consumer has gone; -EPROTO on a malformed message
 * (sticky); -EINVAL (NULL @ch or @frame, a consumer channel, an empty
 * pool).
 */
int dmabuf_channel_acquire(struct dmabuf_channel *ch, int timeout_ms,
			   struct dmabuf_frame *frame,
			   int *release_fence_fd);

/**
 * dmabuf_channel_send() - producer: hand a filled buffer to the consumer
 * @ch:		a producer channel
 * @frame:	@id from dmabuf_channel_acquire(); @fence_fd a sync_file
 *		that signals when the buffer's contents are ready (borrowed),
 *		or -1; @seq, @user as the producer likes; @flags and @reserved
 *		zero; @buf_fd, @size and @timestamp_ns are ignored (the
 *		library stamps the time)
 *
 * Return: 0; -EINVAL (NULL @ch or @frame, a consumer channel, a slot not
 * acquired or beyond the pool, non-zero @flags or reserved word, after
 * dmabuf_channel_finish()); -EBADF (@fence_fd below -1, or not open);
 * -EPIPE if the consumer has gone; -EPROTO (sticky, from an earlier call);
 * or another negative errno. On failure the slot stays acquired.
 */
int dmabuf_channel_send(struct dmabuf_channel *ch,
			const struct dmabuf_frame *frame);

/**
 * dmabuf_channel_cancel() - producer: give back a slot without sending it
 * @ch:		a producer channel
 * @id:		a slot from dmabuf_channel_acquire() not sent since
 *
 * The slot is free again, with the release fence it had: the next acquire
 * of it returns that fence again (the caller closes the one it got).
 * Nothing is sent to the consumer.
 * Return: 0, or -EINVAL (NULL @ch, a consumer channel, a slot not
 * acquired).
 */
int dmabuf_channel_cancel(struct dmabuf_channel *ch, uint32_t id);

/**
 * dmabuf_channel_receive() - consumer: the next frame
 * @ch:		a consumer channel
 * @timeout_ms:	milliseconds; 0 polls, negative waits forever
 * @frame:	receives the frame; wait for @fence_fd (**owned** by the
 *		caller, -1 if none) before reading
 *
 * A buffer is accepted only if it is a dma-buf, or a memfd sealed with
 * F_SEAL_SHRINK, of the size the producer announces; anything else is
 * -EPROTO.
 * Return: 1 with a frame; 0 at the end of the stream (the producer called
 * dmabuf_channel_finish()), and again on every later call; -EPIPE if the
 * producer went away without finishing (sticky once read); -ETIME;
 * -EPROTO on a malformed message (sticky); -EMFILE if the frame's fds
 * could not be installed (the frame is lost, its slot goes back to the
 * producer; not sticky); -EINVAL (NULL @ch or @frame, a producer
 * channel); or another negative errno.
 */
int dmabuf_channel_receive(struct dmabuf_channel *ch, int timeout_ms,
			   struct dmabuf_frame *frame);

/**
 * dmabuf_channel_release() - consumer: give a frame's buffer back
 * @ch:		a consumer channel
 * @id:		the frame's slot
 * @fence_fd:	a sync_file that signals when the consumer (or a device it
 *		queued) no longer reads the buffer (borrowed), or -1
 *
 * Return: 0 (also when the producer has gone after FINISH, or while
 * frames or FINISH are still to be received); -EINVAL (NULL @ch, a
 * producer channel, a slot not held); -EBADF (@fence_fd below -1, or not
 * open); -EPIPE if the producer has gone and nothing more can come;
 * -EPROTO (sticky, from an earlier receive); or another negative errno.
 * On failure the slot stays held.
 */
int dmabuf_channel_release(struct dmabuf_channel *ch, uint32_t id,
			   int fence_fd);

/**
 * dmabuf_channel_finish() - producer: end of stream
 * @ch:		a producer channel
 *
 * Return: 0; -EINVAL (NULL @ch, a consumer channel, a second call);
 * -EPIPE if the consumer has gone; -EPROTO (sticky, from an earlier
 * call); or another negative errno.
 */
int dmabuf_channel_finish(struct dmabuf_channel *ch);

#ifdef __cplusplus
}
#endif

#endif /* DMABUF_DMABUF_H */
