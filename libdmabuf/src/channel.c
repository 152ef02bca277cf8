// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Producer/consumer channel: a pool of buffers cycled between two
 * processes over a SOCK_SEQPACKET socket. The protocol, the states of a
 * slot and who owns which fd when: docs/channel.md.
 */
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <linux/magic.h>

#include "internal.h"

#define CH_MAGIC	0x68436244u	/* "DbCh" in memory, little-endian */
#define CH_VERSION	1

enum ch_type {
	CH_HELLO = 1,		/* both, first; id: the sender's role */
	CH_NEW = 2,		/* producer: a frame in slot id */
	CH_RELEASE = 3,		/* consumer: slot id is free again */
	CH_FINISH = 4,		/* producer: end of stream */
};

/* The fds that follow a message, in this order, and other flags */
#define CH_F_BUF	(1u << 0)	/* NEW: the slot's buffer */
#define CH_F_FENCE	(1u << 1)	/* NEW, RELEASE: a fence */
#define CH_F_FORGET	(1u << 2)	/* RELEASE: send the buffer again */
#define CH_F_FDS	(CH_F_BUF | CH_F_FENCE)

/* One message; both ends are on one machine: native byte order. */
struct ch_msg {
	uint32_t magic;
	uint16_t version;
	uint16_t type;
	uint32_t flags;
	uint32_t id;
	uint64_t size;		/* NEW: the buffer's size */
	uint64_t seq;		/* NEW: as in struct dmabuf_frame */
	uint64_t timestamp_ns;
	uint64_t user[4];
};
_Static_assert(sizeof(struct ch_msg) == 72, "wire layout");

enum slot_state {
	SLOT_EMPTY,		/* no buffer (consumer: not received yet) */
	SLOT_FREE,		/* producer: to acquire; consumer: not held */
	SLOT_ACQUIRED,		/* producer: being filled */
	SLOT_SENT,		/* producer: with the consumer */
	SLOT_HELD,		/* consumer: received, not released */
	SLOT_LOST,		/* producer: release fence lost (EMFILE) */
};

struct ch_slot {
	int fd;			/* the buffer, -1 if none */
	/*
	 * Producer: the consumer's release fence, -1 if none. Kept while the
	 * slot is ACQUIRED (the caller got a duplicate), so that a cancelled
	 * slot hands it out again; closed at send.
	 */
	int fence;
	uint64_t size;
	enum slot_state state;
	bool sent;		/* producer: the consumer has the buffer */
	bool buf_sent;		/* producer: the last NEW carried the buffer */
};

struct dmabuf_channel {
	int sock;
	enum dmabuf_channel_role role;
	int error;		/* sticky: -EPROTO, or -EPIPE at EOF */
	bool hello;		/* the peer's HELLO has arrived */
	bool finished;		/* FINISH sent (producer) or received */
	uint32_t nslots;	/* producer: slots added */
	uint32_t next;		/* producer: where acquire looks first */
	struct ch_slot slot[DMABUF_CHANNEL_MAX_BUFFERS];
};

static unsigned int msg_nfds(const struct ch_msg *m)
{
	return !!(m->flags & CH_F_BUF) + !!(m->flags & CH_F_FENCE);
}

static int ch_fail(struct dmabuf_channel *ch, int err)
{
	ch->error = err;
	return err;
}

/*
 * What a channel accepts as a buffer: a dma-buf, or a memfd sealed against
 * shrinking (tests), with a size. 0 and its size, -EBADF, or -EINVAL.
 */
static int buffer_size(int fd, uint64_t *size)
{
	struct statfs sfs;
	struct stat st;
	off_t end;
	int seals;

	if (fd < 0)
		return -EBADF;
	if (fstatfs(fd, &sfs))
		return dmabuf_neg_errno();
	if (sfs.f_type == DMA_BUF_MAGIC) {
		/* a dma-buf's lseek() does not move its offset */
		end = lseek(fd, 0, SEEK_END);
		if (end < 0)
			return dmabuf_neg_errno();
		st.st_size = end;
	} else {
		seals = fcntl(fd, F_GET_SEALS);
		if (seals < 0 || !(seals & F_SEAL_SHRINK))
			return -EINVAL;
		if (fstat(fd, &st))
			return dmabuf_neg_errno();
	}
	if (st.st_size <= 0)
		return -EINVAL;
	*size = (uint64_t)st.st_size;
	return 0;
}

