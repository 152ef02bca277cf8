// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Passing fds between processes: AF_UNIX SOCK_SEQPACKET sockets, one
 * message per call, the fds as one SCM_RIGHTS control message.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "internal.h"

/* Not in every libc's headers yet (Linux 6.5, <asm-generic/socket.h>) */
#ifndef SCM_PIDFD
#define SCM_PIDFD 0x04
#endif

/*
 * Room for control messages besides the fds: the socket's owner may have
 * set SO_PASSCRED (struct ucred, 32 bytes with its header), SO_PASSPIDFD
 * (a pidfd, 24 bytes) or SO_PASSSEC (a security label, usually well under
 * 100 bytes).
 */
#define CTL_EXTRA 256

/* The receive control buffer, aligned for struct cmsghdr. */
union ctl_buf {
	struct cmsghdr hdr;
	char buf[CMSG_SPACE(sizeof(int) * DMABUF_MAX_FDS) + CTL_EXTRA];
};

/* The most fds the kernel can install into one such buffer. */
#define CTL_MAX_FDS (sizeof(union ctl_buf) / sizeof(int))

/* Control buffer for sending DMABUF_MAX_FDS fds. */
union send_ctl {
	struct cmsghdr hdr;
	char buf[CMSG_SPACE(sizeof(int) * DMABUF_MAX_FDS)];
};

/* Waits until @fd is ready for @events (or in error): 0, -ETIME, errno. */
static int wait_fd(int fd, short events, int64_t deadline)
{
	int ret = dmabuf_poll_until(fd, events, deadline);

	return ret < 0 ? ret : 0;
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

/*
 * Serialises dmabuf_listen() calls on paths in one directory: an flock()ed
 * fd of the directory of @path, or -1 if it cannot be opened (no lock).
 */
static int lock_dir(const char *path)
{
	const char *slash = strrchr(path, '/');
	char *dir;
	int fd;

	if (!slash)
		dir = strdup(".");
	else if (slash == path)
		dir = strdup("/");
	else
		dir = strndup(path, (size_t)(slash - path));
	if (!dir)
		return -1;
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(dir);
	if (fd < 0)
		return -1;
	while (flock(fd, LOCK_EX)) {
		if (errno != EINTR) {
			close(fd);
			return -1;
		}
	}
	return fd;
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
	int fd, ret, lock = -1;
	socklen_t len;

	ret = make_addr(path, &sa, &len);
	if (ret)
		return ret;
	/* non-blocking: dmabuf_accept() must not block in accept() */
	fd = seqpacket_socket(SOCK_NONBLOCK);
	if (fd < 0)
		return fd;
	/*
	 * A path: bind, the stale check and listen under the lock, so that
	 * another dmabuf_listen() never sees our socket bound but not yet
	 * listening (which looks stale) and never unlinks it.
	 */
	if (path[0] != '@')
		lock = lock_dir(path);
	ret = bind(fd, (struct sockaddr *)&sa, len) ? dmabuf_neg_errno() : 0;
	if (ret == -EADDRINUSE && path[0] != '@' && is_stale(&sa, len)) {
		unlink(path);
		if (bind(fd, (struct sockaddr *)&sa, len) == 0)
			ret = 0;
	}
	if (!ret && listen(fd, SOMAXCONN))
		ret = dmabuf_neg_errno();
	if (lock >= 0)
		close(lock);	/* releases the flock */
	if (ret) {
		close(fd);
		return ret;
	}
	return fd;
}

DMABUF_EXPORT int dmabuf_accept(int listen_fd, int timeout_ms)
{
	int64_t deadline = dmabuf_deadline(timeout_ms);
	socklen_t len = sizeof(int);
	int fd, ret, listening = 0;

	if (listen_fd < 0)
		return -EBADF;
	/* not a socket, or not listening: say so now, not at the timeout */
	if (getsockopt(listen_fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len))
		return dmabuf_neg_errno();
	if (!listening)
		return -EINVAL;
	for (;;) {
		ret = wait_fd(listen_fd, POLLIN, deadline);
		if (ret)
			return ret;
		/* a blocking accepted socket: it does not inherit O_NONBLOCK */
		fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd >= 0)
			return fd;
		/*
		 * EAGAIN: another thread or process took the connection;
		 * ECONNABORTED: it went away. Poll again until the deadline.
		 */
		if (errno != EINTR && errno != EAGAIN &&
		    errno != EWOULDBLOCK && errno != ECONNABORTED)
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

DMABUF_EXPORT int dmabuf_peer_cred(int sock, pid_t *pid, uid_t *uid,
				   gid_t *gid)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);

	if (sock < 0)
		return -EBADF;
	memset(&cred, 0, sizeof(cred));
	if (getsockopt(sock, SOL_SOCKET, SO_PEERCRED, &cred, &len))
		return dmabuf_neg_errno();
	/* an AF_UNIX socket without a peer reports pid 0 */
	if (len < sizeof(cred) || cred.pid <= 0)
		return -ENOTCONN;
	if (pid)
		*pid = cred.pid;
	if (uid)
		*uid = cred.uid;
	if (gid)
		*gid = cred.gid;
	return 0;
}

