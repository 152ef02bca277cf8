// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The channel between two processes: 1000 frames over a 4-slot pool, every
 * frame's contents checked and no slot written while the consumer holds
 * it; the same over a listening path to an exec'd consumer; a peer that
 * dies mid-stream.
 */
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>

#include "share.h"

#define SLOTS 4
#define FRAMES 1000
#define SZ 16384
#define HOLD 3		/* frames the consumer keeps before releasing */

static char tmpdir[] = "/tmp/share-stream-XXXXXX";

/* Exit bits of consume() */
#define C_NEW		1	/* could not make the channel */
#define C_DATA		2	/* a frame's contents wrong on arrival */
#define C_CHANGED	4	/* a frame changed while held */
#define C_META		8	/* seq, user, timestamp or fence wrong */
#define C_STREAM	16	/* an error, or not every frame, or no end */
#define C_LEAK		32	/* fds left open */

struct held_frame {
	uint32_t id;
	uint64_t seq;
};

/*
 * The consumer: checks each frame on arrival and again before releasing
 * it, keeps up to HOLD frames, marks the slots it holds in @held (shared
 * with the producer, may be NULL). Returns C_* bits.
 */
static int consume(int sock, unsigned int frames, uint8_t *held)
{
	int before = count_fds(), st = 0, pp[2], ret;
	struct held_frame fifo[HOLD + 1], o;
	const uint32_t *map[SLOTS] = { 0 };
	unsigned int n = 0, nfifo = 0, i;
	struct dmabuf_channel *c;
	uint64_t last_ts = 0;
	struct dmabuf_frame f;

	if (pipe2(pp, O_CLOEXEC) ||
	    dmabuf_channel_new(sock, DMABUF_CHANNEL_CONSUMER, &c))
		return C_NEW;
	for (;;) {
		ret = dmabuf_channel_receive(c, 10000, &f);
		if (ret != 1 || f.id >= SLOTS || f.size != SZ) {
			st |= ret ? C_STREAM : 0;
			break;
		}
		if (held)
			__atomic_store_n(&held[f.id], 1, __ATOMIC_SEQ_CST);
		if (!map[f.id]) {
			map[f.id] = mmap(NULL, SZ, PROT_READ, MAP_SHARED,
					 f.buf_fd, 0);
			if (map[f.id] == MAP_FAILED) {
				map[f.id] = NULL;
				st |= C_DATA;
				break;
			}
		}
		if (f.seq != n || f.user[0] != n * 3 ||
		    f.timestamp_ns < last_ts ||
		    (f.fence_fd >= 0) != (n % 3 == 0) ||
		    (f.fence_fd >= 0 && !is_fifo(f.fence_fd)))
			st |= C_META;
		if (f.fence_fd >= 0)
			close(f.fence_fd);
		last_ts = f.timestamp_ns;
		if (!check_map(map[f.id], SZ, f.seq))
			st |= C_DATA;
		fifo[nfifo++] = (struct held_frame){ f.id, f.seq };
		n++;
		if (nfifo <= HOLD)
			continue;
		o = fifo[0];
		memmove(fifo, fifo + 1, --nfifo * sizeof(*fifo));
		if (!check_map(map[o.id], SZ, o.seq))
			st |= C_CHANGED;
		if (held)
			__atomic_store_n(&held[o.id], 0, __ATOMIC_SEQ_CST);
		if (dmabuf_channel_release(c, o.id, o.seq % 5 ? -1 : pp[0]))
			st |= C_STREAM;
	}
	if (n != frames || dmabuf_channel_receive(c, 0, &f) != 0)
		st |= C_STREAM;
	if (st)
		fprintf(stderr, "# consumer: %u of %u frames, last %d, st %d\n",
			n, frames, ret, st);
	for (i = 0; i < nfifo; i++)
		dmabuf_channel_release(c, fifo[i].id, -1);
	for (i = 0; i < SLOTS; i++)
		if (map[i])
			munmap((void *)map[i], SZ);
	dmabuf_channel_free(c);
	close(pp[0]);
	close(pp[1]);
	if (count_fds() != before - 1)
		st |= C_LEAK;
	return st;
}

/* helper "consumer PATH": an unrelated process that connects and consumes */
static int helper_consumer(const char *path)
{
	int sock = dmabuf_connect(path);

	return sock < 0 ? C_NEW : consume(sock, FRAMES / 4, NULL);
}

