// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * fd passing: socketpair, listen/accept/connect over a path and an abstract
 * name, message boundaries, timeouts, truncation, too many fds, EMFILE,
 * a peer that has gone, and no fd leaked on any of these paths.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "share.h"

#define SZ 8192

static char tmpdir[] = "/tmp/share-test-XXXXXX";

/*
 * The far end of an exchange: receive a memfd with pattern 1, check it,
 * answer with a memfd holding pattern 2. Returns 0 or a failure code.
 */
static int answer(int sock)
{
	unsigned int n = 1;
	char msg[16];
	int fd, ret;

	if (dmabuf_recv_fds(sock, msg, sizeof(msg), &fd, &n, 10000) != 5 ||
	    n != 1 || memcmp(msg, "hello", 5))
		return 2;
	ret = is_cloexec(fd) && check_fd(fd, SZ, 1) ? 0 : 3;
	close(fd);
	if (ret)
		return ret;
	fd = pattern_memfd(SZ, 2);
	ret = dmabuf_send_fds(sock, "reply", 5, &fd, 1) ? 4 : 0;
	close(fd);
	return ret;
}

/* The near end: send pattern 1, expect pattern 2 back. */
static int ask(int sock)
{
	unsigned int n = 1;
	int fd, ret, ok;
	char msg[16];

	fd = pattern_memfd(SZ, 1);
	ret = dmabuf_send_fds(sock, "hello", 5, &fd, 1);
	close(fd);
	if (ret)
		return 0;
	if (dmabuf_recv_fds(sock, msg, sizeof(msg), &fd, &n, 10000) != 5 ||
	    n != 1 || memcmp(msg, "reply", 5))
		return 0;
	ok = check_fd(fd, SZ, 2);
	close(fd);
	return ok;
}

/* helper "connect PATH": an unrelated process that connects and answers */
static int helper_connect(const char *path)
{
	int sock = dmabuf_connect(path), ret;

	if (sock < 0)
		return 1;
	ret = answer(sock);
	close(sock);
	return ret;
}

/*
 * helper "emfile FD": receives two-fd messages with no room for even one
 * fd, then for one, then with the limit restored. Exit status: a bit per
 * failed check.
 */
static int helper_emfile(int sock, bool pass)
{
	int fds[2], before, low, st = 0;
	unsigned int n = 2;
	char msg[8];

	/* credentials and a pidfd take room too: -EMFILE all the same */
	if (pass && (set_pass(sock, SO_PASSCRED) ||
		     (set_pass(sock, SO_PASSPIDFD) &&
		      errno != ENOPROTOOPT)))
		return 32;
	before = count_fds();
	low = lowest_free_fd();
	if (limit_fds(0) || dmabuf_recv_fds(sock, msg, sizeof(msg), fds, &n,
					    10000) != -EMFILE || n != 2)
		st |= 1;
	if (limit_fds(1) || dmabuf_recv_fds(sock, msg, sizeof(msg), fds, &n,
					    10000) != -EMFILE || n != 2)
		st |= 2;
	if (unlimit_fds() || count_fds() != before || lowest_free_fd() != low)
		st |= 4;
	if (dmabuf_recv_fds(sock, msg, sizeof(msg), fds, &n, 10000) != 3 ||
	    n != 2 || memcmp(msg, "3rd", 3) || !check_fd(fds[0], SZ, 3))
		st |= 8;
	else
		close(fds[0]), close(fds[1]);
	close(sock);
	return st;
}

static void test_socketpair(void)
{
	int sv[2], type = 0;
	socklen_t len = sizeof(type);

	tap_ok(dmabuf_socketpair(NULL) == -EINVAL, "socketpair(NULL): -EINVAL");
	if (!tap_ok(dmabuf_socketpair(sv) == 0, "socketpair"))
		return;
	getsockopt(sv[0], SOL_SOCKET, SO_TYPE, &type, &len);
	tap_ok(type == SOCK_SEQPACKET && is_cloexec(sv[0]) && is_cloexec(sv[1]),
	       "socketpair: SOCK_SEQPACKET, both O_CLOEXEC");
	close(sv[0]);
	close(sv[1]);
}