DMABUF_EXPORT int dmabuf_send_fds(int sock, const void *data, size_t len,
				  const int *fds, unsigned int nfds)
{
	struct iovec iov = { .iov_base = (void *)data, .iov_len = len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	union send_ctl ctl;
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

/*
 * Moves the SCM_RIGHTS fds of @msg to @fds (room for CTL_MAX_FDS) and
 * returns their count; *@rights_off: the offset of the first SCM_RIGHTS
 * message in the buffer, -1 if none. Closes the fds of every other control
 * message that carries some (SCM_PIDFD, from SO_PASSPIDFD); the others
 * (credentials, security labels) carry none and are ignored.
 */
static unsigned int take_fds(struct msghdr *msg, int *fds, long *rights_off)
{
	const char *base = msg->msg_control;
	struct cmsghdr *cm;
	unsigned int n = 0;
	size_t k, i;
	int fd;

	*rights_off = -1;
	for (cm = CMSG_FIRSTHDR(msg); cm; cm = CMSG_NXTHDR(msg, cm)) {
		if (cm->cmsg_level != SOL_SOCKET ||
		    cm->cmsg_len < CMSG_LEN(0))
			continue;
		k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		if (cm->cmsg_type == SCM_RIGHTS) {
			if (*rights_off < 0)
				*rights_off = (const char *)cm - base;
			if (k > CTL_MAX_FDS - n)	/* cannot be: buffer size */
				k = CTL_MAX_FDS - n;
			memcpy(fds + n, CMSG_DATA(cm), k * sizeof(int));
			n += k;
		} else if (cm->cmsg_type == SCM_PIDFD) {
			/* a pidfd, or a negative errno if it failed */
			for (i = 0; i < k; i++) {
				memcpy(&fd, CMSG_DATA(cm) + i * sizeof(int),
				       sizeof(int));
				if (fd >= 0)
					close(fd);
			}
		}
	}
	return n;
}

/* The peer has shut down its side (an empty read was not a message). */
static int hung_up(int sock)
{
	struct pollfd p = { .fd = sock, .events = POLLIN | POLLRDHUP };

	return poll(&p, 1, 0) == 1 && (p.revents & (POLLHUP | POLLRDHUP));
}

/*
 * MSG_CTRUNC: the fds that did not arrive could not be installed
 * (RLIMIT_NOFILE: -EMFILE), or did not fit (the peer sent too many). The
 * kernel installs fds while there is room for them after what it has put
 * in the buffer before the SCM_RIGHTS message (credentials, a security
 * label, a pidfd on some kernels): fewer fds than that room holds means
 * -EMFILE. Without an SCM_RIGHTS message, the room left at the end counts.
 */
static bool fds_lost(const struct msghdr *msg, size_t size, long rights_off,
		     unsigned int n)
{
	size_t used = msg->msg_controllen, room;

	if (rights_off >= 0)
		room = size - (size_t)rights_off;
	else
		room = used < size ? size - used : 0;
	if (room <= sizeof(struct cmsghdr))
		return false;
	return n < (room - sizeof(struct cmsghdr)) / sizeof(int);
}

ssize_t dmabuf_sock_recv(int sock, void *data, size_t len, int *fds,
			 unsigned int *nfds, int64_t deadline, int *lost)
{
	struct iovec iov = { .iov_base = data, .iov_len = len };
	int got[CTL_MAX_FDS];
	union ctl_buf ctl;
	struct msghdr msg;
	long rights_off;
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
	n = take_fds(&msg, got, &rights_off);
	ctrunc = !!(msg.msg_flags & MSG_CTRUNC);
	if (msg.msg_flags & MSG_TRUNC)
		ret = -EMSGSIZE;
	else if (!ret && (n || ctrunc || !hung_up(sock)))
		ret = -EPROTO;		/* an empty message, not EOF */
	else if (n > DMABUF_MAX_FDS)
		ret = -EMSGSIZE;
	else if (ctrunc && fds_lost(&msg, sizeof(ctl.buf), rights_off, n))
		*lost = 1;
	else if (ctrunc)
		ret = -EMSGSIZE;	/* more fds than the buffer holds */
	else if (n > *nfds)
		ret = -EMSGSIZE;
	if (ret < 0 || *lost) {
		dmabuf_close_fds(got, n);
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
	ret = dmabuf_sock_recv(sock, data, len, fds, &n,
			       dmabuf_deadline(timeout_ms), &lost);
	if (ret >= 0 && lost)
		return -EMFILE;
	if (ret >= 0 && nfds)
		*nfds = n;
	return ret;
}
