// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The producer/consumer channel, both ends in one process or against a raw
 * peer speaking docs/channel.md by hand: arguments, slot states, fences
 * passed through, holding several frames, timeouts, end of stream, peers
 * that go away, malformed messages, EMFILE on either side.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "share.h"

#define SZ 4096

/* The wire format, as docs/channel.md describes it */
struct wire {
	uint32_t magic;
	uint16_t version;
	uint16_t type;
	uint32_t flags;
	uint32_t id;
	uint64_t size;
	uint64_t seq;
	uint64_t timestamp_ns;
	uint64_t user[4];
};
#define WSZ ((ssize_t)sizeof(struct wire))
#define MAGIC 0x68436244u
enum { HELLO = 1, NEW = 2, RELEASE = 3, FINISH = 4 };
#define F_BUF 1u
#define F_FENCE 2u
#define F_FORGET 4u

#define PROD DMABUF_CHANNEL_PRODUCER
#define CONS DMABUF_CHANNEL_CONSUMER

/* A connected pair of channels, or of a channel and a raw socket. */
static int pair(struct dmabuf_channel **p, struct dmabuf_channel **c,
		int *raw)
{
	int sv[2];

	if (raw)
		*raw = -1;
	if (dmabuf_socketpair(sv))
		return -1;
	if (p && dmabuf_channel_new(sv[0], PROD, p))
		return -1;
	if (c && dmabuf_channel_new(sv[1], CONS, c))
		return -1;
	if (raw)
		*raw = p ? sv[1] : sv[0];
	return 0;
}

static int raw_msg(int sock, uint16_t type, uint32_t flags, uint32_t id,
		   uint64_t size, const int *fds, int n)
{
	struct wire w = { .magic = MAGIC, .version = 1, .type = type,
			  .flags = flags, .id = id, .size = size };

	return raw_send(sock, &w, sizeof(w), fds, n);
}

/* Producer: acquire, fill with @seq's pattern, send with @fence. */
static int produce(struct dmabuf_channel *p, uint64_t seq, int fence,
		   uint32_t *id)
{
	struct dmabuf_frame f;
	int rel, ret = dmabuf_channel_acquire(p, 1000, &f, &rel);

	if (ret)
		return ret;
	if (rel >= 0)
		close(rel);
	fill_fd(f.buf_fd, f.size, seq);
	f.seq = seq;
	f.fence_fd = fence;
	if (id)
		*id = f.id;
	return dmabuf_channel_send(p, &f);
}

static void test_new(void)
{
	struct dmabuf_channel *ch = NULL;
	int sv[2], p[2], before = count_fds();

	dmabuf_socketpair(sv);
	pipe2(p, O_CLOEXEC);
	tap_ok(dmabuf_channel_new(-1, PROD, &ch) == -EBADF &&
	       dmabuf_channel_new(sv[0], 0, &ch) == -EINVAL &&
	       dmabuf_channel_new(sv[0], 3, &ch) == -EINVAL &&
	       dmabuf_channel_new(sv[0], PROD, NULL) == -EINVAL && !ch,
	       "new: bad fd, role, out rejected");
	tap_ok(dmabuf_channel_new(p[0], PROD, &ch) == -ENOTSOCK && !ch,
	       "new on a pipe: -ENOTSOCK");
	close(sv[0]);
	close(sv[1]);
	socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv);
	tap_ok(dmabuf_channel_new(sv[0], PROD, &ch) == -EINVAL && !ch &&
	       is_cloexec(sv[0]),
	       "new on SOCK_STREAM: -EINVAL, the socket still the caller's");
	close(sv[0]);
	close(sv[1]);
	dmabuf_socketpair(sv);
	close(sv[1]);
	tap_ok(dmabuf_channel_new(sv[0], PROD, &ch) == -EPIPE && !ch,
	       "new on a socket whose peer has gone: -EPIPE");
	close(sv[0]);
	close(p[0]);
	close(p[1]);
	tap_ok(dmabuf_channel_fd(NULL) == -EINVAL, "channel_fd(NULL): -EINVAL");
	dmabuf_channel_free(NULL);
	tap_ok(count_fds() == before, "new: no fd leaked on failure");
}

static void test_add(void)
{
	struct dmabuf_channel *p, *c;
	int fd = pattern_memfd(SZ, 0), empty, plain, pp[2], i, ok = 1;
	uint32_t id = 99;

	pair(&p, &c, NULL);
	pipe2(pp, O_CLOEXEC);
	empty = sealed_memfd(0);
	plain = plain_memfd(SZ);
	tap_ok(dmabuf_channel_add_buffer(c, fd, &id) == -EINVAL &&
	       dmabuf_channel_add_buffer(NULL, fd, &id) == -EINVAL &&
	       dmabuf_channel_add_buffer(p, fd, NULL) == -EINVAL &&
	       dmabuf_channel_add_buffer(p, -1, &id) == -EBADF && id == 99,
	       "add_buffer: consumer, NULLs, fd -1 rejected");
	tap_ok(dmabuf_channel_add_buffer(p, pp[0], &id) == -EINVAL &&
	       dmabuf_channel_add_buffer(p, empty, &id) == -EINVAL &&
	       dmabuf_channel_add_buffer(p, plain, &id) == -EINVAL &&
	       dmabuf_channel_add_buffer(p, closed_fd(), &id) == -EBADF,
	       "add_buffer: a pipe, an empty memfd, an unsealed memfd: "
	       "-EINVAL; a closed fd: -EBADF");
	for (i = 0; i < DMABUF_CHANNEL_MAX_BUFFERS; i++)
		ok &= !dmabuf_channel_add_buffer(p, fd, &id) &&
		      id == (uint32_t)i;
	tap_ok(ok, "add_buffer: %d memfds, slots 0.. in order",
	       DMABUF_CHANNEL_MAX_BUFFERS);
	tap_ok(dmabuf_channel_add_buffer(p, fd, &id) == -ENOSPC,
	       "add_buffer: one more: -ENOSPC");
	tap_ok(dmabuf_channel_acquire(c, 0, &(struct dmabuf_frame){ 0 }, NULL) ==
	       -EINVAL, "acquire on a consumer: -EINVAL");
	close(empty);
	close(plain);
	close(pp[0]);
	close(pp[1]);
	close(fd);
	dmabuf_channel_free(p);
	dmabuf_channel_free(c);
}

