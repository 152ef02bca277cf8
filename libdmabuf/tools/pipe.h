/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * dmabuf pipe: what its files share. The design is in pipe.c.
 */
#ifndef DMABUF_TOOL_PIPE_H
#define DMABUF_TOOL_PIPE_H

#include "tool.h"

enum pipe_mode {
	MODE_COPY,		/* the engine copies; the consumer reads all */
	MODE_CHECKSUM,		/* the engine copies and CRCs the copy */
	MODE_CPU,		/* the middle stage copies with the CPU */
};

struct pipe_opts {
	uint64_t frames;
	uint64_t width, height;
	uint64_t pool;
	enum pipe_mode mode;
	struct backend_arg backend;
	bool compare;
	bool quiet;
	int64_t corrupt_frame;	/* -1: none */
	uint64_t corrupt_offset;
	int64_t fail_frame;	/* -1: none */
	int timeout_ms;		/* for any one wait */
	uint64_t frame_len;	/* width * height * 4 */
};

/* What the consumer measured. */
struct pipe_stats {
	uint64_t frames;	/* received */
	uint64_t errors;	/* frames that failed */
	uint64_t start_ns;	/* producer started writing frame 0 */
	uint64_t end_ns;	/* last frame verified */
	uint64_t *lat_ns;	/* per frame: producer send -> verified */
};

/* Exit statuses of the stage processes, besides EXIT_OK and EXIT_FAIL. */
#define STAGE_PEER_GONE 3	/* the neighbour stage went away first */

/* struct dmabuf_frame.user[] on channel 1 (producer -> DMA stage) */
#define U1_START	0	/* the producer's start time (ns) */
#define U1_CRC		2	/* the producer's CRC-32 of the frame */
/* and on channel 2 (DMA stage -> consumer) */
#define U2_SENT		0	/* the producer's send time (ns) */
#define U2_START	1	/* the producer's start time (ns) */
#define U2_CRC		2	/* the producer's CRC-32 of the frame */
#define U2_ENGINE_CRC	3	/* the engine's CRC-32 of the copy */

/* The stages (pipe_ends.c, pipe_dma.c); each returns an exit status. */
int run_producer(const struct pipe_opts *o, int sock);
int run_dma_stage(const struct pipe_opts *o, int in_sock, int out_sock);
int run_consumer(const struct pipe_opts *o, int sock, struct pipe_stats *st);
/* The same frames through pipe(2) with the CPU (pipe_ref.c). */
int run_pipe2(const struct pipe_opts *o, struct pipe_stats *st);

/* "dmabuf pipe: <stage>: message" */
extern const char *pipe_stage;
extern int pipe_timeout_ms;	/* o->timeout_ms, for messages */
void pipe_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The error message for a failed channel, fence or engine call. */
int pipe_fail(const char *what, int err);
/*
 * The end of a producer's stream on channel @ch: takes every buffer of
 * its pool back, so that no release is still on its way, then finishes.
 * 0, or an exit status after saying why.
 */
int pipe_drain(const struct pipe_opts *o, struct dmabuf_channel *ch);
/* Ends a forked stage process. */
void pipe_child_init(const char *stage);
__attribute__((noreturn)) void pipe_child_exit(int status);

/* Progress on stderr, at most once a second. */
struct progress {
	const char *what;
	uint64_t start_ns, last_ns;
	bool quiet, tty, shown;
};

void progress_init(struct progress *p, const char *what, bool quiet);
void progress_tick(struct progress *p, uint64_t done, uint64_t total);
void progress_end(struct progress *p);

/* The frame pattern (pattern.c) */
void pattern_init(void);
/* Writes frame @frame's pattern; returns its CRC-32 if @crc, else 0. */
uint32_t pattern_write(void *dst, uint64_t len, uint64_t frame, bool crc);
/* Offset of the first byte that differs from the pattern, or -1. */
int64_t pattern_check(const void *src, uint64_t len, uint64_t frame);
/* The pattern's byte at @off. */
uint8_t pattern_byte(uint64_t frame, uint64_t off);

#endif /* DMABUF_TOOL_PIPE_H */
