// SPDX-License-Identifier: GPL-2.0
/*
 * Section "handoff": give 64 MiB to a second process that reads all of
 * it, and wait for its answer (the sum of the words, checked).
 *
 *   dma-buf (sgbuf, heap, udmabuf, vgem): the fd goes over a unix socket
 *     (SCM_RIGHTS); the receiver mmaps it read-only, brackets the read
 *     with DMA_BUF_IOCTL_SYNC START/END (READ), sums it, unmaps, closes
 *     and answers.
 *   pipe, pipe-1MiB (F_SETPIPE_SZ), unix-socket (SOCK_STREAM): the sender
 *     write()s the bytes from a pre-faulted buffer; the receiver read()s
 *     them into its own pre-faulted buffer, sums and answers.
 *
 * The receivers are forked once, before any big buffer exists; each
 * repetition is one round trip, timed by the sender. The transports take
 * turns in every repetition.
 */
#include "bench.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/dma-buf.h>

#define SZ (64 * MiB)

struct transport {
	const char *name;
	struct exporter *e;	/* NULL for a copying transport */
	int kind;		/* 0 dma-buf, 1 pipe, 2 pipe 1 MiB, 3 socket */
	pid_t pid;
	int tx, rx;		/* data out, answer in */
	int buf;		/* dma-buf fd */
	double *t;
	bool ok;
};

static void full_write(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n) {
		ssize_t w = write(fd, c, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			die("handoff: write: %s", strerror(errno));
		c += w;
		n -= (size_t)w;
	}
}

/* 0 at EOF before the first byte, else the bytes (all n) */
static size_t full_read(int fd, void *p, size_t n)
{
	char *c = p;
	size_t got = 0;

	while (got < n) {
		ssize_t r = read(fd, c + got, n - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			die("handoff: read: %s", strerror(errno));
		if (r == 0) {
			if (got)
				die("handoff: short read");
			return 0;
		}
		got += (size_t)r;
	}
	return got;
}

static int recv_fd(int sock)
{
	char c, ctl[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = &c, .iov_len = 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = ctl,
			      .msg_controllen = sizeof(ctl) };
	struct cmsghdr *cm;
	int fd;

	if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) <= 0)
		return -1;
	cm = CMSG_FIRSTHDR(&msg);
	if (!cm || cm->cmsg_type != SCM_RIGHTS)
		die("handoff: no fd in the message");
	memcpy(&fd, CMSG_DATA(cm), sizeof(fd));
	return fd;
}

static void send_fd(int sock, int fd)
{
	char c = 0, ctl[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = &c, .iov_len = 1 };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1,
			      .msg_control = ctl,
			      .msg_controllen = sizeof(ctl) };
	struct cmsghdr *cm;

	memset(ctl, 0, sizeof(ctl));
	cm = CMSG_FIRSTHDR(&msg);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(fd));
	if (sendmsg(sock, &msg, 0) != 1)
		die("handoff: sendmsg: %s", strerror(errno));
}

static void receiver(struct transport *t)
{
	uint64_t sum;
	char *buf = NULL;

	if (t->kind)
		buf = xmap_anon(SZ);
	for (;;) {
		if (!t->kind) {
			int fd = recv_fd(t->rx);
			void *p;

			if (fd < 0)
				_exit(0);
			p = mmap(NULL, SZ, PROT_READ, MAP_SHARED, fd, 0);
			if (p == MAP_FAILED)
				die("handoff: %s: mmap: %s", t->name,
				    strerror(errno));
			dmabuf_sync(fd, DMA_BUF_SYNC_START | DMA_BUF_SYNC_READ);
			sum = sum64(p, SZ);
			dmabuf_sync(fd, DMA_BUF_SYNC_END | DMA_BUF_SYNC_READ);
			munmap(p, SZ);
			close(fd);
		} else {
			if (!full_read(t->rx, buf, SZ))
				_exit(0);
			sum = sum64(buf, SZ);
		}
		full_write(t->tx, &sum, sizeof(sum));
	}
}