static void test_frame(void)
{
	struct dmabuf_channel *p, *c;
	struct dmabuf_frame f, r;
	int fd = pattern_memfd(SZ, 0), pp[2], before, buf_fd, rel = 7;
	uint64_t t0, t1;
	uint32_t id;

	pair(&p, &c, NULL);
	pipe2(pp, O_CLOEXEC);
	dmabuf_channel_add_buffer(p, fd, &id);
	close(fd);	/* the channel keeps its own */
	tap_ok(dmabuf_channel_acquire(NULL, 0, &f, &rel) == -EINVAL &&
	       dmabuf_channel_acquire(p, 0, NULL, &rel) == -EINVAL && rel == 7,
	       "acquire: NULLs rejected");
	memset(&f, 0x5a, sizeof(f));
	tap_ok(!dmabuf_channel_acquire(p, 0, &f, &rel) && f.id == 0 &&
	       f.size == SZ && f.fence_fd == -1 && rel == -1 &&
	       f.buf_fd >= 0 && !f.flags && !f.seq && !f.user[0] &&
	       !f.reserved[0] && !f.reserved[3],
	       "acquire: slot 0, its size, no fence yet, the rest zeroed");
	fill_fd(f.buf_fd, SZ, 42);
	f.seq = 42;
	f.user[0] = 1920;
	f.user[3] = ~0ull;
	f.fence_fd = pp[0];
	t0 = now_ns();
	tap_ok(!dmabuf_channel_send(p, &f), "send with a (pipe) fence");
	t1 = now_ns();
	before = count_fds();
	tap_ok(dmabuf_channel_receive(c, 1000, &r) == 1 && r.id == 0 &&
	       r.size == SZ && r.seq == 42 && r.user[0] == 1920 &&
	       r.user[1] == 0 && r.user[3] == ~0ull &&
	       r.timestamp_ns >= t0 && r.timestamp_ns <= t1,
	       "receive: slot, size, seq, user words, timestamp");
	tap_ok(same_file(r.buf_fd, f.buf_fd) && is_cloexec(r.buf_fd) &&
	       check_fd(r.buf_fd, SZ, 42) && count_fds() == before + 2,
	       "receive: the buffer, O_CLOEXEC, contents intact");
	tap_ok(r.fence_fd >= 0 && same_file(r.fence_fd, pp[0]) &&
	       is_cloexec(r.fence_fd), "receive: the producer's fence");
	close(r.fence_fd);
	buf_fd = r.buf_fd;
	tap_ok(dmabuf_channel_release(c, 0, -2) == -EBADF &&
	       dmabuf_channel_release(c, 64, -1) == -EINVAL &&
	       dmabuf_channel_release(c, 1, -1) == -EINVAL &&
	       dmabuf_channel_release(p, 0, -1) == -EINVAL,
	       "release: bad fence, id, slot never sent, producer rejected");
	tap_ok(!dmabuf_channel_release(c, 0, pp[1]) &&
	       dmabuf_channel_release(c, 0, -1) == -EINVAL,
	       "release with a fence; twice: -EINVAL");
	tap_ok(!dmabuf_channel_acquire(p, 1000, &f, &rel) && f.id == 0 &&
	       f.fence_fd == -1 && rel >= 0 && same_file(rel, pp[1]) &&
	       is_cloexec(rel),
	       "acquire: the consumer's release fence comes back, the "
	       "caller's, frame.fence_fd -1");
	close(rel);
	f.seq = 43;
	fill_fd(f.buf_fd, SZ, 43);
	tap_ok(!dmabuf_channel_send(p, &f) &&
	       dmabuf_channel_receive(c, 1000, &r) == 1 && r.fence_fd == -1 &&
	       r.seq == 43 && check_fd(r.buf_fd, SZ, 43) &&
	       r.buf_fd == buf_fd && count_fds() == before + 1,
	       "second frame of the slot: same buffer fd, no new fd");
	dmabuf_channel_release(c, 0, -1);
	close(pp[0]);
	close(pp[1]);
	dmabuf_channel_free(p);
	dmabuf_channel_free(c);
}