static void test_args(void)
{
	char buf[4], name[200];
	unsigned int n = 1;
	int fd = -1, sv[2];

	dmabuf_socketpair(sv);
	memset(name, 'x', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	tap_ok(dmabuf_send_fds(-1, "x", 1, NULL, 0) == -EBADF &&
	       dmabuf_send_fds(sv[0], NULL, 1, NULL, 0) == -EINVAL &&
	       dmabuf_send_fds(sv[0], "x", 0, NULL, 0) == -EINVAL &&
	       dmabuf_send_fds(sv[0], "x", 1, NULL, 1) == -EINVAL &&
	       dmabuf_send_fds(sv[0], "x", 1, &fd, 1) == -EBADF,
	       "send_fds: bad fd, NULL data, empty, NULL fds, fd -1 rejected");
	tap_ok(dmabuf_recv_fds(-1, buf, 4, NULL, NULL, 0) == -EBADF &&
	       dmabuf_recv_fds(sv[1], NULL, 4, NULL, NULL, 0) == -EINVAL &&
	       dmabuf_recv_fds(sv[1], buf, 0, NULL, NULL, 0) == -EINVAL &&
	       dmabuf_recv_fds(sv[1], buf, 4, NULL, &n, 0) == -EINVAL &&
	       dmabuf_accept(-1, 0) == -EBADF &&
	       dmabuf_accept(sv[0], 1000) == -EINVAL,
	       "recv_fds, accept: bad arguments rejected; accept on a socket "
	       "that does not listen: -EINVAL at once");
	tap_ok(dmabuf_listen(NULL) == -EINVAL && dmabuf_listen("") == -EINVAL &&
	       dmabuf_listen("@") == -EINVAL &&
	       dmabuf_connect(NULL) == -EINVAL &&
	       dmabuf_listen(name) == -ENAMETOOLONG &&
	       dmabuf_connect(name) == -ENAMETOOLONG,
	       "listen, connect: empty and too long names rejected");
	name[0] = '@';
	name[109] = '\0';
	tap_ok(dmabuf_listen(name) == -ENAMETOOLONG,
	       "listen: abstract name of 108 bytes: -ENAMETOOLONG");
	close(sv[0]);
	close(sv[1]);
}

static void test_boundaries(void)
{
	static char big[3000], in[4096];
	size_t lens[3] = { 1, 100, sizeof(big) };
	int sv[2], i, ok = 1;
	ssize_t r;

	for (i = 0; i < (int)sizeof(big); i++)
		big[i] = (char)(i * 7);
	dmabuf_socketpair(sv);
	for (i = 0; i < 3; i++)
		ok &= !dmabuf_send_fds(sv[0], big, lens[i], NULL, 0);
	for (i = 0; i < 3; i++) {
		r = dmabuf_recv_fds(sv[1], in, sizeof(in), NULL, NULL, 1000);
		ok &= r == (ssize_t)lens[i] && !memcmp(in, big, lens[i]);
	}
	tap_ok(ok, "messages of 1, 100, 3000 bytes arrive whole and apart");
	close(sv[0]);
	close(sv[1]);
}

static void test_pass_local(void)
{
	int sv[2], p[2], fds[3], got[3], ok;
	unsigned int n = 3;
	char buf[8];

	dmabuf_socketpair(sv);
	pipe2(p, O_CLOEXEC);
	fds[0] = pattern_memfd(SZ, 7);
	fds[1] = p[0];
	fds[2] = p[1];
	ok = !dmabuf_send_fds(sv[0], "abc", 3, fds, 3);
	ok &= dmabuf_recv_fds(sv[1], buf, sizeof(buf), got, &n, 1000) == 3;
	if (tap_ok(ok && n == 3, "three fds in one message")) {
		tap_ok(same_file(got[0], fds[0]) && same_file(got[1], p[0]) &&
		       same_file(got[2], p[1]) && check_fd(got[0], SZ, 7) &&
		       is_cloexec(got[0]) && is_cloexec(got[1]) &&
		       is_cloexec(got[2]),
		       "received: same files, in order, O_CLOEXEC, intact");
		close(got[0]);
		close(got[1]);
		close(got[2]);
	} else {
		tap_ok(0, "received fds");
	}
	close(fds[0]);
	close(p[0]);
	close(p[1]);
	close(sv[0]);
	close(sv[1]);
}

static void test_fork(void)
{
	int sv[2];
	pid_t pid;

	pid = fork_peer(sv);
	if (!pid)
		_exit(answer(sv[1]));
	tap_ok(ask(sv[0]), "fork: memfds both ways, contents intact");
	tap_ok(wait_child(pid) == 0, "fork: child checked what it received");
	close(sv[0]);
}

static void test_timeouts(void)
{
	int sv[2], l, ret;
	char buf[4], name[64];
	int64_t t;

	dmabuf_socketpair(sv);
	t = now_ms();
	ret = dmabuf_recv_fds(sv[1], buf, 4, NULL, NULL, 0);
	tap_ok(ret == -ETIME && now_ms() - t < 1000,
	       "recv, 0 ms: -ETIME at once");
	t = now_ms();
	ret = dmabuf_recv_fds(sv[1], buf, 4, NULL, NULL, 150);
	t = now_ms() - t;
	tap_ok(ret == -ETIME && t >= 150 && t < 5000,
	       "recv, 150 ms: -ETIME after %lld ms", (long long)t);
	snprintf(name, sizeof(name), "@sgbuf-share-test-%d", getpid());
	l = dmabuf_listen(name);
	t = now_ms();
	ret = dmabuf_accept(l, 100);
	t = now_ms() - t;
	tap_ok(l >= 0 && dmabuf_accept(l, 0) == -ETIME && ret == -ETIME &&
	       t >= 100 && t < 5000, "accept: -ETIME after %lld ms",
	       (long long)t);
	close(l);
	close(sv[0]);
	close(sv[1]);
}

static void test_truncated(void)
{
	int sv[2], fds[2], got[2] = { -1, -1 }, before = count_fds(), big[20];
	unsigned int n = 2;
	char data[200] = "long", buf[100];
	int i, ok;

	dmabuf_socketpair(sv);
	fds[0] = pattern_memfd(SZ, 1);
	fds[1] = pattern_memfd(SZ, 2);
	before = count_fds();
	dmabuf_send_fds(sv[0], data, sizeof(data), fds, 2);
	dmabuf_send_fds(sv[0], "next", 4, NULL, 0);
	ok = dmabuf_recv_fds(sv[1], buf, sizeof(buf), got, &n, 1000) ==
	     -EMSGSIZE;
	tap_ok(ok && n == 2 && got[0] == -1 && count_fds() == before,
	       "200-byte message into 100 bytes: -EMSGSIZE, its fds closed");
	tap_ok(dmabuf_recv_fds(sv[1], buf, sizeof(buf), got, &n, 1000) == 4 &&
	       n == 0 && !memcmp(buf, "next", 4),
	       "the next message is intact");

	n = 1;
	dmabuf_send_fds(sv[0], "two", 3, fds, 2);
	tap_ok(dmabuf_recv_fds(sv[1], buf, sizeof(buf), got, &n, 1000) ==
	       -EMSGSIZE && n == 1 && count_fds() == before,
	       "two fds, room for one: -EMSGSIZE, both closed");
	n = 2;
	dmabuf_send_fds(sv[0], "two", 3, fds, 2);
	tap_ok(dmabuf_recv_fds(sv[1], buf, sizeof(buf), NULL, NULL, 1000) ==
	       -EMSGSIZE && count_fds() == before,
	       "two fds, nfds NULL: -EMSGSIZE, both closed");

	tap_ok(dmabuf_send_fds(sv[0], "x", 1, big, DMABUF_MAX_FDS + 1) ==
	       -EINVAL, "send of DMABUF_MAX_FDS + 1 fds: -EINVAL");
	for (i = 0; i < 20; i++)
		big[i] = fds[i % 2];
	raw_send(sv[0], "many", 4, big, 20);
	n = 2;
	tap_ok(dmabuf_recv_fds(sv[1], buf, sizeof(buf), got, &n, 1000) ==
	       -EMSGSIZE && count_fds() == before,
	       "20 fds from a raw peer: -EMSGSIZE, every one closed");
	raw_send(sv[0], "", 0, fds, 1);
	tap_ok(dmabuf_recv_fds(sv[1], buf, sizeof(buf), got, &n, 1000) ==
	       -EPROTO && count_fds() == before,
	       "empty message with an fd: -EPROTO (not end of stream), closed");
	raw_send(sv[0], "", 0, NULL, 0);
	tap_ok(dmabuf_recv_fds(sv[1], buf, sizeof(buf), got, &n, 0) == -EPROTO,
	       "empty message: -EPROTO while the peer is alive");
	close(fds[0]);
	close(fds[1]);
	close(sv[0]);
	close(sv[1]);
}

static void test_peer_gone(void)
{
	int sv[2], fd = pattern_memfd(SZ, 1);
	unsigned int n = 1;
	char buf[8];

	dmabuf_socketpair(sv);
	dmabuf_send_fds(sv[0], "last", 4, &fd, 1);
	close(sv[0]);
	close(fd);
	tap_ok(dmabuf_recv_fds(sv[1], buf, sizeof(buf), &fd, &n, 1000) == 4 &&
	       n == 1 && check_fd(fd, SZ, 1),
	       "what was sent before the close still arrives");
	close(fd);
	tap_ok(dmabuf_recv_fds(sv[1], buf, 8, NULL, NULL, 1000) == 0 &&
	       dmabuf_recv_fds(sv[1], buf, 8, NULL, NULL, 0) == 0,
	       "then 0: end of stream");
	tap_ok(dmabuf_send_fds(sv[1], "x", 1, NULL, 0) == -EPIPE,
	       "send to a closed peer: -EPIPE, no SIGPIPE");
	close(sv[1]);

	/* the peer dies with a message of ours unread: ECONNRESET inside */
	dmabuf_socketpair(sv);
	dmabuf_send_fds(sv[0], "unread", 6, NULL, 0);
	dmabuf_send_fds(sv[1], "bye", 3, NULL, 0);
	close(sv[1]);
	tap_ok(dmabuf_recv_fds(sv[0], buf, 8, NULL, NULL, 1000) == 3 &&
	       dmabuf_recv_fds(sv[0], buf, 8, NULL, NULL, 1000) == 0 &&
	       dmabuf_send_fds(sv[0], "x", 1, NULL, 0) == -EPIPE,
	       "peer closed, our message unread: its last message, 0, -EPIPE");
	close(sv[0]);
}

static void test_unrelated(const char *name, const char *what)
{
	int l = dmabuf_listen(name), c = -1, ok;
	pid_t pid;

	if (!tap_ok(l >= 0 && is_cloexec(l) &&
		    (fcntl(l, F_GETFL) & O_NONBLOCK), "listen on %s: O_CLOEXEC, "
		    "O_NONBLOCK", what)) {
		tap_skip("no listening socket");
		if (l >= 0)
			close(l);
		return;
	}
	pid_t peer = 0;
	uid_t uid = 0;

	pid = run_helper("connect", -1, name);
	c = dmabuf_accept(l, 10000);
	ok = c >= 0 && is_cloexec(c) && !(fcntl(c, F_GETFL) & O_NONBLOCK) &&
	     !dmabuf_peer_cred(c, &peer, &uid, NULL) && peer == pid &&
	     uid == geteuid() && ask(c);
	tap_ok(ok && wait_child(pid) == 0,
	       "%s: exec'd process connects (peer_cred: its pid), memfds both "
	       "ways intact", what);
	if (c >= 0)
		close(c);
	close(l);
}

static void test_stale(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char path[128], name[64];
	int s, l, l2, c;

	snprintf(path, sizeof(path), "%s/stale", tmpdir);
	strcpy(sa.sun_path, path);
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bind(s, (struct sockaddr *)&sa, sizeof(sa));
	listen(s, 1);
	tap_ok(dmabuf_listen(path) == -EADDRINUSE,
	       "listen where a SOCK_STREAM socket listens: -EADDRINUSE");
	close(s);
	tap_ok(dmabuf_connect(path) == -ECONNREFUSED,
	       "connect to a socket file nobody listens on: -ECONNREFUSED");
	l = dmabuf_listen(path);
	c = dmabuf_connect(path);
	tap_ok(l >= 0 && c >= 0, "a stale socket file is replaced");
	tap_ok(dmabuf_listen(path) == -EADDRINUSE,
	       "listen where someone listens: -EADDRINUSE");
	if (c >= 0)
		close(c);
	if (l >= 0)
		close(l);
	unlink(path);

	snprintf(path, sizeof(path), "%s/file", tmpdir);
	close(open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600));
	tap_ok(dmabuf_listen(path) == -EADDRINUSE && access(path, F_OK) == 0,
	       "a regular file is not replaced: -EADDRINUSE");
	unlink(path);
	tap_ok(dmabuf_connect(path) == -ENOENT, "connect to nothing: -ENOENT");

	snprintf(name, sizeof(name), "@sgbuf-share-dup-%d", getpid());
	l = dmabuf_listen(name);
	l2 = dmabuf_listen(name);
	tap_ok(l >= 0 && l2 == -EADDRINUSE,
	       "abstract name in use: -EADDRINUSE");
	close(l);
}