struct produced {
	unsigned int sent;	/* frames sent */
	unsigned int overlap;	/* acquired while the consumer held it */
	unsigned int fences;	/* release fences received (all pipes) */
	unsigned int bad_fences;
	int error;		/* the first error, 0 if none */
};

/* The producer: @frames frames through SLOTS memfds, then finish. */
static void produce(int sock, unsigned int frames, const uint8_t *held,
		    struct produced *r)
{
	uint32_t *map[SLOTS] = { 0 };
	struct dmabuf_channel *p;
	struct dmabuf_frame f;
	int fd, pp[2], ret = 0, rel;
	unsigned int i;
	uint32_t id;

	memset(r, 0, sizeof(*r));
	pipe2(pp, O_CLOEXEC);
	ret = dmabuf_channel_new(sock, DMABUF_CHANNEL_PRODUCER, &p);
	if (ret) {
		r->error = ret;
		return;
	}
	for (i = 0; i < SLOTS; i++) {
		fd = sealed_memfd(SZ);
		if (dmabuf_channel_add_buffer(p, fd, &id))
			ret = -EIO;
		close(fd);
	}
	for (i = 0; i < frames && !ret; i++) {
		ret = dmabuf_channel_acquire(p, 10000, &f, &rel);
		if (ret)
			break;
		if (held && __atomic_load_n(&held[f.id], __ATOMIC_SEQ_CST))
			r->overlap++;
		r->bad_fences += f.fence_fd != -1;
		if (rel >= 0) {
			r->fences++;
			r->bad_fences += !is_fifo(rel);
			close(rel);
		}
		if (!map[f.id])
			map[f.id] = mmap(NULL, SZ, PROT_WRITE, MAP_SHARED,
					 f.buf_fd, 0);
		if (map[f.id] == MAP_FAILED) {
			map[f.id] = NULL;
			ret = -ENOMEM;
			break;
		}
		fill_map(map[f.id], SZ, i);
		f.seq = i;
		f.user[0] = i * 3;
		f.fence_fd = i % 3 ? -1 : pp[0];
		ret = dmabuf_channel_send(p, &f);
		r->sent += !ret;
	}
	if (!ret)
		ret = dmabuf_channel_finish(p);
	r->error = ret;
	for (i = 0; i < SLOTS; i++)
		if (map[i])
			munmap(map[i], SZ);
	dmabuf_channel_free(p);
	close(pp[0]);
	close(pp[1]);
}

static void report_consumer(int st, const char *how)
{
	tap_ok(st == 0, "%s: consumer exited cleanly (status %d)", how, st);
	tap_ok(st >= 0 && !(st & C_DATA),
	       "%s: every frame's contents right on arrival", how);
	tap_ok(st >= 0 && !(st & C_CHANGED),
	       "%s: no frame changed while the consumer held it", how);
	tap_ok(st >= 0 && !(st & C_META),
	       "%s: seq, user words, timestamps, fences as sent", how);
	tap_ok(st >= 0 && !(st & (C_STREAM | C_NEW)),
	       "%s: every frame, then end of stream", how);
	tap_ok(st >= 0 && !(st & C_LEAK), "%s: consumer leaked no fd", how);
}