static void test_states(void)
{
	struct dmabuf_channel *p, *c;
	struct dmabuf_frame f = { .fence_fd = -1 }, g, r[3];
	int fd, i, ok = 1;
	uint32_t id;
	int64_t t;

	pair(&p, &c, NULL);
	for (i = 0; i < 3; i++) {
		fd = pattern_memfd(SZ, 0);
		dmabuf_channel_add_buffer(p, fd, &id);
		close(fd);
	}
	tap_ok(dmabuf_channel_send(p, &f) == -EINVAL,
	       "send of a slot not acquired: -EINVAL");
	f.id = 3;
	tap_ok(dmabuf_channel_send(p, &f) == -EINVAL &&
	       dmabuf_channel_send(p, NULL) == -EINVAL &&
	       dmabuf_channel_send(c, &f) == -EINVAL,
	       "send: id beyond the pool, NULL, consumer rejected");
	dmabuf_channel_acquire(p, 0, &g, NULL);
	g.fence_fd = -5;
	tap_ok(dmabuf_channel_send(p, &g) == -EBADF, "send: fence -5: -EBADF");
	g.fence_fd = closed_fd();
	tap_ok(dmabuf_channel_send(p, &g) == -EBADF,
	       "send: a fence that is not open: -EBADF");
	g.fence_fd = -1;
	g.flags = 1;
	ok = dmabuf_channel_send(p, &g) == -EINVAL;
	g.flags = 0;
	g.reserved[2] = 1;
	ok &= dmabuf_channel_send(p, &g) == -EINVAL;
	g.reserved[2] = 0;
	tap_ok(ok, "send: a flag or a reserved word set: -EINVAL");
	ok = !dmabuf_channel_send(p, &g) &&
	     dmabuf_channel_send(p, &g) == -EINVAL;
	tap_ok(ok, "send twice: -EINVAL");
	ok = !produce(p, 1, -1, NULL) && !produce(p, 2, -1, NULL);
	for (i = 0; i < 3; i++)
		ok &= dmabuf_channel_receive(c, 1000, &r[i]) == 1;
	tap_ok(ok && r[0].id == 0 && r[1].id == 1 && r[2].id == 2 &&
	       check_fd(r[1].buf_fd, SZ, 1) && check_fd(r[2].buf_fd, SZ, 2),
	       "consumer holds three frames of three slots at once");
	t = now_ms();
	ok = dmabuf_channel_acquire(p, 100, &g, NULL) == -ETIME;
	t = now_ms() - t;
	tap_ok(ok && t >= 100 && t < 5000 &&
	       dmabuf_channel_acquire(p, 0, &g, NULL) == -ETIME,
	       "every slot in flight: acquire waits, -ETIME after %lld ms",
	       (long long)t);
	dmabuf_channel_release(c, 1, -1);
	tap_ok(!dmabuf_channel_acquire(p, 1000, &g, NULL) && g.id == 1,
	       "a release frees exactly that slot");
	tap_ok(dmabuf_channel_receive(c, 0, &r[0]) == -ETIME &&
	       dmabuf_channel_receive(p, 0, &r[0]) == -EINVAL,
	       "receive: nothing sent -ETIME; on a producer -EINVAL");
	tap_ok(dmabuf_channel_finish(c) == -EINVAL &&
	       !dmabuf_channel_finish(p) &&
	       dmabuf_channel_finish(p) == -EINVAL &&
	       dmabuf_channel_send(p, &g) == -EINVAL,
	       "finish: consumer, twice, send after it: -EINVAL");
	tap_ok(dmabuf_channel_receive(c, 1000, &r[0]) == 0 &&
	       dmabuf_channel_receive(c, 0, &r[0]) == 0,
	       "after finish: receive returns 0, and again");
	tap_ok(!dmabuf_channel_release(c, 0, -1) &&
	       !dmabuf_channel_acquire(p, 1000, &g, NULL) && g.id == 0,
	       "frames held at the end are still released to the producer");
	dmabuf_channel_free(p);
	tap_ok(!dmabuf_channel_release(c, 2, -1),
	       "release after finish with the producer gone: 0");
	dmabuf_channel_free(c);
}

static void test_gone(void)
{
	struct dmabuf_channel *p, *c;
	struct dmabuf_frame r, g;
	int fd = pattern_memfd(SZ, 0), before = count_fds(), pp[2];
	uint32_t id;

	pipe2(pp, O_CLOEXEC);
	pair(&p, &c, NULL);
	dmabuf_channel_add_buffer(p, fd, &id);
	dmabuf_channel_add_buffer(p, fd, &id);
	produce(p, 1, pp[0], NULL);
	produce(p, 2, -1, NULL);
	dmabuf_channel_free(p);
	tap_ok(dmabuf_channel_receive(c, 1000, &r) == 1 && r.fence_fd >= 0 &&
	       dmabuf_channel_receive(c, 1000, &g) == 1,
	       "frames sent before the producer died still arrive");
	close(r.fence_fd);
	tap_ok(dmabuf_channel_receive(c, 1000, &r) == -EPIPE &&
	       dmabuf_channel_receive(c, 0, &r) == -EPIPE,
	       "producer gone without finish: -EPIPE, and again");
	tap_ok(dmabuf_channel_release(c, 0, -1) == -EPIPE,
	       "release to a dead producer: -EPIPE");
	dmabuf_channel_free(c);
	tap_ok(count_fds() == before + 2, "no fd left after free (%d)",
	       count_fds() - before - 2);

	pair(&p, &c, NULL);
	dmabuf_channel_add_buffer(p, fd, &id);
	dmabuf_channel_add_buffer(p, fd, &id);
	produce(p, 1, -1, NULL);
	dmabuf_channel_free(c);
	tap_ok(dmabuf_channel_acquire(p, 1000, &g, NULL) == -EPIPE,
	       "consumer gone: acquire -EPIPE even with a free slot");
	dmabuf_channel_free(p);
	pair(&p, &c, NULL);
	dmabuf_channel_add_buffer(p, fd, &id);
	dmabuf_channel_acquire(p, 0, &g, NULL);
	dmabuf_channel_free(c);
	tap_ok(dmabuf_channel_send(p, &g) == -EPIPE &&
	       dmabuf_channel_finish(p) == -EPIPE,
	       "consumer gone: send, finish -EPIPE (no SIGPIPE)");
	dmabuf_channel_free(p);
	close(fd);
	close(pp[0]);
	close(pp[1]);
	tap_ok(count_fds() == before - 1, "no fd leaked");
}

/* The release fence of a slot not acquired yet is closed by free. */
static void test_free(void)
{
	int fd = pattern_memfd(SZ, 0), pp[2], before;
	struct dmabuf_channel *p, *c;
	struct dmabuf_frame f, r;
	uint32_t id;

	pipe2(pp, O_CLOEXEC);
	before = count_fds();
	pair(&p, &c, NULL);
	dmabuf_channel_add_buffer(p, fd, &id);
	dmabuf_channel_add_buffer(p, fd, &id);
	produce(p, 1, -1, NULL);
	dmabuf_channel_receive(c, 1000, &r);
	dmabuf_channel_release(c, r.id, pp[0]);
	/* takes the RELEASE of slot 0 in, hands out slot 1 */
	tap_ok(!dmabuf_channel_acquire(p, 1000, &f, NULL) && f.id == 1 &&
	       f.fence_fd == -1, "acquire: round-robin, slot 1 next");
	dmabuf_channel_free(p);
	dmabuf_channel_free(c);
	tap_ok(count_fds() == before,
	       "free closes buffers and release fences not acquired");
	close(fd);
	close(pp[0]);
	close(pp[1]);
}