static void test_emfile(const char *mode, const char *how)
{
	int sv[2], fds[2];
	pid_t pid;
	int st;

	dmabuf_socketpair(sv);
	fds[0] = pattern_memfd(SZ, 3);
	fds[1] = pattern_memfd(SZ, 4);
	pid = run_helper(mode, sv[1], NULL);
	close(sv[1]);
	dmabuf_send_fds(sv[0], "1st", 3, fds, 2);
	dmabuf_send_fds(sv[0], "2nd", 3, fds, 2);
	dmabuf_send_fds(sv[0], "3rd", 3, fds, 2);
	st = wait_child(pid);
	tap_ok(st >= 0 && !(st & 33), "%sEMFILE, no fd installable: -EMFILE",
	       how);
	tap_ok(st >= 0 && !(st & 2), "%sEMFILE after one fd installed: -EMFILE",
	       how);
	tap_ok(st >= 0 && !(st & 4),
	       "%sEMFILE: no fd left open in the receiver", how);
	tap_ok(st >= 0 && !(st & 8),
	       "%sEMFILE: the next message arrives whole", how);
	close(fds[0]);
	close(fds[1]);
	close(sv[0]);
}

/*
 * SO_PASSCRED on the receiving socket: the credentials take room in the
 * control buffer, which must still hold DMABUF_MAX_FDS fds (a false
 * -EMFILE otherwise); SO_PASSSEC may add a label.
 */