static void start(struct transport *tr, int k)
{
	struct transport *t = &tr[k];
	int a[2], b[2], j;

	/* a: parent -> child data (or fds); b: child -> parent answer */
	if (t->kind == 1 || t->kind == 2) {
		if (pipe2(a, O_CLOEXEC) || pipe2(b, O_CLOEXEC))
			die("pipe: %s", strerror(errno));
		if (t->kind == 2 && fcntl(a[1], F_SETPIPE_SZ, (int)MiB) < 0)
			die("F_SETPIPE_SZ 1 MiB: %s", strerror(errno));
	} else {
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, a))
			die("socketpair: %s", strerror(errno));
		b[0] = dup(a[1]);	/* both ends of the parent's side */
		b[1] = dup(a[0]);
	}
	t->pid = fork();
	if (t->pid < 0)
		die("fork: %s", strerror(errno));
	if (!t->pid) {
		for (j = 0; j < k; j++) {	/* the earlier ones' parent ends */
			close(tr[j].tx);
			close(tr[j].rx);
		}
		close(a[1]);
		close(b[0]);
		t->rx = a[0];
		t->tx = b[1];
		receiver(t);
	}
	close(a[0]);
	close(b[1]);
	t->tx = a[1];
	t->rx = b[0];
}

static double round_trip(struct transport *t, const void *src,
			 uint64_t expect)
{
	double t0 = now();
	uint64_t sum;

	if (!t->kind)
		send_fd(t->tx, t->buf);
	else
		full_write(t->tx, src, SZ);
	if (full_read(t->rx, &sum, sizeof(sum)) != sizeof(sum))
		die("handoff: %s: the receiver went away", t->name);
	t0 = now() - t0;
	if (sum != expect)
		die("handoff: %s: wrong sum %#llx, expected %#llx", t->name,
		    (unsigned long long)sum, (unsigned long long)expect);
	return t0 * 1e6;
}

void section_handoff(void)
{
	static const char *const copies[] = { "pipe", "pipe-1MiB",
					      "unix-socket" };
	struct transport tr[8];
	int n = iters(5), i, nt = 0, k;
	uint64_t expect = 0;
	unsigned int x;
	char *src;

	memset(tr, 0, sizeof(tr));
	for (x = 0; x < nr_exporters; x++) {
		const char *why = exporter_cannot(&exporters[x], SZ);

		if (why) {
			emit_skip("handoff", exporters[x].name, "handoff_64MiB",
				  "%s", why);
			continue;
		}
		tr[nt].name = exporters[x].name;
		tr[nt++].e = &exporters[x];
	}
	for (k = 0; k < 3; k++) {
		tr[nt].name = copies[k];
		tr[nt++].kind = k + 1;
	}
	progress("handoff: 64 MiB x %d over %d transports", n, nt);
	for (k = 0; k < nt; k++)
		start(tr, k);

	src = xmap_anon(SZ);
	expect = fill_pattern(src, SZ, 7);
	for (k = 0; k < nt; k++) {
		struct transport *t = &tr[k];
		void *p;

		t->t = calloc(n, sizeof(double));
		if (t->kind)
			continue;
		t->buf = xalloc(t->e, SZ);
		p = mmap(NULL, SZ, PROT_READ | PROT_WRITE, MAP_SHARED, t->buf, 0);
		if (p == MAP_FAILED)
			die("%s: mmap: %s", t->name, strerror(errno));
		memcpy(p, src, SZ);
		munmap(p, SZ);
	}
	for (k = 0; k < nt; k++)
		round_trip(&tr[k], src, expect);	/* warm-up */
	for (i = 0; i < n; i++)
		for (k = 0; k < nt; k++) {
			struct transport *t = &tr[(k + i) % nt];

			t->t[i] = round_trip(t, src, expect);
		}
	for (k = 0; k < nt; k++) {
		struct transport *t = &tr[k];
		double m = median(t->t, n);

		emit("handoff", t->name, "handoff_64MiB", m, "us", n);
		emit("handoff", t->name, "handoff_64MiB_rate",
		     gbps(SZ, m / 1e6), "GB/s", n);
		close(t->tx);
		close(t->rx);
		if (!t->kind)
			close(t->buf);
		kill(t->pid, SIGKILL);
		waitpid(t->pid, NULL, 0);
		free(t->t);
	}
	munmap(src, SZ);
}