/* A message a raw producer sends a consumer channel, and how it is wrong. */
struct bad {
	const char *what;
	bool no_hello;		/* the message comes first, no HELLO */
	uint32_t magic;		/* 0: the right one */
	uint16_t version;	/* 0: the right one */
	uint16_t type;
	uint32_t flags;
	uint32_t id;
	uint64_t size;
	int len;		/* 0: sizeof(struct wire); -1: empty */
	int nfds;		/* memfds of SZ bytes attached */
	int kind;		/* the first fd: 0 sealed memfd, 1 unsealed, 2 pipe */
};

static const struct bad bad[] = {
	{ "short message (20 bytes) with an fd", .type = NEW, .flags = F_BUF,
	  .size = SZ, .len = 20, .nfds = 1 },
	{ "long message (100 bytes) with an fd", .type = NEW, .flags = F_BUF,
	  .size = SZ, .len = 100, .nfds = 1 },
	{ "empty message", .len = -1 },
	{ "wrong magic", .magic = 0xdeadbeef, .type = NEW, .flags = F_BUF,
	  .size = SZ, .nfds = 1 },
	{ "HELLO of version 2", .no_hello = true, .version = 2, .type = HELLO,
	  .id = PROD },
	{ "NEW of version 2", .version = 2, .type = NEW, .flags = F_BUF,
	  .size = SZ, .nfds = 1 },
	{ "HELLO from a consumer", .no_hello = true, .type = HELLO,
	  .id = CONS },
	{ "NEW before HELLO", .no_hello = true, .type = NEW, .flags = F_BUF,
	  .size = SZ, .nfds = 1 },
	{ "a second HELLO", .type = HELLO, .id = PROD },
	{ "HELLO with an fd", .no_hello = true, .type = HELLO, .id = PROD,
	  .nfds = 1 },
	{ "FINISH with an unexpected fd", .type = FINISH, .nfds = 1 },
	{ "NEW with an fd it does not announce", .type = NEW, .size = SZ,
	  .nfds = 1 },
	{ "NEW announcing a buffer but no fd", .type = NEW, .flags = F_BUF,
	  .size = SZ },
	{ "NEW announcing buffer and fence, one fd", .type = NEW,
	  .flags = F_BUF | F_FENCE, .size = SZ, .nfds = 1 },
	{ "NEW with three fds", .type = NEW, .flags = F_BUF | F_FENCE,
	  .size = SZ, .nfds = 3 },
	{ "NEW of a slot never sent, without its buffer", .type = NEW,
	  .size = SZ },
	{ "NEW whose size is not the buffer's", .type = NEW, .flags = F_BUF,
	  .size = 1, .nfds = 1 },
	{ "NEW whose buffer is an unsealed memfd", .type = NEW, .flags = F_BUF,
	  .size = SZ, .nfds = 1, .kind = 1 },
	{ "NEW whose buffer is a pipe", .type = NEW, .flags = F_BUF,
	  .size = SZ, .nfds = 1, .kind = 2 },
	{ "NEW of slot 64", .type = NEW, .flags = F_BUF, .id = 64, .size = SZ,
	  .nfds = 1 },
	{ "NEW with an unknown flag", .type = NEW, .flags = F_BUF | 0x100,
	  .size = SZ, .nfds = 1 },
	{ "RELEASE sent to a consumer", .type = RELEASE },
	{ "unknown type 9", .type = 9 },
};

static void test_bad(const struct bad *b)
{
	struct wire w[2] = { { .magic = MAGIC, .version = 1, .type = HELLO,
			       .id = PROD } };
	int fds[3], raw, i, before = count_fds(), ok, pp[2] = { -1, -1 };
	struct dmabuf_channel *c;
	struct dmabuf_frame r;

	if (b->kind == 2 && pipe2(pp, O_CLOEXEC))
		return;
	pair(NULL, &c, &raw);
	if (!b->no_hello)
		raw_send(raw, w, sizeof(w[0]), NULL, 0);
	memset(w, 0, sizeof(w));
	w->magic = b->magic ? b->magic : MAGIC;
	w->version = b->version ? b->version : 1;
	w->type = b->type;
	w->flags = b->flags;
	w->id = b->id;
	w->size = b->size;
	for (i = 0; i < b->nfds; i++)
		fds[i] = pattern_memfd(SZ, i);
	if (b->kind == 1) {
		close(fds[0]);
		fds[0] = plain_memfd(SZ);
	} else if (b->kind == 2) {
		close(fds[0]);
		fds[0] = pp[0];
		close(pp[1]);
	}
	raw_send(raw, w, b->len < 0 ? 0 : b->len ? (size_t)b->len : sizeof(*w),
		 fds, b->nfds);
	for (i = 0; i < b->nfds; i++)
		close(fds[i]);
	ok = dmabuf_channel_receive(c, 1000, &r) == -EPROTO;
	ok &= dmabuf_channel_receive(c, 0, &r) == -EPROTO;
	dmabuf_channel_free(c);
	close(raw);
	tap_ok(ok && count_fds() == before,
	       "%s: -EPROTO, sticky, every fd closed", b->what);
}