static void test_passcred(void)
{
	int sv[2], fds[DMABUF_MAX_FDS], got[DMABUF_MAX_FDS], i, ok;
	unsigned int n = DMABUF_MAX_FDS;
	int before, sec;
	char buf[8];
	ssize_t r;

	dmabuf_socketpair(sv);
	for (i = 0; i < DMABUF_MAX_FDS; i++)
		fds[i] = pattern_memfd(SZ, (uint64_t)i);
	before = count_fds();
	ok = !set_pass(sv[1], SO_PASSCRED);
	sec = set_pass(sv[1], SO_PASSSEC);
	tap_ok(ok && (!sec || sec == -ENOPROTOOPT),
	       "SO_PASSCRED and SO_PASSSEC set on the receiver (%d)", sec);
	dmabuf_send_fds(sv[0], "sixteen", 7, fds, DMABUF_MAX_FDS);
	r = dmabuf_recv_fds(sv[1], buf, sizeof(buf), got, &n, 1000);
	ok = r == 7 && n == DMABUF_MAX_FDS;
	for (i = 0; ok && i < DMABUF_MAX_FDS; i++)
		ok = same_file(got[i], fds[i]);
	tap_ok(ok, "SO_PASSCRED: %d fds arrive whole, no false -EMFILE (%zd)",
	       DMABUF_MAX_FDS, r);
	for (i = 0; r == 7 && i < (int)n; i++)
		close(got[i]);
	dmabuf_send_fds(sv[0], "none", 4, NULL, 0);
	n = DMABUF_MAX_FDS;
	tap_ok(dmabuf_recv_fds(sv[1], buf, sizeof(buf), got, &n, 1000) == 4 &&
	       n == 0 && count_fds() == before,
	       "SO_PASSCRED: a message without fds: none, nothing left open");
	for (i = 0; i < DMABUF_MAX_FDS; i++)
		close(fds[i]);
	close(sv[0]);
	close(sv[1]);
}

