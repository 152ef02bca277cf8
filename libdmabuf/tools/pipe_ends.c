// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * dmabuf pipe: the producer and the consumer.
 *
 * The producer allocates its pool, and for each frame acquires a free
 * buffer (the library waits for its release fence), writes the frame's
 * pattern through its mapping between dmabuf_sync_begin() and
 * dmabuf_sync_end() (the CPU is the camera here: the engine's FILL could
 * only write a repeated 32-bit value, which would not catch a shifted
 * copy) and sends it. At the end it waits until every buffer is back, then
 * finishes the stream.
 *
 * The consumer waits for each frame's fence, verifies it (copy and cpu
 * modes: every byte against the pattern, through its mapping; checksum
 * mode: the engine's CRC-32 of the copy against the producer's, and the
 * bytes only to locate a mismatch) and releases it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pipe.h"

#define MAX_SLOTS DMABUF_CHANNEL_MAX_BUFFERS
#define MAX_ERROR_LINES 10

/* Mappings of a channel's buffers, by slot. */
struct maps {
	void *addr[MAX_SLOTS];
	size_t len[MAX_SLOTS];
};

static int map_slot(struct maps *m, const struct dmabuf_frame *fr,
		    uint32_t access, void **addr)
{
	int ret;

	if (fr->id >= MAX_SLOTS)
		return -EPROTO;
	if (!m->addr[fr->id]) {
		ret = dmabuf_map(fr->buf_fd, access, &m->addr[fr->id],
				 &m->len[fr->id]);
		if (ret < 0)
			return ret;
	}
	*addr = m->addr[fr->id];
	return 0;
}

static void unmap_all(struct maps *m)
{
	size_t i;

	for (i = 0; i < MAX_SLOTS; i++)
		if (m->addr[i])
			dmabuf_unmap(m->addr[i], m->len[i]);
}

struct producer {
	const struct pipe_opts *o;
	struct dmabuf_channel *ch;
	struct maps maps;
	uint64_t start_ns;
};

static int producer_pool(struct producer *p)
{
	struct dmabuf_allocator *alloc;
	char name[DMABUF_NAME_MAX];
	uint32_t id;
	uint64_t i;
	int fd, ret = 0;

	if (open_allocator(&p->o->backend, &alloc) < 0)
		return EXIT_FAIL;
	for (i = 0; i < p->o->pool && !ret; i++) {
		snprintf(name, sizeof(name), "pipe-src-%" PRIu64, i);
		fd = dmabuf_alloc(alloc, p->o->frame_len, 0, name);
		if (fd < 0) {
			ret = pipe_fail("cannot allocate a frame buffer", fd);
			break;
		}
		ret = dmabuf_channel_add_buffer(p->ch, fd, &id);
		close(fd);
		if (ret < 0)
			ret = pipe_fail("cannot add a buffer to the channel", ret);
	}
	dmabuf_allocator_free(alloc);
	return ret;
}

static void corrupt(const struct pipe_opts *o, unsigned char *frame,
		    uint64_t seq)
{
	if ((int64_t)seq == o->corrupt_frame)
		frame[o->corrupt_offset] ^= 0x5a;
}

static int produce(struct producer *p, uint64_t seq)
{
	const struct pipe_opts *o = p->o;
	struct dmabuf_frame fr;
	void *addr;
	int ret;

	/* the library waits for the buffer's release fence */
	ret = dmabuf_channel_acquire(p->ch, o->timeout_ms, &fr, NULL);
	if (ret < 0)
		return pipe_fail("waiting for a free buffer", ret);
	ret = map_slot(&p->maps, &fr, DMABUF_RW, &addr);
	if (!ret)
		ret = dmabuf_sync_begin(fr.buf_fd, DMABUF_WRITE);
	if (ret < 0)
		return pipe_fail("cannot map or sync a frame buffer", ret);
	fr.user[U1_CRC] = pattern_write(addr, o->frame_len, seq,
					o->mode == MODE_CHECKSUM);
	corrupt(o, addr, seq);
	ret = dmabuf_sync_end(fr.buf_fd, DMABUF_WRITE);
	if (ret < 0)
		return pipe_fail("ending CPU access", ret);
	fr.seq = seq;
	fr.fence_fd = -1;
	fr.user[U1_START] = p->start_ns;
	ret = dmabuf_channel_send(p->ch, &fr);
	return ret < 0 ? pipe_fail("sending a frame", ret) : 0;
}

int run_producer(const struct pipe_opts *o, int sock)
{
	struct producer p = { .o = o };
	uint64_t seq;
	int ret;

	ret = dmabuf_channel_new(sock, DMABUF_CHANNEL_PRODUCER, &p.ch);
	if (ret < 0) {
		close(sock);
		return pipe_fail("cannot create the channel", ret);
	}
	ret = producer_pool(&p);
	p.start_ns = now_ns();
	for (seq = 0; seq < o->frames && !ret; seq++)
		ret = produce(&p, seq);
	if (!ret)
		ret = pipe_drain(o, p.ch);
	unmap_all(&p.maps);
	dmabuf_channel_free(p.ch);
	return ret;
}

struct consumer {
	const struct pipe_opts *o;
	struct dmabuf_channel *ch;
	struct maps maps;
	struct pipe_stats *st;
	struct progress progress;
};

