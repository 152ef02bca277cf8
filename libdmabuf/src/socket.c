// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Passing fds between processes: AF_UNIX SOCK_SEQPACKET sockets, one
 * message per call, the fds as one SCM_RIGHTS control message.
 */
#include <poll.h>
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "sock.h"

/* Control buffer for DMABUF_MAX_FDS fds, aligned for struct cmsghdr. */
union fd_cmsg {
	struct cmsghdr hdr;
	char buf[CMSG_SPACE(sizeof(int) * DMABUF_MAX_FDS)];
};

/* Waits until @fd is ready for @events: 0, -ETIME, or a negative errno. */
static int wait_fd(int fd, short events, int64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = events };
	int ret;

	for (;;) {
		ret = poll(&p, 1, sock_left_ms(deadline));
		if (ret > 0)
			return p.revents & POLLNVAL ? -EBADF : 0;
		if (ret == 0 && !sock_left_ms(deadline))
			return -ETIME;
		if (ret == 0)
			continue;	/* woke up early */
		if (errno != EINTR && errno != EAGAIN)
			return dmabuf_neg_errno();
	}
}

static void close_fds(const int *fds, unsigned int n)
{
	while (n--)
		close(fds[n]);
}

static int seqpacket_socket(int flags)
{
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | flags, 0);

	return fd < 0 ? dmabuf_neg_errno() : fd;
}

/* "@name": abstract (no NUL needed); a path: NUL-terminated. */
static int make_addr(const char *path, struct sockaddr_un *sa, socklen_t *len)
{
	size_t n = path ? strlen(path) : 0;
	int abstract = n && path[0] == '@';

	if (!n || (abstract && n == 1))
		return -EINVAL;
	if (n + !abstract > sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	memcpy(sa->sun_path, path, n);
	if (abstract)
		sa->sun_path[0] = '\0';
	*len = offsetof(struct sockaddr_un, sun_path) + n + !abstract;
	return 0;
}

/* A socket file nobody listens on: connecting to it is refused. */
static int is_stale(const struct sockaddr_un *sa, socklen_t len)
{
	struct stat st;
	int fd, ret;

	if (lstat(sa->sun_path, &st) || !S_ISSOCK(st.st_mode))
		return 0;
	fd = seqpacket_socket(SOCK_NONBLOCK);
	if (fd < 0)
		return 0;
	ret = connect(fd, (const struct sockaddr *)sa, len) &&
	      errno == ECONNREFUSED;
	close(fd);
	return ret;
}

DMABUF_EXPORT int dmabuf_socketpair(int sv[2])
{
	if (!sv)
		return -EINVAL;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
		return dmabuf_neg_errno();
	return 0;
}

DMABUF_EXPORT int dmabuf_listen(const char *path)
{
	struct sockaddr_un sa;
	socklen_t len;
	int fd, ret;

	ret = make_addr(path, &sa, &len);
	if (ret)
		return ret;
	fd = seqpacket_socket(0);
	if (fd < 0)
		return fd;
	ret = bind(fd, (struct sockaddr *)&sa, len) ? dmabuf_neg_errno() : 0;
	if (ret == -EADDRINUSE && path[0] != '@' && is_stale(&sa, len)) {
		unlink(path);
		if (bind(fd, (struct sockaddr *)&sa, len) == 0)
			ret = 0;
	}
	if (!ret && listen(fd, SOMAXCONN))
		ret = dmabuf_neg_errno();
	if (ret) {
		close(fd);
		return ret;
	}
	return fd;
}

DMABUF_EXPORT int dmabuf_accept(int listen_fd, int timeout_ms)
{
	int64_t deadline = sock_deadline(timeout_ms);
	int fd, ret;

	if (listen_fd < 0)
		return -EBADF;
	for (;;) {
		ret = wait_fd(listen_fd, POLLIN, deadline);
		if (ret)
			return ret;
		fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd >= 0)
			return fd;
		/* EAGAIN: someone else took it; ECONNABORTED: it went away */
		if (errno != EINTR && errno != EAGAIN && errno != ECONNABORTED)
			return dmabuf_neg_errno();
	}
}

DMABUF_EXPORT int dmabuf_connect(const char *path)
{
	struct sockaddr_un sa;
	socklen_t len;
	int fd, ret;

	ret = make_addr(path, &sa, &len);
	if (ret)
		return ret;
	fd = seqpacket_socket(0);
	if (fd < 0)
		return fd;
	while (connect(fd, (struct sockaddr *)&sa, len)) {
		if (errno == EINTR || errno == EAGAIN)
			continue;
		ret = dmabuf_neg_errno();
		close(fd);
		return ret;
	}
	return fd;
}