/* A raw producer and consumer that follow docs/channel.md are understood. */
static void test_raw_peer(void)
{
	struct wire w = { .magic = MAGIC, .version = 1, .type = HELLO,
			  .id = PROD };
	struct dmabuf_channel *c, *p;
	struct dmabuf_frame r;
	unsigned int n = 2;
	int raw, fds[2], pp[2];
	uint32_t id;

	pair(NULL, &c, &raw);
	pipe2(pp, O_CLOEXEC);
	tap_ok(dmabuf_recv_fds(raw, &w, WSZ, fds, &n, 1000) == WSZ && n == 0 &&
	       w.magic == MAGIC && w.version == 1 && w.type == HELLO &&
	       w.id == CONS && !w.flags,
	       "the consumer's HELLO is as documented");
	w = (struct wire){ .magic = MAGIC, .version = 1, .type = HELLO,
			   .id = PROD };
	raw_send(raw, &w, sizeof(w), NULL, 0);
	w = (struct wire){ .magic = MAGIC, .version = 1, .type = NEW,
			   .flags = F_BUF | F_FENCE, .id = 5, .size = SZ,
			   .seq = 77, .timestamp_ns = 123, .user = { 9 } };
	fds[0] = pattern_memfd(SZ, 77);
	fds[1] = pp[0];
	raw_send(raw, &w, sizeof(w), fds, 2);
	close(fds[0]);
	raw_msg(raw, FINISH, 0, 0, 0, NULL, 0);
	tap_ok(dmabuf_channel_receive(c, 1000, &r) == 1 && r.id == 5 &&
	       r.seq == 77 && r.timestamp_ns == 123 && r.user[0] == 9 &&
	       same_file(r.fence_fd, pp[0]) && check_fd(r.buf_fd, SZ, 77),
	       "a NEW built by hand is received");
	close(r.fence_fd);
	dmabuf_channel_release(c, 5, pp[1]);
	n = 2;
	tap_ok(dmabuf_recv_fds(raw, &w, WSZ, fds, &n, 1000) == WSZ && n == 1 &&
	       w.type == RELEASE && w.id == 5 && w.flags == F_FENCE &&
	       same_file(fds[0], pp[1]),
	       "its RELEASE is as documented, with the fence");
	if (n == 1)
		close(fds[0]);
	tap_ok(dmabuf_channel_receive(c, 1000, &r) == 0, "FINISH: 0");
	dmabuf_channel_free(c);
	close(raw);

	/* a producer channel against a raw consumer */
	pair(&p, NULL, &raw);
	fds[0] = pattern_memfd(SZ, 0);
	dmabuf_channel_add_buffer(p, fds[0], &id);
	dmabuf_channel_add_buffer(p, fds[0], &id);
	close(fds[0]);
	produce(p, 1, -1, NULL);
	raw_msg(raw, HELLO, 0, CONS, 0, NULL, 0);
	raw_msg(raw, RELEASE, 0, 1, 0, NULL, 0);
	tap_ok(dmabuf_channel_acquire(p, 1000, &r, NULL) == -EPROTO &&
	       dmabuf_channel_acquire(p, 0, &r, NULL) == -EPROTO,
	       "producer: RELEASE of a slot not sent: -EPROTO, sticky");
	dmabuf_channel_free(p);
	close(raw);
	pair(&p, NULL, &raw);
	fds[0] = pattern_memfd(SZ, 0);
	dmabuf_channel_add_buffer(p, fds[0], &id);
	produce(p, 1, -1, NULL);
	raw_msg(raw, HELLO, 0, CONS, 0, NULL, 0);
	raw_msg(raw, RELEASE, 0, 0, 0, fds, 1);
	close(fds[0]);
	tap_ok(dmabuf_channel_acquire(p, 1000, &r, NULL) == -EPROTO,
	       "producer: RELEASE with an fd it does not announce: -EPROTO");
	dmabuf_channel_free(p);
	close(raw);
	close(pp[0]);
	close(pp[1]);
}

/* A raw producer sends a NEW for a slot the consumer still holds. */
static void test_held_twice(void)
{
	int raw, fd = pattern_memfd(SZ, 1), before = count_fds();
	struct dmabuf_channel *c;
	struct dmabuf_frame r;

	pair(NULL, &c, &raw);
	raw_msg(raw, HELLO, 0, PROD, 0, NULL, 0);
	raw_msg(raw, NEW, F_BUF, 3, SZ, &fd, 1);
	raw_msg(raw, NEW, 0, 3, SZ, NULL, 0);
	tap_ok(dmabuf_channel_receive(c, 1000, &r) == 1 && r.id == 3 &&
	       dmabuf_channel_receive(c, 1000, &r) == -EPROTO,
	       "NEW of a slot the consumer holds: -EPROTO");
	dmabuf_channel_free(c);
	close(raw);
	tap_ok(count_fds() == before, "no fd left behind");
	close(fd);
}

/* NEW without BUF must announce the size the buffer has. */
static void test_wrong_size(void)
{
	int raw, fd = pattern_memfd(SZ, 1), before = count_fds(), ok;
	struct dmabuf_channel *c;
	struct dmabuf_frame r;

	pair(NULL, &c, &raw);
	raw_msg(raw, HELLO, 0, PROD, 0, NULL, 0);
	raw_msg(raw, NEW, F_BUF, 3, SZ, &fd, 1);
	ok = dmabuf_channel_receive(c, 1000, &r) == 1 && r.id == 3 &&
	     !dmabuf_channel_release(c, 3, -1);
	raw_msg(raw, NEW, 0, 3, 2 * SZ, NULL, 0);
	tap_ok(ok && dmabuf_channel_receive(c, 1000, &r) == -EPROTO &&
	       dmabuf_channel_receive(c, 0, &r) == -EPROTO,
	       "NEW without BUF announcing another size: -EPROTO, sticky");
	dmabuf_channel_free(c);
	close(raw);
	tap_ok(count_fds() == before, "no fd left behind");
	close(fd);
}

