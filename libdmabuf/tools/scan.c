// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Collects every dma-buf of the system (see scan.h) from:
 *  - /sys/kernel/debug/dma_buf/bufinfo, where readable: every buffer, also
 *    those only the kernel holds, with its attached devices. A row is
 *    "size\tflags\tmode\tcount\texp_name\tino\tname" (name "<none>" if
 *    unnamed), then tab-indented fence lines, "\tAttached Devices:" and a
 *    "\t<device>" line per attachment (6.1 and 6.12 alike);
 *  - /proc/<pid>/fd/<n>: a dma-buf's link reads "/dmabuf:<name>", and its
 *    /proc/<pid>/fdinfo/<n> has size, count, exp_name, name and ino;
 *  - /proc/<pid>/maps: a mapping of a dma-buf has the path "/dmabuf:<name>"
 *    and the buffer's inode in the inode column.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scan.h"

#define BUFINFO "/sys/kernel/debug/dma_buf/bufinfo"
#define DMABUF_PATH "/dmabuf:"

/* Room for element @n in *@arr of *@cap elements. */
static int reserve(void **arr, size_t *cap, size_t n, size_t elsize)
{
	size_t ncap = *cap ? 2 * *cap : 8;
	void *p;

	if (n < *cap)
		return 0;
	p = realloc(*arr, ncap * elsize);
	if (!p)
		return -ENOMEM;
	*arr = p;
	*cap = ncap;
	return 0;
}

struct sbuf *scan_buf(struct scan *s, uint64_t inode)
{
	struct sbuf *b;
	size_t i;

	for (i = 0; i < s->nbufs; i++)
		if (s->bufs[i].inode == inode)
			return &s->bufs[i];
	if (reserve((void **)&s->bufs, &s->capbufs, s->nbufs, sizeof(*b)))
		return NULL;
	b = &s->bufs[s->nbufs++];
	memset(b, 0, sizeof(*b));
	b->inode = inode;
	b->count = -1;
	return b;
}

static int add_hold(struct sbuf *b, pid_t pid, int fd, uint64_t mapped)
{
	if (reserve((void **)&b->holds, &b->capholds, b->nholds,
		    sizeof(*b->holds)))
		return -ENOMEM;
	b->holds[b->nholds++] = (struct hold){ pid, fd, mapped };
	return 0;
}

static int add_attached(struct sbuf *b, const char *dev)
{
	size_t old = b->attached ? strlen(b->attached) : 0;
	char *p = realloc(b->attached, old + strlen(dev) + 3);

	if (!p)
		return -ENOMEM;
	b->attached = p;
	sprintf(p + old, "%s%s", old ? ", " : "", dev);
	return 0;
}

/* Splits a bufinfo row into its 7 fields; the name is the rest. */
static int split_row(char *line, char *field[7])
{
	int i;

	if (!isdigit((unsigned char)line[0]))
		return -EINVAL;
	for (i = 0; i < 6; i++) {
		field[i] = line;
		line = strchr(line, '\t');
		if (!line)
			return -EINVAL;
		*line++ = '\0';
	}
	field[6] = line;
	line[strcspn(line, "\n")] = '\0';
	return 0;
}

static struct sbuf *bufinfo_row(struct scan *s, char *line)
{
	char *f[7];
	struct sbuf *b;

	if (split_row(line, f))
		return NULL;
	b = scan_buf(s, strtoull(f[5], NULL, 10));
	if (!b)
		return NULL;
	b->in_bufinfo = true;
	b->size = strtoull(f[0], NULL, 10);
	b->count = strtoll(f[3], NULL, 10);
	snprintf(b->exporter, sizeof(b->exporter), "%s", f[4]);
	if (strcmp(f[6], "<none>"))
		snprintf(b->name, sizeof(b->name), "%s", f[6]);
	return b;
}

int scan_bufinfo(struct scan *s, const char *path)
{
	struct sbuf *cur = NULL;
	bool devices = false;
	char *line = NULL;
	size_t cap = 0;
	int ret = 0;
	FILE *f;

	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (getline(&line, &cap, f) > 0) {
		if (line[0] != '\t') {
			cur = bufinfo_row(s, line);
			devices = false;
		} else if (cur && !strcmp(line, "\tAttached Devices:\n")) {
			devices = true;
		} else if (cur && devices) {
			line[strcspn(line, "\n")] = '\0';
			ret = add_attached(cur, line + 1);
		}
	}
	if (ferror(f))
		ret = -EIO;
	free(line);
	fclose(f);
	return ret;
}

/*
 * Directory @path (relative to @at, or AT_FDCWD) opened, *@err 0; or NULL,
 * *@err a negative errno.
 */
static DIR *opendir_at(int at, const char *path, int *err)
{
	int fd = openat(at, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d;

	*err = fd < 0 ? -errno : 0;
	if (fd < 0)
		return NULL;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		*err = -ENOMEM;
	}
	return d;
}

