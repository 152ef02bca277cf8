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
#include <unistd.h>

#include "sock.h"

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
	int fence;		/* producer: release fence not acquired yet */
	uint64_t size;
	enum slot_state state;
	bool sent;		/* producer: the consumer has the buffer */
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

static void close_fds(const int *fds, unsigned int n)
{
	while (n--)
		close(fds[n]);
}

static int ch_fail(struct dmabuf_channel *ch, int err)
{
	ch->error = err;
	return err;
}

/* The size of a buffer: a dma-buf's, or any file's that has one. */
static int fd_size(int fd, uint64_t *size)
{
	struct stat st;

	if (fstat(fd, &st))
		return dmabuf_neg_errno();
	if (st.st_size <= 0)
		return -EINVAL;
	*size = st.st_size;
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
		len = sock_recv(ch->sock, m, sizeof(*m), fds, &n, deadline,
				&lost);
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
			close_fds(fds, n);
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
	ret = fd_size(buf_fd, &size);
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
	struct ch_slot *s = &ch->slot[m->id];

	if (m->id >= ch->nslots || s->state != SLOT_SENT) {
		close_fds(fds, lost ? 0 : msg_nfds(m));
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

DMABUF_EXPORT int dmabuf_channel_acquire(struct dmabuf_channel *ch,
					 int timeout_ms,
					 struct dmabuf_frame *frame)
{
	int64_t deadline = sock_deadline(timeout_ms);
	struct ch_msg m;
	struct ch_slot *s;
	int fds[2], id, ret;

	if (!ch || ch->role != DMABUF_CHANNEL_PRODUCER || !frame ||
	    !ch->nslots)
		return -EINVAL;
	/* take in every RELEASE already there, wait only if none is free */
	for (;;) {
		if (ch->error)
			return ch->error;
		id = ch_free_slot(ch);
		ret = ch_read(ch, id < 0 ? deadline : sock_deadline(0), &m,
			      fds);
		if (ret == -ETIME && id >= 0)
			break;
		if (ret && ret != -EMFILE)
			return ret;
		ret = ch_released(ch, &m, fds, ret == -EMFILE);
		if (ret)
			return ret;
	}
	s = &ch->slot[id];
	s->state = SLOT_ACQUIRED;
	ch->next = id + 1;
	memset(frame, 0, sizeof(*frame));
	frame->id = id;
	frame->buf_fd = s->fd;
	frame->size = s->size;
	frame->fence_fd = s->fence;
	s->fence = -1;
	return 0;
}

DMABUF_EXPORT int dmabuf_channel_send(struct dmabuf_channel *ch,
				      const struct dmabuf_frame *frame)
{
	struct ch_msg m = { .type = CH_NEW };
	struct timespec ts;
	struct ch_slot *s;
	unsigned int n = 0;
	int fds[2], ret;

	if (!ch || ch->role != DMABUF_CHANNEL_PRODUCER || !frame ||
	    frame->id >= ch->nslots || ch->finished)
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
	clock_gettime(CLOCK_MONOTONIC, &ts);
	m.id = frame->id;
	m.size = s->size;
	m.seq = frame->seq;
	m.timestamp_ns = (uint64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
	memcpy(m.user, frame->user, sizeof(m.user));
	ret = ch_send(ch, &m, fds, n);
	if (ret)
		return ret;
	s->sent = true;
	s->state = SLOT_SENT;
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
	ret = ch_read(ch, sock_deadline(timeout_ms), &m, fds);
	if (ret && ret != -EMFILE)
		return ret;
	if (m.type == CH_FINISH) {
		ch->finished = true;
		return 0;
	}
	s = &ch->slot[m.id];
	buf = m.flags & CH_F_BUF;
	/* the buffer comes the first time only, and with its size */
	if (s->state == SLOT_HELD || buf != (s->fd < 0) ||
	    (!buf && m.size != s->size) ||
	    (buf && !ret && (fd_size(fds[0], &size) || size != m.size))) {
		close_fds(fds, ret ? 0 : msg_nfds(&m));
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