#define PIDFD_MSGS 50

/*
 * SO_PASSPIDFD on the receiving socket: every message brings a pidfd,
 * which must be closed, not leaked; and it takes room in the control
 * buffer too.
 */
static void test_passpidfd(void)
{
	int sv[2], fds[DMABUF_MAX_FDS], got[DMABUF_MAX_FDS], i, ret, ok = 1;
	unsigned int n;
	int before;
	char buf[8];

	dmabuf_socketpair(sv);
	ret = set_pass(sv[1], SO_PASSPIDFD);
	if (ret == -ENOPROTOOPT) {
		for (i = 0; i < 3; i++)
			tap_skip("SO_PASSPIDFD: not known to this kernel "
				 "(Linux 6.5 added it)");
		close(sv[0]);
		close(sv[1]);
		return;
	}
	tap_ok(!ret && !set_pass(sv[1], SO_PASSCRED),
	       "SO_PASSPIDFD and SO_PASSCRED set on the receiver");
	for (i = 0; i < DMABUF_MAX_FDS; i++)
		fds[i] = pattern_memfd(SZ, (uint64_t)i);
	before = count_fds();
	for (i = 0; i < PIDFD_MSGS; i++) {
		n = 1;
		ok &= !dmabuf_send_fds(sv[0], "pid", 3, fds, 1) &&
		      dmabuf_recv_fds(sv[1], buf, sizeof(buf), got, &n,
				      1000) == 3 && n == 1 &&
		      same_file(got[0], fds[0]);
		if (n == 1)
			close(got[0]);
	}
	tap_ok(ok && count_fds() == before,
	       "SO_PASSPIDFD: %d messages, their pidfds closed (%d left open)",
	       PIDFD_MSGS, count_fds() - before);
	n = DMABUF_MAX_FDS;
	dmabuf_send_fds(sv[0], "sixteen", 7, fds, DMABUF_MAX_FDS);
	ret = (int)dmabuf_recv_fds(sv[1], buf, sizeof(buf), got, &n, 1000);
	tap_ok(ret == 7 && n == DMABUF_MAX_FDS,
	       "SO_PASSPIDFD + SO_PASSCRED: %d fds still fit (%d)",
	       DMABUF_MAX_FDS, ret);
	for (i = 0; ret == 7 && i < (int)n; i++)
		close(got[i]);
	for (i = 0; i < DMABUF_MAX_FDS; i++)
		close(fds[i]);
	close(sv[0]);
	close(sv[1]);
}