DMABUF_EXPORT int dmabuf_send_fds(int sock, const void *data, size_t len,
				  const int *fds, unsigned int nfds)
{
	struct iovec iov = { .iov_base = (void *)data, .iov_len = len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	union fd_cmsg ctl;
	struct cmsghdr *cm;
	unsigned int i;
	ssize_t ret;

	if (sock < 0)
		return -EBADF;
	if (!data || !len || nfds > DMABUF_MAX_FDS || (nfds && !fds))
		return -EINVAL;
	for (i = 0; i < nfds; i++)
		if (fds[i] < 0)
			return -EBADF;
	if (nfds) {
		memset(&ctl, 0, sizeof(ctl));
		msg.msg_control = ctl.buf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * nfds);
	}
	for (;;) {
		ret = sendmsg(sock, &msg, MSG_NOSIGNAL);
		if (ret >= 0)
			return (size_t)ret == len ? 0 : -EIO;
		if (errno == EAGAIN) {	/* a non-blocking socket */
			ret = wait_fd(sock, POLLOUT, -1);
			if (ret)
				return ret;
		} else if (errno == EPIPE || errno == ECONNRESET ||
			   errno == ECONNREFUSED) {
			return -EPIPE;
		} else if (errno != EINTR) {
			return dmabuf_neg_errno();
		}
	}
}

/* Moves the SCM_RIGHTS fds of @msg to @fds; returns their count. */
static unsigned int take_fds(struct msghdr *msg, int *fds)
{
	struct cmsghdr *cm;
	unsigned int n = 0;
	size_t k;

	for (cm = CMSG_FIRSTHDR(msg); cm; cm = CMSG_NXTHDR(msg, cm)) {
		if (cm->cmsg_level != SOL_SOCKET || cm->cmsg_type != SCM_RIGHTS)
			continue;
		k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		if (k > DMABUF_MAX_FDS - n)	/* cannot be: buffer size */
			k = DMABUF_MAX_FDS - n;
		memcpy(fds + n, CMSG_DATA(cm), k * sizeof(int));
		n += k;
	}
	return n;
}

/* The peer has shut down its side (an empty read was not a message). */
static int hung_up(int sock)
{
	struct pollfd p = { .fd = sock, .events = POLLIN | POLLRDHUP };

	return poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLRDHUP));
}

ssize_t sock_recv(int sock, void *data, size_t len, int *fds,
		  unsigned int *nfds, int64_t deadline, int *lost)
{
	struct iovec iov = { .iov_base = data, .iov_len = len };
	int got[DMABUF_MAX_FDS];
	union fd_cmsg ctl;
	struct msghdr msg;
	unsigned int n;
	ssize_t ret;
	int ctrunc;

	*lost = 0;
	for (;;) {
		ret = wait_fd(sock, POLLIN, deadline);
		if (ret)
			return ret;
		memset(&msg, 0, sizeof(msg));
		msg.msg_iov = &iov;
		msg.msg_iovlen = 1;
		msg.msg_control = ctl.buf;
		msg.msg_controllen = sizeof(ctl.buf);
		ret = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
		if (ret >= 0)
			break;
		/*
		 * ECONNRESET: the peer died with messages of ours unread;
		 * reported once, what it sent before and the EOF follow.
		 */
		if (errno != EINTR && errno != EAGAIN && errno != ECONNRESET)
			return dmabuf_neg_errno();
	}
	n = take_fds(&msg, got);
	/*
	 * MSG_CTRUNC with room left in the buffer, which holds
	 * DMABUF_MAX_FDS: the kernel could not install the rest (EMFILE).
	 * With the buffer full: the peer sent more than DMABUF_MAX_FDS.
	 */
	ctrunc = !!(msg.msg_flags & MSG_CTRUNC);
	if (msg.msg_flags & MSG_TRUNC)
		ret = -EMSGSIZE;
	else if (!ret && (n || ctrunc || !hung_up(sock)))
		ret = -EPROTO;		/* an empty message, not EOF */
	else if (ctrunc && n >= DMABUF_MAX_FDS)
		ret = -EMSGSIZE;
	else if (ctrunc)
		*lost = 1;
	else if (n > *nfds)
		ret = -EMSGSIZE;
	if (ret < 0 || *lost) {
		close_fds(got, n);
		n = 0;
	}
	if (ret < 0)
		return ret;
	if (n)
		memcpy(fds, got, n * sizeof(int));
	*nfds = n;
	return ret;
}

DMABUF_EXPORT ssize_t dmabuf_recv_fds(int sock, void *data, size_t len,
				      int *fds, unsigned int *nfds,
				      int timeout_ms)
{
	unsigned int n = nfds ? *nfds : 0;
	ssize_t ret;
	int lost;

	if (sock < 0)
		return -EBADF;
	if (!data || !len || (n && !fds))
		return -EINVAL;
	ret = sock_recv(sock, data, len, fds, &n, sock_deadline(timeout_ms),
			&lost);
	if (ret >= 0 && lost)
		return -EMFILE;
	if (ret >= 0 && nfds)
		*nfds = n;
	return ret;
}
