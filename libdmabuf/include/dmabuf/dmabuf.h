/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libdmabuf - allocate, map, synchronise and share dma-buf buffers, and
 * drive sgbuf's simulated DMA consumer.
 *
 * The rules every function follows (errors, fd ownership, threads) are in
 * "DOC: conventions" below; docs/libdmabuf.md is the overview and
 * docs/channel.md the channel's protocol.
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
 * open. Timeouts are reported as -ETIME; EINTR and EAGAIN are retried
 * inside the library.
 *
 * File descriptors: every fd argument or result is documented as
 * *borrowed* (the caller keeps ownership) or *owned* (ownership passes).
 * Every fd the library opens or receives has O_CLOEXEC. No function
 * raises SIGPIPE.
 *
 * Threads: there is no global state. One object (allocator, engine,
 * channel) must not be used by two threads at once; different objects may
 * be used concurrently.
 */

/**
 * dmabuf_version() - version of the library at run time
 *
 * Return: the project version as "MAJOR.MINOR.PATCH", a static string.
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
/* DMABUF_ALLOC_CONTIGUOUS can succeed */
#define DMABUF_CAP_CONTIGUOUS (1u << 0)
/* CPU mappings are cached (every backend here is; kept for heaps that are not) */
#define DMABUF_CAP_CACHED (1u << 1)
/* the backend names buffers at allocation (others name them afterwards) */
#define DMABUF_CAP_NAME_AT_ALLOC (1u << 2)
/* dmabuf_sync_range() syncs only the range (others sync the whole buffer) */
#define DMABUF_CAP_SYNC_RANGE (1u << 3)

/**
 * struct dmabuf_caps - what an allocator can do
 * @backend:	the backend in use (never DMABUF_BACKEND_AUTO)
 * @flags:	DMABUF_CAP_* bits
 * @name:	"sgbuf", the heap's name, or "udmabuf"
 * @page_size:	sizes are rounded up to a multiple of this
 * @max_size:	largest single buffer, 0 if unknown
 * @max_contig_size: largest DMABUF_ALLOC_CONTIGUOUS buffer, 0 if none
 */