/* A producer channel against a raw consumer that breaks the protocol. */
static void test_raw_consumer(void)
{
	static const struct {
		const char *what;
		uint32_t flags, id;
		bool resend;	/* after a RELEASE, send the slot again */
	} cases[] = {
		{ "RELEASE of slot 5 of a 2-slot pool", 0, 5, false },
		{ "RELEASE of slot 63 of a 2-slot pool", 0, 63, false },
		{ "RELEASE with an unknown flag", 0x8, 0, false },
		{ "FORGET for a buffer the consumer has", F_FORGET, 0, true },
	};
	struct dmabuf_channel *p;
	struct dmabuf_frame f;
	int raw, fd, before, i, ok;
	uint32_t id;

	for (i = 0; i < (int)(sizeof(cases) / sizeof(cases[0])); i++) {
		before = count_fds();
		pair(&p, NULL, &raw);
		fd = pattern_memfd(SZ, 0);
		dmabuf_channel_add_buffer(p, fd, &id);
		dmabuf_channel_add_buffer(p, fd, &id);
		close(fd);
		raw_msg(raw, HELLO, 0, CONS, 0, NULL, 0);
		ok = !produce(p, 1, -1, &id) && id == 0;
		if (cases[i].resend) {
			/* slot 0 back, slot 1 taken: the next is slot 0 */
			raw_msg(raw, RELEASE, 0, 0, 0, NULL, 0);
			ok &= !dmabuf_channel_acquire(p, 1000, &f, NULL) &&
			      f.id == 1 && !dmabuf_channel_cancel(p, 1);
			ok &= !produce(p, 2, -1, &id) && id == 0;
		}
		raw_msg(raw, RELEASE, cases[i].flags, cases[i].id, 0, NULL, 0);
		tap_ok(ok && dmabuf_channel_acquire(p, 1000, &f, NULL) ==
		       -EPROTO && dmabuf_channel_acquire(p, 0, &f, NULL) ==
		       -EPROTO, "producer: %s: -EPROTO, sticky", cases[i].what);
		dmabuf_channel_free(p);
		close(raw);
		if (count_fds() != before)
			tap_diag("%d fds left behind", count_fds() - before);
	}
}

/*
 * A consumer created after a short-lived producer has finished and gone
 * still gets the frames, then the end of the stream.
 */
static void test_late_consumer(void)
{
	int sv[2], fd = pattern_memfd(SZ, 0), before, ret, ok;
	struct dmabuf_channel *p, *c = NULL;
	struct dmabuf_frame r[2];
	uint32_t id;

	before = count_fds();
	dmabuf_socketpair(sv);
	dmabuf_channel_new(sv[0], PROD, &p);
	dmabuf_channel_add_buffer(p, fd, &id);
	close(fd);
	fd = pattern_memfd(SZ, 0);	/* two buffers for two frames */
	dmabuf_channel_add_buffer(p, fd, &id);
	ok = !produce(p, 1, -1, NULL) && !produce(p, 2, -1, NULL) &&
	     !dmabuf_channel_finish(p);
	dmabuf_channel_free(p);
	ret = dmabuf_channel_new(sv[1], CONS, &c);
	tap_ok(ok && !ret,
	       "consumer made after the producer finished and went: new "
	       "succeeds (%d)", ret);
	if (ret) {
		close(sv[1]);
		tap_skip("no consumer");
		close(fd);
		return;
	}
	ok = dmabuf_channel_receive(c, 1000, &r[0]) == 1 && r[0].seq == 1 &&
	     check_fd(r[0].buf_fd, SZ, 1) &&
	     dmabuf_channel_receive(c, 1000, &r[1]) == 1 && r[1].seq == 2 &&
	     check_fd(r[1].buf_fd, SZ, 2) &&
	     dmabuf_channel_receive(c, 1000, &r[0]) == 0 &&
	     !dmabuf_channel_release(c, 0, -1) &&
	     !dmabuf_channel_release(c, 1, -1) &&
	     dmabuf_channel_receive(c, 0, &r[0]) == 0;
	dmabuf_channel_free(c);
	tap_ok(ok && count_fds() == before,
	       "late consumer: both frames, then 0; releases succeed");
	close(fd);
}

/* acquire() with no slot free and none with the consumer: -EDEADLK. */
static void test_deadlock(void)
{
	struct dmabuf_channel *p, *c;
	struct dmabuf_frame f, g;
	int fd = pattern_memfd(SZ, 0), st, ok;
	uint32_t id;
	int64_t t;
	pid_t pid;

	pair(&p, &c, NULL);
	dmabuf_channel_add_buffer(p, fd, &id);
	dmabuf_channel_add_buffer(p, fd, &id);
	close(fd);
	ok = !dmabuf_channel_acquire(p, 0, &f, NULL) &&
	     !dmabuf_channel_acquire(p, 0, &g, NULL);
	t = now_ms();
	ok &= dmabuf_channel_acquire(p, 0, &f, NULL) == -EDEADLK &&
	      dmabuf_channel_acquire(p, 500, &f, NULL) == -EDEADLK;
	t = now_ms() - t;
	tap_ok(ok && t < 400,
	       "every slot acquired: acquire is -EDEADLK at once (%lld ms)",
	       (long long)t);
	/* waiting forever must not hang either; a child, in case it does */
	fflush(stdout);
	pid = fork();
	if (!pid) {
		alarm(5);
		_exit(dmabuf_channel_acquire(p, -1, &f, NULL) == -EDEADLK ? 0
									  : 1);
	}
	st = wait_child_ms(pid, 8000);
	tap_ok(st == 0, "every slot acquired: acquire(-1) is -EDEADLK, no hang "
	       "(%d)", st);
	ok = !dmabuf_channel_send(p, &g) &&
	     dmabuf_channel_acquire(p, 50, &f, NULL) == -ETIME;
	tap_ok(ok, "one slot with the consumer: acquire waits (-ETIME)");
	dmabuf_channel_free(p);
	dmabuf_channel_free(c);
}

