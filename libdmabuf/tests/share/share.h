/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Helpers of the fd-passing and channel tests: fd limits, memfds with a
 * pattern, child processes (forked, or re-executed from this program so
 * that they run outside valgrind and really hit RLIMIT_NOFILE). Fd
 * counting, timing and waiting for children are in testutil.h.
 */
#ifndef DMABUF_TEST_SHARE_H
#define DMABUF_TEST_SHARE_H

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <dmabuf/dmabuf.h>

#include "tap.h"
#include "testutil.h"

/* The fd number the next open() would get. */
static inline int lowest_free_fd(void)
{
	int fd = fcntl(0, F_DUPFD_CLOEXEC, 0);

	if (fd >= 0)
		close(fd);
	return fd;
}

static inline int unlimit_fds(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return -1;
	rl.rlim_cur = rl.rlim_max;
	return setrlimit(RLIMIT_NOFILE, &rl);
}

/* Lowers RLIMIT_NOFILE so that only @spare more fds can be opened. */
static inline int limit_fds(int spare)
{
	struct rlimit rl;

	if (unlimit_fds() || getrlimit(RLIMIT_NOFILE, &rl))
		return -1;
	rl.rlim_cur = lowest_free_fd() + spare;
	return setrlimit(RLIMIT_NOFILE, &rl);
}

/* The pattern of frame @seq: a word per 4 bytes. */
static inline uint32_t pattern(uint64_t seq, size_t i)
{
	return (uint32_t)(seq * 0x9e3779b1u) ^ (uint32_t)i;
}

static inline int fill_map(uint32_t *p, size_t size, uint64_t seq)
{
	size_t i;

	for (i = 0; i < size / 4; i++)
		p[i] = pattern(seq, i);
	return 0;
}

/* 1 if the mapping holds frame @seq's pattern. */
static inline int check_map(const uint32_t *p, size_t size, uint64_t seq)
{
	size_t i;

	for (i = 0; i < size / 4; i++)
		if (p[i] != pattern(seq, i))
			return 0;
	return 1;
}

/* Writes or checks the pattern through a temporary mapping of @fd. */
static inline int fill_fd(int fd, size_t size, uint64_t seq)
{
	void *p = mmap(NULL, size, PROT_WRITE, MAP_SHARED, fd, 0);

	if (p == MAP_FAILED)
		return -1;
	fill_map(p, size, seq);
	return munmap(p, size);
}

static inline int check_fd(int fd, size_t size, uint64_t seq)
{
	void *p = mmap(NULL, size, PROT_READ, MAP_SHARED, fd, 0);
	int ok;

	if (p == MAP_FAILED)
		return 0;
	ok = check_map(p, size, seq);
	munmap(p, size);
	return ok;
}

/*
 * A memfd of @size sealed against shrinking (what the channel accepts in
 * place of a dma-buf), or -1.
 */
static inline int sealed_memfd(size_t size)
{
	int fd = memfd_create("share-test", MFD_CLOEXEC | MFD_ALLOW_SEALING);

	if (fd < 0)
		return -1;
	if (ftruncate(fd, size) || fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* A sealed memfd of @size holding frame @seq's pattern, or -1. */
static inline int pattern_memfd(size_t size, uint64_t seq)
{
	int fd = sealed_memfd(size);

	if (fd < 0)
		return -1;
	if (fill_fd(fd, size, seq)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* An unsealed memfd of @size (the channel rejects it), or -1. */
static inline int plain_memfd(size_t size)
{
	int fd = memfd_create("share-test-plain", MFD_CLOEXEC);

	if (fd >= 0 && ftruncate(fd, size)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Not in every libc's headers yet (Linux 6.5) */
#ifndef SO_PASSPIDFD
#define SO_PASSPIDFD 76
#endif

/*
 * Sets SO_PASSCRED, SO_PASSPIDFD or SO_PASSSEC on @sock: 0, or -errno
 * (-ENOPROTOOPT: the running kernel does not know the option).
 */
static inline int set_pass(int sock, int opt)
{
	int one = 1;

	return setsockopt(sock, SOL_SOCKET, opt, &one, sizeof(one)) ? -errno
								      : 0;
}

/* 1 if @a and @b are the same open file (a duplicate or a passed fd). */
static inline int same_file(int a, int b)
{
	struct stat sa, sb;

	return !fstat(a, &sa) && !fstat(b, &sb) && sa.st_dev == sb.st_dev &&
	       sa.st_ino == sb.st_ino;
}

static inline int is_fifo(int fd)
{
	struct stat st;

	return !fstat(fd, &st) && S_ISFIFO(st.st_mode);
}

static inline int is_cloexec(int fd)
{
	int flags = fcntl(fd, F_GETFD);

	return flags >= 0 && (flags & FD_CLOEXEC);
}

/* Sends @n fds in a raw message, bypassing dmabuf_send_fds()'s checks. */
static inline int raw_send(int sock, const void *data, size_t len,
			   const int *fds, int n)
{
	union {
		struct cmsghdr hdr;
		char buf[CMSG_SPACE(sizeof(int) * 32)];
	} ctl;
	struct iovec iov = { .iov_base = (void *)data, .iov_len = len };
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct cmsghdr *cm;

	if (n) {
		memset(&ctl, 0, sizeof(ctl));
		msg.msg_control = ctl.buf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * n);
		cm = CMSG_FIRSTHDR(&msg);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * n);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * n);
	}
	return sendmsg(sock, &msg, MSG_NOSIGNAL) == (ssize_t)len ? 0 : -errno;
}

/* This program's path, for run_helper() (set by share_test_init()). */
static const char *self_exe;

/*
 * What every main() does first: SIGPIPE back to its default (a SIGPIPE
 * must kill the test) and self_exe set, from /proc/self/exe or @argv0.
 */
static inline void share_test_init(const char *argv0)
{
	static char exe[PATH_MAX];
	ssize_t n;

	signal(SIGPIPE, SIG_DFL);
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	self_exe = n > 0 ? exe : argv0;
}

/*
 * A socketpair @sv to a forked child: the child (0 returned) keeps sv[1],
 * the parent (the child's pid returned) sv[0]; each closes the other end.
 */
static inline pid_t fork_peer(int sv[2])
{
	pid_t pid;

	dmabuf_socketpair(sv);
	fflush(stdout);
	pid = fork();
	close(sv[pid ? 1 : 0]);
	return pid;
}

/*
 * Runs this program again as "@mode @arg" in a child, or "@mode @fd" with
 * @fd (if >= 0) inherited under its own number: an unrelated process image,
 * outside valgrind (which does not trace exec'd children by default).
 */
static inline pid_t run_helper(const char *mode, int fd, const char *arg)
{
	char num[16];
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid)
		return pid;
	snprintf(num, sizeof(num), "%d", fd);
	if (fd >= 0 && fcntl(fd, F_SETFD, 0))
		_exit(126);
	execl(self_exe, self_exe, mode, fd >= 0 ? num : arg, (char *)NULL);
	_exit(127);
}

#endif /* DMABUF_TEST_SHARE_H */