static int ch_send(struct dmabuf_channel *ch, struct ch_msg *m,
		   const int *fds, unsigned int nfds)
{
	m->magic = CH_MAGIC;
	m->version = CH_VERSION;
	return dmabuf_send_fds(ch->sock, m, sizeof(*m), fds, nfds);
}

/* Messages wait to be received (the peer may have closed behind them). */
static bool ch_pending(const struct dmabuf_channel *ch)
{
	int n = 0;

	return !dmabuf_ioctl(ch->sock, FIONREAD, &n) && n > 0;
}

/* Type, flags and id make sense for this end at this point. */
static bool ch_valid(const struct dmabuf_channel *ch, const struct ch_msg *m)
{
	bool consumer = ch->role == DMABUF_CHANNEL_CONSUMER;

	if (!ch->hello)
		return m->type == CH_HELLO && !m->flags &&
		       m->id == (consumer ? DMABUF_CHANNEL_PRODUCER :
					    DMABUF_CHANNEL_CONSUMER);
	switch (m->type) {
	case CH_NEW:
		return consumer && m->id < DMABUF_CHANNEL_MAX_BUFFERS &&
		       !(m->flags & ~CH_F_FDS);
	case CH_FINISH:
		return consumer && !m->flags;
	case CH_RELEASE:
		return !consumer && m->id < DMABUF_CHANNEL_MAX_BUFFERS &&
		       !(m->flags & ~(CH_F_FENCE | CH_F_FORGET));
	}
	return false;
}

/*
 * The next message after the peer's HELLO, checked against the header: 0
 * with its fds in @fds (as many as its flags say), -EMFILE with no fds
 * (they could not be installed), or an error with every fd closed.
 */
static int ch_read(struct dmabuf_channel *ch, int64_t deadline,
		   struct ch_msg *m, int fds[2])
{
	unsigned int n;
	ssize_t len;
	int lost;

	for (;;) {
		n = 2;
		len = dmabuf_sock_recv(ch->sock, m, sizeof(*m), fds, &n,
				       deadline, &lost);
		if (len == 0)
			return ch_fail(ch, -EPIPE);
		/* too long, too many fds, empty */
		if (len == -EMSGSIZE || len == -EPROTO)
			return ch_fail(ch, -EPROTO);
		if (len < 0)
			return len;
		if (len != sizeof(*m) || m->magic != CH_MAGIC ||
		    m->version != CH_VERSION || !ch_valid(ch, m) ||
		    (lost ? !msg_nfds(m) : n != msg_nfds(m))) {
			dmabuf_close_fds(fds, n);
			return ch_fail(ch, -EPROTO);
		}
		if (m->type != CH_HELLO)
			return lost ? -EMFILE : 0;
		ch->hello = true;
	}
}

DMABUF_EXPORT int dmabuf_channel_new(int sock, enum dmabuf_channel_role role,
				     struct dmabuf_channel **out)
{
	struct ch_msg m = { .type = CH_HELLO, .id = role };
	struct dmabuf_channel *ch;
	socklen_t len = sizeof(int);
	int type, i, ret;

	if (sock < 0)
		return -EBADF;
	if ((role != DMABUF_CHANNEL_PRODUCER &&
	     role != DMABUF_CHANNEL_CONSUMER) || !out)
		return -EINVAL;
	if (getsockopt(sock, SOL_SOCKET, SO_TYPE, &type, &len))
		return dmabuf_neg_errno();
	if (type != SOCK_SEQPACKET)
		return -EINVAL;
	ch = calloc(1, sizeof(*ch));
	if (!ch)
		return -ENOMEM;
	ch->sock = sock;
	ch->role = role;
	for (i = 0; i < DMABUF_CHANNEL_MAX_BUFFERS; i++)
		ch->slot[i].fd = ch->slot[i].fence = -1;
	ret = ch_send(ch, &m, NULL, 0);
	/*
	 * The peer has gone, but what it sent before is still to be read
	 * (a short-lived producer that has finished): the channel is usable
	 * for that; its own sends fail with -EPIPE.
	 */
	if (ret == -EPIPE && ch_pending(ch))
		ret = 0;
	if (ret) {
		free(ch);
		return ret;
	}
	*out = ch;
	return 0;
}