/* cancel(): a slot acquired and not sent goes back, with its fence. */
static void test_cancel(void)
{
	int fd = pattern_memfd(SZ, 0), pp[2], before, rel = -1, rel2 = -1;
	struct dmabuf_channel *p, *c;
	struct dmabuf_frame f, r;
	uint32_t id;
	int ok;

	pipe2(pp, O_CLOEXEC);
	before = count_fds();
	pair(&p, &c, NULL);
	dmabuf_channel_add_buffer(p, fd, &id);
	tap_ok(dmabuf_channel_cancel(NULL, 0) == -EINVAL &&
	       dmabuf_channel_cancel(c, 0) == -EINVAL &&
	       dmabuf_channel_cancel(p, 0) == -EINVAL &&
	       dmabuf_channel_cancel(p, 1) == -EINVAL &&
	       dmabuf_channel_cancel(p, 64) == -EINVAL,
	       "cancel: NULL, consumer, a free slot, beyond the pool: -EINVAL");
	ok = !produce(p, 1, -1, NULL) &&
	     dmabuf_channel_receive(c, 1000, &r) == 1 &&
	     !dmabuf_channel_release(c, 0, pp[0]) &&
	     !dmabuf_channel_acquire(p, 1000, &f, &rel) && rel >= 0;
	ok &= !dmabuf_channel_cancel(p, 0) &&
	      dmabuf_channel_cancel(p, 0) == -EINVAL &&
	      dmabuf_channel_send(p, &f) == -EINVAL;
	tap_ok(ok, "cancel of an acquired slot; again, or send after it: "
	       "-EINVAL");
	if (rel >= 0)
		close(rel);
	ok = !dmabuf_channel_acquire(p, 1000, &f, &rel2) && f.id == 0 &&
	     rel2 >= 0 && same_file(rel2, pp[0]);
	tap_ok(ok, "the next acquire returns the slot with its release fence "
	       "again");
	if (rel2 >= 0)
		close(rel2);
	f.seq = 2;
	ok = !dmabuf_channel_send(p, &f) &&
	     dmabuf_channel_receive(c, 1000, &r) == 1 && r.seq == 2;
	dmabuf_channel_free(p);
	dmabuf_channel_free(c);
	tap_ok(ok && count_fds() == before,
	       "then it is sent as usual; nothing left behind");
	close(fd);
	close(pp[0]);
	close(pp[1]);
}

/* acquire() with release_fence_fd NULL waits for the fence itself. */
static void test_wait_release(void)
{
	int fd = pattern_memfd(SZ, 0), pp[2], before, ok;
	struct dmabuf_channel *p, *c;
	struct dmabuf_frame f, r;
	uint32_t id;
	int64_t t;

	pipe2(pp, O_CLOEXEC);
	pair(&p, &c, NULL);
	dmabuf_channel_add_buffer(p, fd, &id);
	ok = !produce(p, 1, -1, NULL) &&
	     dmabuf_channel_receive(c, 1000, &r) == 1 &&
	     !dmabuf_channel_release(c, 0, pp[0]);
	/* the RELEASE (and its fence) arrives with the first acquire */
	t = now_ms();
	ok &= dmabuf_channel_acquire(p, 100, &f, NULL) == -ETIME;
	t = now_ms() - t;
	before = count_fds();
	tap_ok(ok && t >= 100 && t < 5000 &&
	       dmabuf_channel_acquire(p, 0, &f, NULL) == -ETIME &&
	       count_fds() == before,
	       "acquire(NULL): waits for the release fence, -ETIME after "
	       "%lld ms, the fence kept", (long long)t);
	ok = write(pp[1], "s", 1) == 1;
	ok &= !dmabuf_channel_acquire(p, 1000, &f, NULL) && f.id == 0 &&
	      f.fence_fd == -1 && count_fds() == before - 1;
	tap_ok(ok, "acquire(NULL): once it signals, the slot; the fence "
	       "closed by the library");
	dmabuf_channel_free(p);
	dmabuf_channel_free(c);
	close(fd);
	close(pp[0]);
	close(pp[1]);
}

#define PASS_FRAMES 100

/*
 * Sockets with SO_PASSCRED and SO_PASSPIDFD on both ends: every message
 * brings credentials and a pidfd; the channel works and leaks nothing.
 */
static void test_pass_options(void)
{
	int sv[2], fd = pattern_memfd(SZ, 0), pp[2], before, i, ok, pidfd;
	struct dmabuf_channel *p, *c;
	struct dmabuf_frame r;
	uint32_t id;

	pipe2(pp, O_CLOEXEC);
	dmabuf_socketpair(sv);
	pidfd = set_pass(sv[0], SO_PASSPIDFD);
	ok = !set_pass(sv[0], SO_PASSCRED) && !set_pass(sv[1], SO_PASSCRED) &&
	     (!pidfd || pidfd == -ENOPROTOOPT) &&
	     (pidfd || !set_pass(sv[1], SO_PASSPIDFD));
	if (pidfd)
		tap_diag("SO_PASSPIDFD: not known to this kernel, "
			 "SO_PASSCRED alone");
	before = count_fds();
	dmabuf_channel_new(sv[0], PROD, &p);
	dmabuf_channel_new(sv[1], CONS, &c);
	dmabuf_channel_add_buffer(p, fd, &id);
	dmabuf_channel_add_buffer(p, fd, &id);
	for (i = 0; ok && i < PASS_FRAMES; i++) {
		ok = !produce(p, (uint64_t)i, pp[0], NULL) &&
		     dmabuf_channel_receive(c, 1000, &r) == 1 &&
		     r.seq == (uint64_t)i && r.fence_fd >= 0 &&
		     check_fd(r.buf_fd, SZ, (uint64_t)i);
		if (r.fence_fd >= 0)
			close(r.fence_fd);
		ok &= !dmabuf_channel_release(c, r.id, pp[1]);
	}
	dmabuf_channel_free(p);
	dmabuf_channel_free(c);
	/* the sockets went with the channels */
	tap_ok(ok && count_fds() == before - 2,
	       "SO_PASSCRED%s on both ends: %d frames with fences, no fd "
	       "leaked (%d)", pidfd ? "" : " + SO_PASSPIDFD", PASS_FRAMES,
	       count_fds() - before + 2);
	close(fd);
	close(pp[0]);
	close(pp[1]);
}

/*
 * helper "emfile-consumer FD": the first frame cannot be installed
 * (-EMFILE, nothing leaked), the next one is whole. Exit status: a bit per
 * failed check.
 */