struct dmabuf_caps {
	enum dmabuf_backend backend;
	uint32_t flags;
	char name[64];
	uint64_t page_size;
	uint64_t max_size;
	uint64_t max_contig_size;
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
 * Return: 0, -ENOENT if the backend does not exist on this system (with
 * AUTO: if none does), -EACCES, -EINVAL, -ENOMEM.
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
 * @caps:	filled in
 *
 * Return: 0 or a negative errno.
 */
int dmabuf_allocator_caps(const struct dmabuf_allocator *alloc,
			  struct dmabuf_caps *caps);

/* Flags of dmabuf_alloc() */
/* one physically contiguous range (sgbuf only; others: -EOPNOTSUPP) */
#define DMABUF_ALLOC_CONTIGUOUS (1u << 0)
/* the fd is O_RDONLY: it cannot be mapped writable */
#define DMABUF_ALLOC_READONLY (1u << 1)

/**
 * dmabuf_alloc() - allocate a zeroed buffer
 * @alloc:	the allocator
 * @size:	bytes, rounded up to the backend's page size; non-zero
 * @flags:	DMABUF_ALLOC_* flags
 * @name:	the buffer's name (printable ASCII, shorter than
 *		DMABUF_NAME_MAX), or NULL for none
 *
 * Return: a new dma-buf fd, **owned** by the caller (O_CLOEXEC), or a
 * negative errno: -EINVAL (size 0, unknown flag, bad name), -EOPNOTSUPP
 * (a flag the backend cannot honour), -EFBIG (above the backend's limit),
 * -ENOSPC, -ENOMEM, -EMFILE.
 */
int dmabuf_alloc(struct dmabuf_allocator *alloc, uint64_t size,
		 uint32_t flags, const char *name);

/* ------------------------------------------------------------------ */
/* Buffer operations; @fd is always a borrowed dma-buf fd               */
/* ------------------------------------------------------------------ */

/**
 * struct dmabuf_info - what the kernel reports about a dma-buf
 * @size:	bytes
 * @inode:	the dma-buf's inode number, unique among live buffers (as in
 *		/proc/<pid>/maps and debugfs bufinfo)
 * @count:	references held on the buffer's file (fds, mappings, imports)
 * @exporter:	the exporter's name, e.g. "sgbuf", "system", "udmabuf"
 * @name:	the buffer's name, "" if it has none
 */
struct dmabuf_info {
	uint64_t size;
	uint64_t inode;
	int64_t count;
	char exporter[64];
	char name[DMABUF_NAME_MAX];
};

/**
 * dmabuf_get_info() - size, inode, exporter and name of a buffer
 * @fd:		a dma-buf fd (borrowed)
 * @info:	filled in
 *
 * Reads /proc/self/fdinfo/<fd> and fstat().
 * Return: 0, -EBADF, -EINVAL if @fd is not a dma-buf, or another errno.
 */
int dmabuf_get_info(int fd, struct dmabuf_info *info);

/**
 * dmabuf_set_name() - name a buffer (DMA_BUF_SET_NAME)
 * @fd:		a dma-buf fd (borrowed)
 * @name:	printable ASCII, shorter than DMABUF_NAME_MAX
 *
 * Return: 0 or a negative errno (-EINVAL for a bad name).
 */
int dmabuf_set_name(int fd, const char *name);

/**
 * dmabuf_get_name() - a buffer's name
 * @fd:		a dma-buf fd (borrowed)
 * @name:	receives the name, "" if it has none
 * @len:	size of @name; DMABUF_NAME_MAX is always enough
 *
 * Return: 0 or a negative errno (-ERANGE if @len is too small).
 */
int dmabuf_get_name(int fd, char *name, size_t len);

/* Access modes of the map and sync functions */
#define DMABUF_READ (1u << 0)
#define DMABUF_WRITE (1u << 1)
#define DMABUF_RW (DMABUF_READ | DMABUF_WRITE)

/**
 * dmabuf_map() - map a whole buffer into this process
 * @fd:		a dma-buf fd (borrowed; the mapping stays valid after it
 *		is closed)
 * @access:	DMABUF_READ, DMABUF_WRITE or both
 * @addr:	receives the address (MAP_SHARED)
 * @size:	receives the length of the mapping; may be NULL
 *
 * CPU accesses through the mapping must be bracketed by
 * dmabuf_sync_begin() and dmabuf_sync_end().
 * Return: 0 or a negative errno.
 */
int dmabuf_map(int fd, uint32_t access, void **addr, size_t *size);

/**
 * dmabuf_unmap() - undo dmabuf_map()
 * @addr:	the address dmabuf_map() returned
 * @size:	the size it returned
 *
 * Return: 0 or a negative errno.
 */
int dmabuf_unmap(void *addr, size_t size);

/**
 * dmabuf_sync_begin() - begin CPU access (DMA_BUF_IOCTL_SYNC START)
 * @fd:		a dma-buf fd (borrowed)
 * @access:	DMABUF_READ, DMABUF_WRITE or both
 *
 * Waits for the buffer's fences (for writers before a read, for every
 * user before a write) and makes device writes visible to the CPU.
 * Return: 0 or a negative errno.
 */
int dmabuf_sync_begin(int fd, uint32_t access);

/**
 * dmabuf_sync_end() - end CPU access (DMA_BUF_IOCTL_SYNC END)
 * @fd:		a dma-buf fd (borrowed)
 * @access:	the same as for the matching dmabuf_sync_begin()
 *
 * Makes CPU writes visible to devices.
 * Return: 0 or a negative errno.
 */
int dmabuf_sync_end(int fd, uint32_t access);

/**
 * dmabuf_sync_range() - begin or end CPU access to part of a buffer
 * @fd:		a dma-buf fd (borrowed)
 * @begin:	non-zero to begin access, 0 to end it
 * @access:	DMABUF_READ, DMABUF_WRITE or both
 * @offset:	start of the range in bytes
 * @length:	bytes, non-zero; the range must lie inside the buffer
 *
 * Buffers from sgbuf sync only the range (SGBUF_IOCTL_SYNC_RANGE, when the
 * running module offers it); any other dma-buf syncs whole.
 * Return: 0 or a negative errno (-EINVAL for a range outside the buffer).
 */
int dmabuf_sync_range(int fd, int begin, uint32_t access, uint64_t offset,
		      uint64_t length);

/**
 * dmabuf_wait() - wait until a buffer is idle for an access
 * @fd:		a dma-buf fd (borrowed)
 * @access:	DMABUF_READ waits for writers, DMABUF_WRITE for every user
 * @timeout_ms:	milliseconds; 0 polls, negative waits forever
 *
 * Return: 0 when idle, -ETIME on timeout, or a negative errno.
 */
int dmabuf_wait(int fd, uint32_t access, int timeout_ms);

/**
 * dmabuf_export_sync_file() - a buffer's current fences as a sync_file
 * @fd:		a dma-buf fd (borrowed)
 * @access:	DMABUF_READ: the fences a reader waits for (writers);
 *		DMABUF_WRITE: those a writer waits for (all)
 *
 * Return: a new sync_file fd, **owned** by the caller, or a negative errno.
 */
int dmabuf_export_sync_file(int fd, uint32_t access);

/**
 * dmabuf_import_sync_file() - add a fence to a buffer's reservation object
 * @fd:		a dma-buf fd (borrowed)
 * @access:	DMABUF_WRITE: the fence is a write; DMABUF_READ: a read
 * @sync_fd:	a sync_file fd (borrowed)
 *
 * Return: 0 or a negative errno.
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
 * it signalled with one (e.g. -EIO, -ECANCELED), -ETIME on timeout, or
 * another negative errno.
 */
int dmabuf_fence_wait(int sync_fd, int timeout_ms);

/**
 * dmabuf_fence_status() - state of a sync_file without waiting
 * @sync_fd:	a sync_file fd (borrowed)
 *
 * Return: 1 signalled without error, 0 still active, or the fence's
 * negative error (or a negative errno if @sync_fd is not a sync_file).
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
 * Return: a new sync_file fd, **owned** by the caller, or a negative errno.
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
 * Return: 0, -ENOENT if sgbuf is not loaded, -EOPNOTSUPP if the loaded
 * module has no engine, or a negative errno.
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
 * Return: the fd, **borrowed** from the engine (do not close it).
 */
int dmabuf_engine_fd(const struct dmabuf_engine *engine);

/* Flags of dmabuf_engine_import() */
/* attach through the engine's 32-bit DMA-mask device */
#define DMABUF_IMPORT_DMA32 (1u << 0)
/* no syncs of the engine's own: rely on the exporter alone */
#define DMABUF_IMPORT_NO_SYNC (1u << 1)

/**
 * dmabuf_engine_import() - attach and map a dma-buf for the engine
 * @engine:	the engine
 * @fd:		any dma-buf fd (borrowed; the import holds its own reference)
 * @flags:	DMABUF_IMPORT_* flags
 * @handle:	receives the import's handle (non-zero)
 *
 * Return: 0 or a negative errno.
 */
int dmabuf_engine_import(struct dmabuf_engine *engine, int fd,
			 uint32_t flags, uint32_t *handle);

/**
 * dmabuf_engine_unimport() - drop an import
 * @engine:	the engine
 * @handle:	from dmabuf_engine_import(); jobs already submitted keep the
 *		buffer until they finish
 *
 * Return: 0, -ENOENT, or a negative errno.
 */
int dmabuf_engine_unimport(struct dmabuf_engine *engine, uint32_t handle);

/**
 * enum dmabuf_job_op - what a job does
 * @DMABUF_JOB_FILL: dst range = repeated 32-bit little-endian pattern
 * @DMABUF_JOB_COPY: src range -> dst range
 * @DMABUF_JOB_CHECKSUM: CRC-32 (zlib's crc32()) of the src range
 * @DMABUF_JOB_CHECKSUM64: sgbuf's 64-bit checksum of the src range (see
 *	SGBUF_JOB_CHECKSUM64 in <linux/sgbuf.h>); modules before ABI 3
 *	reject it with -EINVAL
 */
enum dmabuf_job_op {
	DMABUF_JOB_FILL = 1,
	DMABUF_JOB_COPY = 2,
	DMABUF_JOB_CHECKSUM = 3,
	DMABUF_JOB_CHECKSUM64 = 4,
};

/**
 * struct dmabuf_job - a job for dmabuf_engine_submit()
 * @op:		the operation
 * @src:	import handle read by COPY and CHECKSUM, else 0
 * @dst:	import handle written by FILL and COPY, else 0
 * @src_offset:	byte offset into @src
 * @dst_offset:	byte offset into @dst
 * @length:	bytes; non-zero
 * @pattern:	FILL's pattern
 * @in_fence_fd: a sync_file the job waits for first (borrowed), or -1
 */
struct dmabuf_job {
	enum dmabuf_job_op op;
	uint32_t src;
	uint32_t dst;
	uint64_t src_offset;
	uint64_t dst_offset;
	uint64_t length;
	uint32_t pattern;
	int in_fence_fd;
};

/**
 * dmabuf_engine_submit() - queue a job
 * @engine:	the engine
 * @job:	the job
 * @seqno:	receives the job's number for dmabuf_engine_wait(); may be
 *		NULL
 * @out_fence_fd: if non-NULL, receives a new sync_file fd that signals
 *		when the job is done, **owned** by the caller
 *
 * The job waits for the fences already in its buffers' reservation
 * objects, and its own fence is added to them (a write to dst, a read of
 * src), so that dmabuf_wait(), dmabuf_sync_begin() and other devices wait
 * for it.
 * Return: 0, -EBUSY if the queue is full, or a negative errno.
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
 * timeout, -ENOENT if its result is no longer kept, or a negative errno.
 */
int dmabuf_engine_wait(struct dmabuf_engine *engine, uint64_t seqno,
		       int timeout_ms, uint64_t *checksum);

/**
 * struct dmabuf_engine_config - simulated device properties
 * @bandwidth:	bytes per second; 0 = unlimited
 * @latency_ns:	extra time per job
 * @queue_depth: jobs in flight before submit fails with -EBUSY (1..256)
 * @fail_seqno:	the job with this number fails; 0 = none
 * @fail_error:	its negative errno (0: -EIO)
 */
struct dmabuf_engine_config {
	uint64_t bandwidth;
	uint64_t latency_ns;
	uint32_t queue_depth;
	int32_t fail_error;
	uint64_t fail_seqno;
};

/**
 * dmabuf_engine_configure() - set the simulated device's properties
 * @engine:	the engine
 * @config:	the properties; apply to jobs submitted afterwards
 *
 * Return: 0 or a negative errno.
 */
int dmabuf_engine_configure(struct dmabuf_engine *engine,
			    const struct dmabuf_engine_config *config);

/**
 * dmabuf_engine_sw_fence() - a fence this process signals itself
 * @engine:	the engine
 * @id:		receives the id for dmabuf_engine_sw_signal()
 *
 * Return: a new sync_file fd, **owned** by the caller, or a negative
 * errno. An unsignalled fence signals -ETIMEDOUT after sgbuf's
 * job_timeout_ms and -ECANCELED when the engine is freed.
 */
int dmabuf_engine_sw_fence(struct dmabuf_engine *engine, uint32_t *id);

/**
 * dmabuf_engine_sw_signal() - signal a software fence
 * @engine:	the engine
 * @id:		from dmabuf_engine_sw_fence()
 * @error:	0, or the negative errno the fence carries
 *
 * Return: 0, -ENOENT if there is no such unsignalled fence, or a negative
 * errno.
 */
int dmabuf_engine_sw_signal(struct dmabuf_engine *engine, uint32_t id,
			    int error);

/* ------------------------------------------------------------------ */
/* Passing fds between processes                                        */
/* ------------------------------------------------------------------ */

/** DMABUF_MAX_FDS - most fds one message carries */
#define DMABUF_MAX_FDS 16

/**
 * dmabuf_socketpair() - a connected pair for a parent and its child
 * @sv:		receives two fds, **owned** by the caller
 *
 * AF_UNIX, SOCK_SEQPACKET (message boundaries kept), O_CLOEXEC.
 * Return: 0 or a negative errno.
 */
int dmabuf_socketpair(int sv[2]);

/**
 * dmabuf_listen() - a socket unrelated processes connect to
 * @path:	a filesystem path, or "@name" for the abstract namespace
 *
 * A stale socket file at @path is replaced.
 * Return: the listening fd, **owned** by the caller, or a negative errno
 * (-ENAMETOOLONG, -EADDRINUSE, ...).
 */
int dmabuf_listen(const char *path);

/**
 * dmabuf_accept() - accept one connection
 * @listen_fd:	from dmabuf_listen() (borrowed)
 * @timeout_ms:	milliseconds; 0 polls, negative waits forever
 *
 * Return: the connected fd, **owned** by the caller, -ETIME, or a
 * negative errno.
 */
int dmabuf_accept(int listen_fd, int timeout_ms);

/**
 * dmabuf_connect() - connect to dmabuf_listen()'s socket
 * @path:	as for dmabuf_listen()
 *
 * Return: the connected fd, **owned** by the caller, or a negative errno.
 */
int dmabuf_connect(const char *path);

/**
 * dmabuf_send_fds() - send bytes and fds in one message
 * @sock:	a connected SOCK_SEQPACKET socket (borrowed)
 * @data:	the bytes, at least one
 * @len:	their count
 * @fds:	fds to pass (borrowed: the receiver gets duplicates)
 * @nfds:	their count, 0..DMABUF_MAX_FDS
 *
 * Return: 0, -EPIPE if the peer has gone, or a negative errno.
 */
int dmabuf_send_fds(int sock, const void *data, size_t len, const int *fds,
		    unsigned int nfds);

/**
 * dmabuf_recv_fds() - receive one message with its fds
 * @sock:	a connected SOCK_SEQPACKET socket (borrowed)
 * @data:	buffer for the bytes
 * @len:	its size; a longer message is an error
 * @fds:	receives the fds, each **owned** by the caller (O_CLOEXEC)
 * @nfds:	in: room in @fds; out: fds received
 * @timeout_ms:	milliseconds; 0 polls, negative waits forever
 *
 * On any error every fd that arrived with the message is closed.
 * Return: the number of bytes received (> 0), 0 if the peer closed the
 * connection, -ETIME, -EMSGSIZE (message longer than @len, or more fds
 * than room), -EMFILE (the fds could not be installed: the message is
 * dropped), or a negative errno.
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
 * @buf_fd:	the slot's dma-buf fd, **borrowed** from the channel (valid
 *		until the channel is freed)
 * @size:	the dma-buf's size
 * @fence_fd:	a sync_file to wait for before touching the buffer,
 *		**owned** by the caller, or -1 if none
 * @seq:	the producer's frame number
 * @timestamp_ns: the producer's CLOCK_MONOTONIC time at send
 * @user:	opaque to the library (e.g. width, height, format, checksum)
 */
struct dmabuf_frame {
	uint32_t id;
	int buf_fd;
	uint64_t size;
	int fence_fd;
	uint64_t seq;
	uint64_t timestamp_ns;
	uint64_t user[4];
};

/**
 * dmabuf_channel_new() - wrap a connected socket in a channel
 * @sock:	a connected SOCK_SEQPACKET socket, **owned** by the channel on
 *		success (borrowed on failure)
 * @role:	this end's role
 * @out:	the new channel; free with dmabuf_channel_free()
 *
 * Return: 0 or a negative errno.
 */
int dmabuf_channel_new(int sock, enum dmabuf_channel_role role,
		       struct dmabuf_channel **out);

/**
 * dmabuf_channel_free() - close a channel
 * @ch:		the channel, or NULL
 *
 * Closes the socket and every buffer fd the channel holds. Frames still
 * with the peer are the peer's to close.
 */
void dmabuf_channel_free(struct dmabuf_channel *ch);

/**
 * dmabuf_channel_fd() - the channel's socket, for poll()
 * @ch:		the channel
 *
 * Return: the fd, **borrowed** from the channel.
 */
int dmabuf_channel_fd(const struct dmabuf_channel *ch);

/**
 * dmabuf_channel_add_buffer() - producer: put a buffer in the pool
 * @ch:		a producer channel
 * @buf_fd:	a dma-buf (or any fd with a size, e.g. a memfd for tests)
 *		(borrowed: the channel keeps a duplicate)
 * @id:		receives the buffer's slot
 *
 * Return: 0, -ENOSPC if the pool is full, -EINVAL if @buf_fd has no size
 * (not a dma-buf, memfd or file), or a negative errno.
 */
int dmabuf_channel_add_buffer(struct dmabuf_channel *ch, int buf_fd,
			      uint32_t *id);

/**
 * dmabuf_channel_acquire() - producer: get a free buffer to fill
 * @ch:		a producer channel
 * @timeout_ms:	milliseconds; 0 polls, negative waits forever
 * @frame:	receives the slot (@id, @buf_fd, @size) and, in @fence_fd,
 *		the consumer's release fence (owned by the caller, -1 if
 *		none): wait for it before writing
 *
 * A buffer is free until it is sent, and again once the consumer has
 * released it.
 * Return: 0, -ETIME, -EPIPE if the consumer has gone, -EPROTO on a
 * malformed message, or a negative errno.
 */
int dmabuf_channel_acquire(struct dmabuf_channel *ch, int timeout_ms,
			   struct dmabuf_frame *frame);

/**
 * dmabuf_channel_send() - producer: hand a filled buffer to the consumer
 * @ch:		a producer channel
 * @frame:	@id from dmabuf_channel_acquire(); @fence_fd a sync_file
 *		that signals when the buffer's contents are ready (borrowed),
 *		or -1; @seq, @user as the producer likes; @timestamp_ns is
 *		set by the library
 *
 * Return: 0, -EINVAL if the slot is not acquired, -EPIPE if the consumer
 * has gone, or a negative errno.
 */
int dmabuf_channel_send(struct dmabuf_channel *ch,
			const struct dmabuf_frame *frame);

/**
 * dmabuf_channel_receive() - consumer: the next frame
 * @ch:		a consumer channel
 * @timeout_ms:	milliseconds; 0 polls, negative waits forever
 * @frame:	receives the frame; wait for @fence_fd (owned by the
 *		caller) before reading
 *
 * Return: 1 with a frame, 0 at the end of the stream (the producer called
 * dmabuf_channel_finish()), -EPIPE if the producer went away without
 * finishing, -ETIME, -EPROTO on a malformed message, -EMFILE if the
 * frame's fds could not be received (the frame is lost), or a negative
 * errno.
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
 * Return: 0, -EINVAL if the slot is not held, -EPIPE, or a negative errno.
 */
int dmabuf_channel_release(struct dmabuf_channel *ch, uint32_t id,
			   int fence_fd);

/**
 * dmabuf_channel_finish() - producer: end of stream
 * @ch:		a producer channel
 *
 * Return: 0 or a negative errno.
 */
int dmabuf_channel_finish(struct dmabuf_channel *ch);

#ifdef __cplusplus
}
#endif

#endif /* DMABUF_DMABUF_H */