DMABUF_EXPORT void dmabuf_channel_free(struct dmabuf_channel *ch)
{
	int i;

	if (!ch)
		return;
	for (i = 0; i < DMABUF_CHANNEL_MAX_BUFFERS; i++) {
		if (ch->slot[i].fd >= 0)
			close(ch->slot[i].fd);
		if (ch->slot[i].fence >= 0)
			close(ch->slot[i].fence);
	}
	close(ch->sock);
	free(ch);
}

DMABUF_EXPORT int dmabuf_channel_fd(const struct dmabuf_channel *ch)
{
	return ch ? ch->sock : -EINVAL;
}

DMABUF_EXPORT int dmabuf_channel_add_buffer(struct dmabuf_channel *ch,
					    int buf_fd, uint32_t *id)
{
	struct ch_slot *s;
	uint64_t size;
	int fd, ret;

	if (!ch || ch->role != DMABUF_CHANNEL_PRODUCER || !id)
		return -EINVAL;
	if (buf_fd < 0)
		return -EBADF;
	if (ch->nslots == DMABUF_CHANNEL_MAX_BUFFERS)
		return -ENOSPC;
	ret = buffer_size(buf_fd, &size);
	if (ret)
		return ret;
	fd = fcntl(buf_fd, F_DUPFD_CLOEXEC, 0);
	if (fd < 0)
		return dmabuf_neg_errno();
	s = &ch->slot[ch->nslots];
	s->fd = fd;
	s->size = size;
	s->state = SLOT_FREE;
	*id = ch->nslots++;
	return 0;
}

/* Producer: a RELEASE (@lost: its fence could not be installed). */
static int ch_released(struct dmabuf_channel *ch, const struct ch_msg *m,
		       const int *fds, bool lost)
{
	struct ch_slot *s = &ch->slot[m->id];	/* id < 64: ch_valid() */

	/*
	 * A slot we did not send, or FORGET ("I never got the buffer") for a
	 * NEW that did not carry it: the consumer is out of step.
	 */
	if (m->id >= ch->nslots || s->state != SLOT_SENT ||
	    ((m->flags & CH_F_FORGET) && !s->buf_sent)) {
		dmabuf_close_fds(fds, lost ? 0 : msg_nfds(m));
		return ch_fail(ch, -EPROTO);
	}
	if (lost) {
		/* the consumer may still read it: never hand it out again */
		s->state = SLOT_LOST;
		return -EMFILE;
	}
	s->fence = m->flags & CH_F_FENCE ? fds[0] : -1;
	if (m->flags & CH_F_FORGET)
		s->sent = false;
	s->state = SLOT_FREE;
	return 0;
}

static int ch_free_slot(const struct dmabuf_channel *ch)
{
	uint32_t i, id;

	for (i = 0; i < ch->nslots; i++) {
		id = (ch->next + i) % ch->nslots;
		if (ch->slot[id].state == SLOT_FREE)
			return id;
	}
	return -1;
}

/* A slot is with the consumer: a RELEASE can still come. */
static bool ch_any_sent(const struct dmabuf_channel *ch)
{
	uint32_t i;

	for (i = 0; i < ch->nslots; i++)
		if (ch->slot[i].state == SLOT_SENT)
			return true;
	return false;
}

/*
 * Waits for a release fence: a sync_file polls readable once it has
 * signalled (with or without an error; either way the consumer is done
 * with the buffer). Any other pollable fd the peer passed as a fence
 * counts as signalled once it is readable or hung up.
 */