#define ACCEPTERS 3
#define ACCEPT_ROUNDS 6

/*
 * ACCEPTERS processes accept on one listening socket with a timeout; one
 * connection comes, and wakes them all. Those that lose the race must
 * return -ETIME at their deadline, not block in accept(). The race is
 * lost inside the library only now and then, hence several rounds.
 */
static void test_accept_race(void)
{
	int l, c, st, i, r, got, timed_out, bad = 0, hung = 0;
	pid_t pid[ACCEPTERS];
	char name[64];

	for (r = 0; r < ACCEPT_ROUNDS; r++) {
		snprintf(name, sizeof(name), "@sgbuf-share-race-%d-%d",
			 getpid(), r);
		l = dmabuf_listen(name);
		fflush(stdout);
		for (i = 0; i < ACCEPTERS; i++) {
			pid[i] = fork();
			if (!pid[i]) {
				int64_t t = now_ms();
				int fd = dmabuf_accept(l, 600);

				t = now_ms() - t;
				if (fd >= 0)
					_exit(0);
				_exit(fd == -ETIME && t >= 600 && t < 3000 ?
				      1 : 2);
			}
		}
		sleep_ms(200);
		c = dmabuf_connect(name);
		got = timed_out = 0;
		for (i = 0; i < ACCEPTERS; i++) {
			st = wait_child_ms(pid[i], 4000);
			got += st == 0;
			timed_out += st == 1;
			hung += st == -2;
		}
		bad += l < 0 || c < 0 || got != 1 ||
		       timed_out != ACCEPTERS - 1;
		if (c >= 0)
			close(c);
		close(l);
	}
	tap_ok(!bad, "%d accepts, one connection, %d rounds: one gets it, "
	       "the others -ETIME on time (%d rounds wrong, %d hung)",
	       ACCEPTERS, ACCEPT_ROUNDS, bad, hung);
}