/* The buffer behind fd @name of a process, if it is a dma-buf. */
static int scan_fd(struct scan *s, int piddir, int fddir, const char *name,
		   pid_t pid)
{
	struct fdinfo fi;
	char link[64], path[sizeof("fdinfo/") + NAME_MAX];
	struct sbuf *b;
	ssize_t n;
	int ret;

	n = readlinkat(fddir, name, link, sizeof(link) - 1);
	if (n < 0)
		return errno == ENOENT ? 0 : -errno;
	link[n] = '\0';
	if (strncmp(link, DMABUF_PATH, strlen(DMABUF_PATH)))
		return 0;
	snprintf(path, sizeof(path), "fdinfo/%s", name);
	ret = read_fdinfo(piddir, path, &fi);
	if (ret < 0 || !fi.has_exp_name)
		return ret == -ENOENT ? 0 : ret;
	b = scan_buf(s, fi.inode);
	if (!b)
		return -ENOMEM;
	if (!b->in_bufinfo) {
		b->size = fi.size;
		b->count = fi.count;
		memcpy(b->exporter, fi.exporter, sizeof(b->exporter));
		snprintf(b->name, sizeof(b->name), "%s", fi.name);
	}
	return add_hold(b, pid, atoi(name), 0);
}

static int scan_fds(struct scan *s, int piddir, pid_t pid)
{
	struct dirent *de;
	DIR *d;
	int ret;

	d = opendir_at(piddir, "fd", &ret);
	if (!d)
		return ret;
	while (!ret && (de = readdir(d)))
		if (de->d_name[0] != '.')
			ret = scan_fd(s, piddir, dirfd(d), de->d_name, pid);
	closedir(d);
	return ret;
}

/* One line of /proc/<pid>/maps. */
static int scan_map(struct scan *s, const char *line, pid_t pid)
{
	unsigned long long start, end, off, ino;
	unsigned int major, minor;
	struct sbuf *b;
	char perms[8];
	int pos = 0;

	if (sscanf(line, "%llx-%llx %7s %llx %x:%x %llu %n", &start, &end,
		   perms, &off, &major, &minor, &ino, &pos) < 7 || !pos)
		return 0;
	if (strncmp(line + pos, DMABUF_PATH, strlen(DMABUF_PATH)))
		return 0;
	b = scan_buf(s, ino);
	if (!b)
		return -ENOMEM;
	if (!b->name[0] && !b->in_bufinfo && !b->exporter[0]) {
		snprintf(b->name, sizeof(b->name), "%s",
			 line + pos + strlen(DMABUF_PATH));
		b->name[strcspn(b->name, "\n")] = '\0';
	}
	return add_hold(b, pid, -1, end - start);
}

static int scan_maps(struct scan *s, int piddir, pid_t pid)
{
	char *line = NULL;
	size_t cap = 0;
	FILE *f;
	int ret;

	f = fopen_at(piddir, "maps", &ret);
	if (!f)
		return ret;
	while (!ret && getline(&line, &cap, f) > 0)
		ret = scan_map(s, line, pid);
	if (!ret && ferror(f))
		ret = -errno;
	free(line);
	fclose(f);
	return ret;
}

static size_t total_holds(const struct scan *s)
{
	size_t i, n = 0;

	for (i = 0; i < s->nbufs; i++)
		n += s->bufs[i].nholds;
	return n;
}

static int add_proc(struct scan *s, int piddir, pid_t pid)
{
	struct sproc *p;
	ssize_t n;
	int fd;

	if (reserve((void **)&s->procs, &s->capprocs, s->nprocs, sizeof(*p)))
		return -ENOMEM;
	p = &s->procs[s->nprocs++];
	p->pid = pid;
	strcpy(p->comm, "?");
	fd = openat(piddir, "comm", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, p->comm, sizeof(p->comm) - 1);
	close(fd);
	if (n > 0) {
		p->comm[n] = '\0';
		p->comm[strcspn(p->comm, "\n")] = '\0';
	}
	return 0;
}

/* A process that exits while we read it is simply not there. */
static bool vanished(int err)
{
	return err == -ENOENT || err == -ESRCH;
}

static int scan_pid(struct scan *s, int procdir, const char *name)
{
	pid_t pid = (pid_t)atoi(name);
	size_t before = total_holds(s);
	int piddir, rfd, rmap;

	piddir = openat(procdir, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (piddir < 0)
		return 0;
	rfd = scan_fds(s, piddir, pid);
	rmap = scan_maps(s, piddir, pid);
	if (rfd == -ENOMEM || rmap == -ENOMEM) {
		close(piddir);
		return -ENOMEM;
	}
	if ((rfd && !vanished(rfd)) || (rmap && !vanished(rmap)))
		s->unreadable++;
	if (total_holds(s) != before && add_proc(s, piddir, pid)) {
		close(piddir);
		return -ENOMEM;
	}
	close(piddir);
	return 0;
}

int scan_system(struct scan *s)
{
	struct dirent *de;
	DIR *d;
	int ret;

	memset(s, 0, sizeof(*s));
	s->bufinfo_err = scan_bufinfo(s, BUFINFO);
	if (s->bufinfo_err == -ENOMEM)
		return -ENOMEM;
	d = opendir_at(AT_FDCWD, "/proc", &ret);
	if (!d)
		return ret;
	while (!ret && (de = readdir(d)))
		if (isdigit((unsigned char)de->d_name[0]))
			ret = scan_pid(s, dirfd(d), de->d_name);
	closedir(d);
	return ret;
}

const struct sproc *scan_proc(const struct scan *s, pid_t pid)
{
	size_t i;

	for (i = 0; i < s->nprocs; i++)
		if (s->procs[i].pid == pid)
			return &s->procs[i];
	return NULL;
}

void scan_free(struct scan *s)
{
	size_t i;

	for (i = 0; i < s->nbufs; i++) {
		free(s->bufs[i].holds);
		free(s->bufs[i].attached);
	}
	free(s->bufs);
	free(s->procs);
	memset(s, 0, sizeof(*s));
}