static int wait_release_fence(int fence, int64_t deadline)
{
	int ret = dmabuf_poll_until(fence, POLLIN, deadline);

	return ret < 0 ? ret : 0;
}

DMABUF_EXPORT int dmabuf_channel_acquire(struct dmabuf_channel *ch,
					 int timeout_ms,
					 struct dmabuf_frame *frame,
					 int *release_fence_fd)
{
	int64_t deadline = dmabuf_deadline(timeout_ms);
	int fds[2], id, ret, fence = -1;
	struct ch_msg m;
	struct ch_slot *s;
	bool wait;

	if (!ch || ch->role != DMABUF_CHANNEL_PRODUCER || !frame ||
	    !ch->nslots)
		return -EINVAL;
	/*
	 * Take in every RELEASE already there; wait only if no slot is free
	 * and one can still come back.
	 */
	for (;;) {
		if (ch->error)
			return ch->error;
		id = ch_free_slot(ch);
		wait = id < 0 && ch_any_sent(ch);
		ret = ch_read(ch, wait ? deadline : dmabuf_deadline(0), &m,
			      fds);
		if (ret == -ETIME && !wait)
			break;
		if (ret && ret != -EMFILE)
			return ret;
		ret = ch_released(ch, &m, fds, ret == -EMFILE);
		if (ret)
			return ret;
	}
	/* every slot acquired (or lost): nothing will ever come free */
	if (id < 0)
		return -EDEADLK;
	s = &ch->slot[id];
	if (s->fence >= 0 && release_fence_fd) {
		fence = fcntl(s->fence, F_DUPFD_CLOEXEC, 0);
		if (fence < 0)
			return dmabuf_neg_errno();
	} else if (s->fence >= 0) {
		ret = wait_release_fence(s->fence, deadline);
		if (ret)
			return ret;	/* -ETIME: the slot keeps its fence */
		close(s->fence);
		s->fence = -1;
	}
	s->state = SLOT_ACQUIRED;
	ch->next = id + 1;
	memset(frame, 0, sizeof(*frame));
	frame->id = id;
	frame->buf_fd = s->fd;
	frame->size = s->size;
	frame->fence_fd = -1;
	if (release_fence_fd)
		*release_fence_fd = fence;
	return 0;
}

DMABUF_EXPORT int dmabuf_channel_cancel(struct dmabuf_channel *ch,
					uint32_t id)
{
	if (!ch || ch->role != DMABUF_CHANNEL_PRODUCER || id >= ch->nslots ||
	    ch->slot[id].state != SLOT_ACQUIRED)
		return -EINVAL;
	/* its release fence, if any, is still in s->fence */
	ch->slot[id].state = SLOT_FREE;
	return 0;
}

DMABUF_EXPORT int dmabuf_channel_send(struct dmabuf_channel *ch,
				      const struct dmabuf_frame *frame)
{
	struct ch_msg m = { .type = CH_NEW };
	struct ch_slot *s;
	unsigned int n = 0;
	int fds[2], ret;

	if (!ch || ch->role != DMABUF_CHANNEL_PRODUCER || !frame ||
	    frame->id >= ch->nslots || ch->finished || frame->flags ||
	    !dmabuf_zeroed(frame->reserved, sizeof(frame->reserved)))
		return -EINVAL;
	if (frame->fence_fd < -1)
		return -EBADF;
	s = &ch->slot[frame->id];
	if (s->state != SLOT_ACQUIRED)
		return -EINVAL;
	if (ch->error)
		return ch->error;
	if (!s->sent) {
		m.flags |= CH_F_BUF;
		fds[n++] = s->fd;
	}
	if (frame->fence_fd >= 0) {
		m.flags |= CH_F_FENCE;
		fds[n++] = frame->fence_fd;
	}
	m.id = frame->id;
	m.size = s->size;
	m.seq = frame->seq;
	m.timestamp_ns = (uint64_t)dmabuf_now_ns();
	memcpy(m.user, frame->user, sizeof(m.user));
	ret = ch_send(ch, &m, fds, n);
	if (ret)
		return ret;
	s->buf_sent = !s->sent;
	s->sent = true;
	s->state = SLOT_SENT;
	if (s->fence >= 0) {
		close(s->fence);
		s->fence = -1;
	}
	return 0;
}