static int emfile_consumer(int sock)
{
	int before = count_fds(), st = 0, ret;
	struct dmabuf_channel *c;
	struct dmabuf_frame r;

	if (dmabuf_channel_new(sock, CONS, &c))
		return 64;
	if (limit_fds(0) || dmabuf_channel_receive(c, 10000, &r) != -EMFILE)
		st |= 1;
	if (unlimit_fds() || count_fds() != before)
		st |= 2;
	ret = dmabuf_channel_receive(c, 10000, &r);
	if (ret != 1 || r.seq != 1 || r.id != 0 || !check_fd(r.buf_fd, SZ, 1) ||
	    r.fence_fd < 0 || !is_fifo(r.fence_fd))
		st |= 4;
	if (ret == 1 && r.fence_fd >= 0)
		close(r.fence_fd);
	if (ret != 1 || dmabuf_channel_release(c, r.id, -1) ||
	    dmabuf_channel_receive(c, 10000, &r) != 0)
		st |= 8;
	dmabuf_channel_free(c);
	if (count_fds() != before - 1)
		st |= 16;
	return st;
}

/*
 * helper "emfile-producer FD": two frames out; the consumer releases slot 0
 * with a fence and slot 1 without. The first RELEASE's fence cannot be
 * installed: -EMFILE, slot 0 is lost; slot 1 still comes back.
 */
static int emfile_producer(int sock)
{
	int fd = pattern_memfd(SZ, 0), st = 0, before, rel;
	struct dmabuf_channel *p;
	struct dmabuf_frame f;
	uint32_t id;

	if (fd < 0 || dmabuf_channel_new(sock, PROD, &p))
		return 64;
	dmabuf_channel_add_buffer(p, fd, &id);
	dmabuf_channel_add_buffer(p, fd, &id);
	close(fd);
	if (produce(p, 1, -1, NULL) || produce(p, 2, -1, NULL))
		st |= 1;
	before = count_fds();
	if (limit_fds(0) ||
	    dmabuf_channel_acquire(p, 10000, &f, &rel) != -EMFILE)
		st |= 2;
	if (unlimit_fds() || count_fds() != before)
		st |= 4;
	if (dmabuf_channel_acquire(p, 10000, &f, &rel) || f.id != 1 ||
	    rel != -1)
		st |= 8;
	/* slot 0 lost, slot 1 acquired: nothing can come back */
	if (dmabuf_channel_acquire(p, -1, &f, &rel) != -EDEADLK)
		st |= 16;
	if (dmabuf_channel_finish(p))
		st |= 32;
	dmabuf_channel_free(p);
	return st;
}

static void test_emfile(void)
{
	struct dmabuf_channel *p, *c;
	struct dmabuf_frame f, r[2];
	int sv[2], fd, pp[2], st, ok, rel;
	uint32_t id;
	pid_t pid;

	pipe2(pp, O_CLOEXEC);
	dmabuf_socketpair(sv);
	pid = run_helper("emfile-consumer", sv[1], NULL);
	close(sv[1]);
	dmabuf_channel_new(sv[0], PROD, &p);
	fd = pattern_memfd(SZ, 0);
	dmabuf_channel_add_buffer(p, fd, &id);
	close(fd);
	ok = !produce(p, 0, pp[0], NULL);
	/* the consumer gives the slot back unread, asks for the buffer again */
	ok &= !dmabuf_channel_acquire(p, 10000, &f, &rel) && f.id == 0 &&
	      rel == -1;
	tap_ok(ok, "consumer EMFILE: the slot comes back without a fence");
	fill_fd(f.buf_fd, SZ, 1);
	f.seq = 1;
	f.fence_fd = pp[0];
	ok = !dmabuf_channel_send(p, &f) &&
	     !dmabuf_channel_acquire(p, 10000, &f, NULL);
	ok &= !dmabuf_channel_finish(p);
	dmabuf_channel_free(p);
	st = wait_child(pid);
	tap_ok(ok, "consumer EMFILE: the next frame goes through");
	tap_ok(st >= 0 && !(st & 65), "consumer EMFILE: receive -EMFILE");
	tap_ok(st >= 0 && !(st & 2), "consumer EMFILE: no fd left behind");
	tap_ok(st >= 0 && !(st & 4),
	       "consumer EMFILE: next frame whole, with its buffer resent");
	tap_ok(st >= 0 && !(st & 24),
	       "consumer EMFILE: release, finish, no leak");

	dmabuf_socketpair(sv);
	pid = run_helper("emfile-producer", sv[1], NULL);
	close(sv[1]);
	dmabuf_channel_new(sv[0], CONS, &c);
	ok = dmabuf_channel_receive(c, 10000, &r[0]) == 1 &&
	     dmabuf_channel_receive(c, 10000, &r[1]) == 1;
	ok &= !dmabuf_channel_release(c, 0, pp[1]) &&
	      !dmabuf_channel_release(c, 1, -1);
	ok &= dmabuf_channel_receive(c, 10000, &r[0]) == 0;
	dmabuf_channel_free(c);
	st = wait_child(pid);
	tap_ok(ok && st >= 0 && !(st & 1), "producer EMFILE: frames out, back");
	tap_ok(st >= 0 && !(st & 6),
	       "producer EMFILE: acquire -EMFILE, no fd left behind");
	tap_ok(st >= 0 && !(st & 24),
	       "producer EMFILE: the other slot comes back, the lost never "
	       "(-EDEADLK then)");
	tap_ok(st >= 0 && !(st & 96), "producer EMFILE: finish");
	close(pp[0]);
	close(pp[1]);
}

int main(int argc, char **argv)
{
	int before;
	size_t i;

	share_test_init(argv[0]);
	if (argc == 3 && !strcmp(argv[1], "emfile-consumer"))
		return emfile_consumer(atoi(argv[2]));
	if (argc == 3 && !strcmp(argv[1], "emfile-producer"))
		return emfile_producer(atoi(argv[2]));

	before = count_fds();
	tap_plan(104);
	test_new();
	test_add();
	test_frame();
	test_states();
	test_gone();
	test_free();
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		test_bad(&bad[i]);
	test_raw_peer();
	test_held_twice();
	test_wrong_size();
	test_raw_consumer();
	test_late_consumer();
	test_deadlock();
	test_cancel();
	test_wait_release();
	test_pass_options();
	test_emfile();
	tap_ok(count_fds() == before, "no fd leaked over the whole run (%d)",
	       count_fds() - before);
	return tap_done();
}