static void frame_error(struct consumer *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void frame_error(struct consumer *c, const char *fmt, ...)
{
	va_list ap;

	if (c->st->errors++ == MAX_ERROR_LINES)
		pipe_err("more frame errors: not shown");
	if (c->st->errors > MAX_ERROR_LINES)
		return;
	progress_end(&c->progress);
	fprintf(stderr, "%s: %s: ", tool_prog, pipe_stage);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

/*
 * Offset of the first wrong byte of @fr (-1: none; *@got receives it), or
 * a negative errno.
 */
static int64_t find_bad_byte(struct consumer *c,
			     const struct dmabuf_frame *fr, uint8_t *got)
{
	int64_t bad;
	void *addr;
	int ret;

	ret = map_slot(&c->maps, fr, DMABUF_READ, &addr);
	if (!ret)
		ret = dmabuf_sync_begin(fr->buf_fd, DMABUF_READ);
	if (ret < 0)
		return ret;
	bad = pattern_check(addr, c->o->frame_len, fr->seq);
	if (bad >= 0)
		*got = ((const uint8_t *)addr)[bad];
	ret = dmabuf_sync_end(fr->buf_fd, DMABUF_READ);
	return ret < 0 ? ret : bad;
}

static int check_bytes(struct consumer *c, const struct dmabuf_frame *fr)
{
	uint8_t got;
	int64_t bad;

	bad = find_bad_byte(c, fr, &got);
	if (bad >= 0)
		frame_error(c, "frame %" PRIu64 ": wrong byte at offset %" PRId64
			    ": 0x%02x, expected 0x%02x", fr->seq, bad, got,
			    pattern_byte(fr->seq, (uint64_t)bad));
	return bad < -1 ? (int)bad : 0;
}

static int check_crc(struct consumer *c, const struct dmabuf_frame *fr)
{
	uint64_t engine = fr->user[U2_ENGINE_CRC], want = fr->user[U2_CRC];
	uint8_t got;
	int64_t bad;

	if (engine == want)
		return 0;
	bad = find_bad_byte(c, fr, &got);
	if (bad >= 0)
		frame_error(c, "frame %" PRIu64 ": CRC-32 of the copy 0x%08" PRIx64
			    ", expected 0x%08" PRIx64 "; wrong byte at offset %"
			    PRId64 ": 0x%02x, expected 0x%02x", fr->seq, engine,
			    want, bad, got, pattern_byte(fr->seq, (uint64_t)bad));
	else if (bad == -1)
		frame_error(c, "frame %" PRIu64 ": CRC-32 of the copy 0x%08" PRIx64
			    ", expected 0x%08" PRIx64 ", though the CPU reads "
			    "every byte right", fr->seq, engine, want);
	return bad < -1 ? (int)bad : 0;
}

static int verify(struct consumer *c, const struct dmabuf_frame *fr)
{
	int ret = 0;

	if (fr->fence_fd >= 0)
		ret = dmabuf_fence_wait(fr->fence_fd, c->o->timeout_ms);
	if (ret == -ETIME)
		return ret;
	if (ret < 0) {
		frame_error(c, "frame %" PRIu64 ": the DMA job failed: %s",
			    fr->seq, strerror(-ret));
		return 0;
	}
	if (c->o->mode == MODE_CHECKSUM)
		return check_crc(c, fr);
	return check_bytes(c, fr);
}

static int consume(struct consumer *c, struct dmabuf_frame *fr)
{
	struct pipe_stats *st = c->st;
	int ret;

	if (fr->seq != st->frames) {
		pipe_err("frame %" PRIu64 " arrived, expected %" PRIu64,
			 fr->seq, st->frames);
		return EXIT_FAIL;
	}
	if (!st->frames)
		st->start_ns = fr->user[U2_START];
	ret = verify(c, fr);
	if (fr->fence_fd >= 0)
		close(fr->fence_fd);
	if (ret < 0)
		return pipe_fail("verifying a frame", ret);
	st->end_ns = now_ns();
	st->lat_ns[st->frames++] = st->end_ns - fr->user[U2_SENT];
	ret = dmabuf_channel_release(c->ch, fr->id, -1);
	if (ret < 0)
		return pipe_fail("releasing a frame", ret);
	progress_tick(&c->progress, st->frames, c->o->frames);
	return 0;
}

static int consume_all(struct consumer *c)
{
	struct dmabuf_frame fr;
	int ret;

	for (;;) {
		ret = dmabuf_channel_receive(c->ch, c->o->timeout_ms, &fr);
		if (ret == 0)
			break;
		if (ret < 0)
			return pipe_fail("receiving a frame", ret);
		if (c->st->frames == c->o->frames) {
			pipe_err("more frames than were sent");
			return EXIT_FAIL;
		}
		ret = consume(c, &fr);
		if (ret)
			return ret;
	}
	if (c->st->frames == c->o->frames)
		return 0;
	pipe_err("the stream ended after %" PRIu64 " of %" PRIu64 " frames",
		 c->st->frames, c->o->frames);
	return EXIT_FAIL;
}

int run_consumer(const struct pipe_opts *o, int sock, struct pipe_stats *st)
{
	struct consumer c = { .o = o, .st = st };
	int ret;

	ret = dmabuf_channel_new(sock, DMABUF_CHANNEL_CONSUMER, &c.ch);
	if (ret < 0) {
		close(sock);
		return pipe_fail("cannot create the channel", ret);
	}
	progress_init(&c.progress, "dma-buf pipeline", o->quiet);
	ret = consume_all(&c);
	progress_end(&c.progress);
	unmap_all(&c.maps);
	dmabuf_channel_free(c.ch);
	return ret;
}