static void test_fork(void)
{
	int sv[2], before = count_fds();
	struct produced r;
	uint8_t *held;
	pid_t pid;

	held = mmap(NULL, SLOTS, PROT_READ | PROT_WRITE,
		    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	memset(held, 0, SLOTS);
	pid = fork_peer(sv);
	if (!pid)
		_exit(consume(sv[1], FRAMES, held));
	produce(sv[0], FRAMES, held, &r);
	tap_ok(!r.error && r.sent == FRAMES,
	       "fork: %u of %d frames sent over %d slots, then finish (%d)",
	       r.sent, FRAMES, SLOTS, r.error);
	tap_ok(r.overlap == 0, "fork: no slot acquired while held (%u)",
	       r.overlap);
	tap_ok(r.fences > 0 && !r.bad_fences,
	       "fork: %u release fences came back, all the consumer's pipe",
	       r.fences);
	report_consumer(wait_child(pid), "fork");
	munmap(held, SLOTS);
	tap_ok(count_fds() == before, "fork: producer leaked no fd");
}

static void test_unrelated(void)
{
	char path[128];
	struct produced r;
	int l, s;
	pid_t pid;

	snprintf(path, sizeof(path), "%s/sock", tmpdir);
	l = dmabuf_listen(path);
	pid = run_helper("consumer", -1, path);
	s = dmabuf_accept(l, 10000);
	if (s >= 0)
		produce(s, FRAMES / 4, NULL, &r);
	tap_ok(s >= 0 && !r.error && r.sent == FRAMES / 4,
	       "path: %d frames to an exec'd consumer", FRAMES / 4);
	report_consumer(wait_child(pid), "path");
	close(l);
	unlink(path);
}

/* The producer dies (SIGKILL) after 5 frames, without finish. */
static void test_producer_dies(void)
{
	int sv[2], before = count_fds(), ret, n = 0;
	struct dmabuf_channel *c;
	struct dmabuf_frame f;
	pid_t pid;

	pid = fork_peer(sv);
	if (!pid) {
		struct dmabuf_channel *p;
		int fd = sealed_memfd(SZ), i;
		uint32_t id;

		dmabuf_channel_new(sv[1], DMABUF_CHANNEL_PRODUCER, &p);
		dmabuf_channel_add_buffer(p, fd, &id);
		dmabuf_channel_add_buffer(p, fd, &id);
		for (i = 0; i < 5; i++) {
			dmabuf_channel_acquire(p, 10000, &f, NULL);
			f.seq = i;
			dmabuf_channel_send(p, &f);
		}
		kill(getpid(), SIGKILL);
	}
	dmabuf_channel_new(sv[0], DMABUF_CHANNEL_CONSUMER, &c);
	while ((ret = dmabuf_channel_receive(c, 10000, &f)) == 1) {
		n += f.seq == (uint64_t)n;
		dmabuf_channel_release(c, f.id, -1);
	}
	tap_ok(n == 5 && ret == -EPIPE &&
	       dmabuf_channel_receive(c, 0, &f) == -EPIPE,
	       "producer killed mid-stream: 5 frames, then -EPIPE (%d)", ret);
	dmabuf_channel_free(c);
	tap_ok(wait_child(pid) == -1 && count_fds() == before,
	       "producer killed: no fd left open in the consumer");
}

/* The consumer dies (SIGKILL) after 3 frames, holding them. */
static void test_consumer_dies(void)
{
	int sv[2], before = count_fds(), ret = 0, fd, n = 0;
	struct dmabuf_channel *p;
	struct dmabuf_frame f;
	uint32_t id;
	pid_t pid;

	pid = fork_peer(sv);
	if (!pid) {
		struct dmabuf_channel *c;
		int i;

		dmabuf_channel_new(sv[1], DMABUF_CHANNEL_CONSUMER, &c);
		for (i = 0; i < 3; i++)
			dmabuf_channel_receive(c, 10000, &f);
		kill(getpid(), SIGKILL);
	}
	dmabuf_channel_new(sv[0], DMABUF_CHANNEL_PRODUCER, &p);
	fd = sealed_memfd(SZ);
	while (n < SLOTS && !dmabuf_channel_add_buffer(p, fd, &id))
		n++;
	close(fd);
	for (n = 0; n < 100 && !ret; n++) {
		ret = dmabuf_channel_acquire(p, 10000, &f, NULL);
		if (!ret)
			ret = dmabuf_channel_send(p, &f);
	}
	tap_ok(ret == -EPIPE && n <= SLOTS + 1,
	       "consumer killed mid-stream: -EPIPE after %d frames (%d)",
	       n - 1, ret);
	dmabuf_channel_free(p);
	tap_ok(wait_child(pid) == -1 && count_fds() == before,
	       "consumer killed: no fd left open in the producer");
}

int main(int argc, char **argv)
{
	int before;

	share_test_init(argv[0]);
	if (argc == 3 && !strcmp(argv[1], "consumer"))
		return helper_consumer(argv[2]);

	if (!mkdtemp(tmpdir))
		return 1;
	before = count_fds();
	tap_plan(22);
	test_fork();
	test_unrelated();
	test_producer_dies();
	test_consumer_dies();
	tap_ok(count_fds() == before, "no fd leaked over the whole run");
	rmdir(tmpdir);
	return tap_done();
}