/* dmabuf_peer_cred() of a socketpair, and its errors */
static void test_peer_cred(void)
{
	pid_t pid = 0;
	uid_t uid = 0;
	gid_t gid = 0;
	int sv[2], p[2], s;

	dmabuf_socketpair(sv);
	pipe2(p, O_CLOEXEC);
	tap_ok(!dmabuf_peer_cred(sv[0], &pid, &uid, &gid) &&
	       pid == getpid() && uid == geteuid() && gid == getegid() &&
	       !dmabuf_peer_cred(sv[1], NULL, NULL, NULL),
	       "peer_cred of a socketpair: this process, uid, gid");
	s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	tap_ok(dmabuf_peer_cred(-1, &pid, NULL, NULL) == -EBADF &&
	       dmabuf_peer_cred(closed_fd(), &pid, NULL, NULL) == -EBADF &&
	       dmabuf_peer_cred(p[0], &pid, NULL, NULL) == -ENOTSOCK &&
	       dmabuf_peer_cred(s, &pid, NULL, NULL) == -ENOTCONN,
	       "peer_cred: -EBADF, -ENOTSOCK for a pipe, -ENOTCONN unconnected");
	close(s);
	close(p[0]);
	close(p[1]);
	close(sv[0]);
	close(sv[1]);
}

/*
 * @name holds a prefix of @n bytes; filled up to @max bytes with @fill, it
 * is the longest name that works (listen, connect), and one byte more is
 * -ENAMETOOLONG. @what says which kind.
 */
static void check_name_length(char *name, size_t n, size_t max, char fill,
			      const char *what)
{
	int l, c;

	memset(name + n, fill, max - n);
	name[max] = '\0';
	l = dmabuf_listen(name);
	c = l >= 0 ? dmabuf_connect(name) : -1;
	tap_ok(strlen(name) == max && l >= 0 && c >= 0,
	       "%s 107 bytes: listen and connect (%d, %d)", what, l, c);
	if (c >= 0)
		close(c);
	if (l >= 0)
		close(l);
	if (name[0] != '@')
		unlink(name);
	name[max] = fill;
	name[max + 1] = '\0';
	tap_ok(dmabuf_listen(name) == -ENAMETOOLONG &&
	       dmabuf_connect(name) == -ENAMETOOLONG,
	       "%s 108 bytes: -ENAMETOOLONG", what);
}

/*
 * Names of the largest length: a 107-byte path and "@" + 107 bytes work;
 * one byte more is -ENAMETOOLONG.
 */