/* Consumer: a NEW whose fds could not be installed; give the slot back. */
static int ch_lost(struct dmabuf_channel *ch, const struct ch_msg *m)
{
	struct ch_msg r = { .type = CH_RELEASE, .id = m->id };

	if (m->flags & CH_F_BUF)
		r.flags = CH_F_FORGET;
	ch_send(ch, &r, NULL, 0);
	return -EMFILE;
}

DMABUF_EXPORT int dmabuf_channel_receive(struct dmabuf_channel *ch,
					 int timeout_ms,
					 struct dmabuf_frame *frame)
{
	struct ch_msg m;
	struct ch_slot *s;
	uint64_t size = 0;
	int fds[2], ret;
	bool buf;

	if (!ch || ch->role != DMABUF_CHANNEL_CONSUMER || !frame)
		return -EINVAL;
	if (ch->finished)
		return 0;
	if (ch->error)
		return ch->error;
	ret = ch_read(ch, dmabuf_deadline(timeout_ms), &m, fds);
	if (ret && ret != -EMFILE)
		return ret;
	if (m.type == CH_FINISH) {
		ch->finished = true;
		return 0;
	}
	s = &ch->slot[m.id];
	buf = m.flags & CH_F_BUF;
	/*
	 * The buffer comes the first time only, and with its size: a
	 * dma-buf (or sealed memfd) of exactly the size announced, and every
	 * later NEW of the slot announces that size again.
	 */
	if (s->state == SLOT_HELD || buf != (s->fd < 0) ||
	    (!buf && m.size != s->size) ||
	    (buf && !ret && (buffer_size(fds[0], &size) || size != m.size))) {
		dmabuf_close_fds(fds, ret ? 0 : msg_nfds(&m));
		return ch_fail(ch, -EPROTO);
	}
	if (ret)
		return ch_lost(ch, &m);
	if (buf) {
		s->fd = fds[0];
		s->size = size;
	}
	s->state = SLOT_HELD;
	memset(frame, 0, sizeof(*frame));
	frame->id = m.id;
	frame->buf_fd = s->fd;
	frame->size = s->size;
	frame->fence_fd = m.flags & CH_F_FENCE ? fds[buf] : -1;
	frame->seq = m.seq;
	frame->timestamp_ns = m.timestamp_ns;
	memcpy(frame->user, m.user, sizeof(frame->user));
	return 1;
}

DMABUF_EXPORT int dmabuf_channel_release(struct dmabuf_channel *ch,
					 uint32_t id, int fence_fd)
{
	struct ch_msg m = { .type = CH_RELEASE, .id = id };
	int ret;

	if (!ch || ch->role != DMABUF_CHANNEL_CONSUMER ||
	    id >= DMABUF_CHANNEL_MAX_BUFFERS)
		return -EINVAL;
	if (fence_fd < -1)
		return -EBADF;
	if (ch->slot[id].state != SLOT_HELD)
		return -EINVAL;
	if (fence_fd >= 0)
		m.flags = CH_F_FENCE;
	ret = ch->error;
	if (!ret)
		ret = ch_send(ch, &m, &fence_fd, fence_fd >= 0);
	/*
	 * The producer has gone: nobody to give the buffer back to. An error
	 * only if nothing more is to come (neither FINISH nor frames).
	 */
	if (ret == -EPIPE && (ch->finished || ch_pending(ch)))
		ret = 0;
	if (ret)
		return ret;
	ch->slot[id].state = SLOT_FREE;
	return 0;
}

DMABUF_EXPORT int dmabuf_channel_finish(struct dmabuf_channel *ch)
{
	struct ch_msg m = { .type = CH_FINISH };
	int ret;

	if (!ch || ch->role != DMABUF_CHANNEL_PRODUCER || ch->finished)
		return -EINVAL;
	if (ch->error)
		return ch->error;
	ret = ch_send(ch, &m, NULL, 0);
	if (!ret)
		ch->finished = true;
	return ret;
}