static void test_name_lengths(void)
{
	char path[160], name[160];
	size_t n;

	n = (size_t)snprintf(path, sizeof(path), "%s/", tmpdir);
	check_name_length(path, n, 107, 'p', "a path of");
	n = (size_t)snprintf(name, sizeof(name), "@sgbuf-len-%d-", getpid());
	check_name_length(name, n, 108, 'a', "\"@\" and");
}

#define RACERS 6

/*
 * RACERS processes call dmabuf_listen() on one stale socket file at once:
 * exactly one replaces it and listens, the others find it in use, and a
 * connect reaches the one that won.
 */
static void test_listen_race(void)
{
	int go[2], res[2], done[2], i, wins = 0, busy = 0, c = -1, st, ok = 1;
	char path[128], r;
	pid_t pid[RACERS];
	int l;

	snprintf(path, sizeof(path), "%s/race", tmpdir);
	l = dmabuf_listen(path);
	close(l);		/* the file stays: stale */
	if (pipe2(go, O_CLOEXEC) || pipe2(res, O_CLOEXEC) ||
	    pipe2(done, O_CLOEXEC))
		return;
	fflush(stdout);
	for (i = 0; i < RACERS; i++) {
		pid[i] = fork();
		if (!pid[i]) {
			int fd;

			close(go[1]);
			close(done[1]);
			if (read(go[0], &r, 1) != 0)
				_exit(4);
			fd = dmabuf_listen(path);
			r = fd >= 0 ? 'L' : fd == -EADDRINUSE ? 'B' : 'E';
			if (write(res[1], &r, 1) != 1)
				_exit(5);
			/* everyone stays until the parent has connected */
			if (read(done[0], &r, 1) != 0)
				_exit(6);
			_exit(0);
		}
	}
	close(go[0]);
	close(go[1]);		/* go */
	close(done[0]);
	for (i = 0; i < RACERS; i++) {
		if (read(res[0], &r, 1) != 1)
			break;
		wins += r == 'L';
		busy += r == 'B';
	}
	if (wins)
		c = dmabuf_connect(path);
	close(done[1]);
	for (i = 0; i < RACERS; i++) {
		st = wait_child_ms(pid[i], 10000);
		ok &= st == 0;
	}
	tap_ok(wins == 1 && busy == RACERS - 1 && c >= 0 && ok,
	       "%d listens on one stale path at once: %d won, %d in use, "
	       "connect reaches the winner", RACERS, wins, busy);
	if (c >= 0)
		close(c);
	close(res[0]);
	close(res[1]);
	unlink(path);
}

int main(int argc, char **argv)
{
	int before;

	share_test_init(argv[0]);
	if (argc == 3 && !strcmp(argv[1], "connect"))
		return helper_connect(argv[2]);
	if (argc == 3 && !strcmp(argv[1], "emfile"))
		return helper_emfile(atoi(argv[2]), false);
	if (argc == 3 && !strcmp(argv[1], "emfile-pass"))
		return helper_emfile(atoi(argv[2]), true);

	if (!mkdtemp(tmpdir))
		return 1;
	before = count_fds();
	tap_plan(61);
	test_socketpair();
	test_args();
	test_boundaries();
	test_pass_local();
	test_fork();
	test_timeouts();
	test_truncated();
	test_peer_gone();
	{
		char path[128], name[64];

		snprintf(path, sizeof(path), "%s/sock", tmpdir);
		snprintf(name, sizeof(name), "@sgbuf-share-%d", getpid());
		test_unrelated(path, "a path");
		test_unrelated(name, "an abstract name");
		unlink(path);
	}
	test_stale();
	test_emfile("emfile", "");
	test_emfile("emfile-pass", "SO_PASSCRED, SO_PASSPIDFD: ");
	test_passcred();
	test_passpidfd();
	test_accept_race();
	test_peer_cred();
	test_name_lengths();
	test_listen_race();
	tap_ok(count_fds() == before, "no fd leaked over the whole run (%d)",
	       count_fds() - before);
	rmdir(tmpdir);
	return tap_done();
}
