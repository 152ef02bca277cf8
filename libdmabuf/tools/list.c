// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * dmabuf list: every dma-buf in the system and who holds it, with totals
 * per process and per exporter (what Android's dmabuf_dump does).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "scan.h"
#include "table.h"

struct list_opts {
	bool json;
	bool bytes;
};

/* Per-process totals. */
struct ptotal {
	pid_t pid;
	unsigned int bufs, fds, maps;
	uint64_t size;
	double pss;
};

/* Per-exporter totals. */
struct etotal {
	const char *exporter;
	unsigned int bufs;
	uint64_t size;
};

static void list_usage(FILE *f)
{
	fprintf(f,
		"usage: dmabuf list [--json] [--bytes]\n\n"
		"Every dma-buf in the system: inode, size, exporter, name, file\n"
		"references, and the processes holding an fd or a mapping of it,\n"
		"then totals per process and per exporter.\n\n"
		"  -j, --json    machine-readable output (one JSON object)\n"
		"  -b, --bytes   sizes in bytes instead of KiB/MiB/GiB\n"
		"  -h, --help    this text\n\n"
		"Reads /proc/*/fd, /proc/*/fdinfo, /proc/*/maps and, where readable,\n"
		"/sys/kernel/debug/dma_buf/bufinfo (buffers only the kernel holds\n"
		"appear only there). Run as root for a complete picture.\n");
}

static int cmp_buf(const void *a, const void *b)
{
	const struct sbuf *x = a, *y = b;

	return (x->inode > y->inode) - (x->inode < y->inode);
}

static int cmp_proc(const void *a, const void *b)
{
	const struct sproc *x = a, *y = b;

	return (x->pid > y->pid) - (x->pid < y->pid);
}

/* The size to account a buffer with: its own, or what is mapped of it. */
static uint64_t buf_size(const struct sbuf *b)
{
	uint64_t max = 0;
	size_t i;

	if (b->size)
		return b->size;
	for (i = 0; i < b->nholds; i++)
		if (b->holds[i].mapped > max)
			max = b->holds[i].mapped;
	return max;
}

static bool holds_before(const struct sbuf *b, size_t i)
{
	size_t j;

	for (j = 0; j < i; j++)
		if (b->holds[j].pid == b->holds[i].pid)
			return true;
	return false;
}

/* Number of distinct processes holding @b. */
static unsigned int holders(const struct sbuf *b)
{
	unsigned int n = 0;
	size_t i;

	for (i = 0; i < b->nholds; i++)
		n += !holds_before(b, i);
	return n;
}

static const char *size_str(uint64_t size, bool bytes, char *buf, size_t len)
{
	if (bytes)
		snprintf(buf, len, "%" PRIu64, size);
	else
		fmt_size(size, buf, len);
	return buf;
}

/* "comm[pid] fd 3,4 map 1 MiB" for every holder of @b. */
static char *held_by(const struct scan *s, const struct sbuf *b, bool bytes)
{
	char *out = NULL, sz[SIZE_BUF];
	size_t len = 0, i, j;
	FILE *f = open_memstream(&out, &len);

	if (!f)
		return NULL;
	for (i = 0; i < b->nholds; i++) {
		const struct sproc *p = scan_proc(s, b->holds[i].pid);
		const char *sep = " fd ";
		uint64_t mapped = 0;

		if (holds_before(b, i))
			continue;
		fprintf(f, "%s%s[%ld]", i ? "; " : "", p ? p->comm : "?",
			(long)b->holds[i].pid);
		for (j = i; j < b->nholds; j++) {
			if (b->holds[j].pid != b->holds[i].pid)
				continue;
			if (b->holds[j].fd >= 0) {
				fprintf(f, "%s%d", sep, b->holds[j].fd);
				sep = ",";
			}
			mapped += b->holds[j].mapped;
		}
		if (mapped)
			fprintf(f, " map %s", size_str(mapped, bytes, sz,
						       sizeof(sz)));
	}
	if (!b->nholds)
		fputs("(kernel only)", f);
	if (b->attached)
		fprintf(f, "%sattached: %s", b->nholds ? "; " : " ",
			b->attached);
	fclose(f);
	return out;
}

static int print_buffers(const struct scan *s, bool bytes)
{
	static const char *const heads[] = { ">INODE", ">SIZE", "EXPORTER",
		"NAME", ">COUNT", "HELD BY", NULL };
	char ino[24], sz[SIZE_BUF], count[24];
	struct table t;
	size_t i;

	table_init(&t, heads);
	for (i = 0; i < s->nbufs; i++) {
		const struct sbuf *b = &s->bufs[i];
		char *who = held_by(s, b, bytes);

		snprintf(ino, sizeof(ino), "%" PRIu64, b->inode);
		snprintf(count, sizeof(count), "%" PRId64, b->count);
		table_row(&t, ino, b->size ? size_str(b->size, bytes, sz,
						       sizeof(sz)) : "?",
			  b->exporter[0] ? b->exporter : "?",
			  b->name[0] ? b->name : "-",
			  b->count >= 0 ? count : "?", who ? who : "?");
		free(who);
	}
	return table_print(&t, stdout);
}

/* What process @pid holds, summed over every buffer. */
static struct ptotal proc_total(const struct scan *s, pid_t pid)
{
	struct ptotal t = { .pid = pid };
	size_t i, j;

	for (i = 0; i < s->nbufs; i++) {
		const struct sbuf *b = &s->bufs[i];
		bool held = false;

		for (j = 0; j < b->nholds; j++) {
			if (b->holds[j].pid != pid)
				continue;
			held = true;
			t.fds += b->holds[j].fd >= 0;
			t.maps += b->holds[j].fd < 0;
		}
		if (!held)
			continue;
		t.bufs++;
		t.size += buf_size(b);
		t.pss += (double)buf_size(b) / holders(b);
	}
	return t;
}

static int print_procs(const struct scan *s, bool bytes)
{
	static const char *const heads[] = { ">PID", "COMMAND", ">BUFFERS",
		">FDS", ">MAPS", ">SIZE", ">PSS", NULL };
	char pid[16], nb[16], nf[16], nm[16], sz[SIZE_BUF], pss[SIZE_BUF];
	struct table t;
	size_t i;

	table_init(&t, heads);
	for (i = 0; i < s->nprocs; i++) {
		struct ptotal p = proc_total(s, s->procs[i].pid);

		snprintf(pid, sizeof(pid), "%ld", (long)p.pid);
		snprintf(nb, sizeof(nb), "%u", p.bufs);
		snprintf(nf, sizeof(nf), "%u", p.fds);
		snprintf(nm, sizeof(nm), "%u", p.maps);
		table_row(&t, pid, s->procs[i].comm, nb, nf, nm,
			  size_str(p.size, bytes, sz, sizeof(sz)),
			  size_str((uint64_t)(p.pss + 0.5), bytes, pss,
				   sizeof(pss)));
	}
	return table_print(&t, stdout);
}

/* Totals per exporter in @e (room for s->nbufs + 1); returns the count. */
static size_t exporter_totals(const struct scan *s, struct etotal *e)
{
	size_t i, j, n = 0;

	for (i = 0; i < s->nbufs; i++) {
		const char *name = s->bufs[i].exporter[0] ?
				   s->bufs[i].exporter : "?";

		for (j = 0; j < n && strcmp(e[j].exporter, name); j++)
			;
		if (j == n)
			e[n++] = (struct etotal){ .exporter = name };
		e[j].bufs++;
		e[j].size += buf_size(&s->bufs[i]);
	}
	return n;
}

static int print_exporters(const struct scan *s, const struct etotal *e,
			   size_t n, bool bytes)
{
	static const char *const heads[] = { "EXPORTER", ">BUFFERS", ">SIZE",
		NULL };
	char nb[16], sz[SIZE_BUF];
	uint64_t total = 0;
	struct table t;
	size_t i;

	table_init(&t, heads);
	for (i = 0; i < n; i++) {
		snprintf(nb, sizeof(nb), "%u", e[i].bufs);
		table_row(&t, e[i].exporter, nb,
			  size_str(e[i].size, bytes, sz, sizeof(sz)));
		total += e[i].size;
	}
	snprintf(nb, sizeof(nb), "%zu", s->nbufs);
	table_row(&t, "total", nb, size_str(total, bytes, sz, sizeof(sz)));
	return table_print(&t, stdout);
}

static int print_text(const struct scan *s, const struct etotal *e, size_t n,
		      bool bytes)
{
	int ret;

	ret = print_buffers(s, bytes);
	fputc('\n', stdout);
	ret = ret ? ret : print_procs(s, bytes);
	fputc('\n', stdout);
	return ret ? ret : print_exporters(s, e, n, bytes);
}

static void json_holders(const struct scan *s, const struct sbuf *b)
{
	const char *sep = "";
	size_t i, j;

	printf(",\"holders\":[");
	for (i = 0; i < b->nholds; i++) {
		const struct sproc *p = scan_proc(s, b->holds[i].pid);
		const char *fsep = "";
		uint64_t mapped = 0;

		if (holds_before(b, i))
			continue;
		printf("%s{\"pid\":%ld,\"comm\":", sep, (long)b->holds[i].pid);
		json_str(stdout, p ? p->comm : "?");
		printf(",\"fds\":[");
		for (j = i; j < b->nholds; j++) {
			if (b->holds[j].pid != b->holds[i].pid)
				continue;
			if (b->holds[j].fd >= 0)
				printf("%s%d", fsep, b->holds[j].fd);
			fsep = b->holds[j].fd >= 0 ? "," : fsep;
			mapped += b->holds[j].mapped;
		}
		printf("],\"mapped\":%" PRIu64 "}", mapped);
		sep = ",";
	}
	printf("]");
}

static void json_buffer(const struct scan *s, const struct sbuf *b)
{
	printf("{\"inode\":%" PRIu64 ",\"size\":%" PRIu64 ",\"exporter\":",
	       b->inode, b->size);
	json_str(stdout, b->exporter);
	printf(",\"name\":");
	json_str(stdout, b->name);
	printf(",\"count\":%" PRId64 ",\"in_bufinfo\":%s,\"attached\":",
	       b->count, b->in_bufinfo ? "true" : "false");
	json_str(stdout, b->attached ? b->attached : "");
	json_holders(s, b);
	printf("}");
}

static void json_procs(const struct scan *s)
{
	size_t i;

	printf(",\"processes\":[");
	for (i = 0; i < s->nprocs; i++) {
		struct ptotal p = proc_total(s, s->procs[i].pid);

		printf("%s{\"pid\":%ld,\"comm\":", i ? "," : "", (long)p.pid);
		json_str(stdout, s->procs[i].comm);
		printf(",\"buffers\":%u,\"fds\":%u,\"maps\":%u,"
		       "\"size\":%" PRIu64 ",\"pss\":%" PRIu64 "}",
		       p.bufs, p.fds, p.maps, p.size, (uint64_t)(p.pss + 0.5));
	}
	printf("]");
}

static int print_json(const struct scan *s, const struct etotal *e, size_t n)
{
	uint64_t total = 0;
	size_t i;

	printf("{\"buffers\":[");
	for (i = 0; i < s->nbufs; i++) {
		printf("%s", i ? "," : "");
		json_buffer(s, &s->bufs[i]);
	}
	printf("]");
	json_procs(s);
	printf(",\"exporters\":[");
	for (i = 0; i < n; i++) {
		printf("%s{\"exporter\":", i ? "," : "");
		json_str(stdout, e[i].exporter);
		printf(",\"buffers\":%u,\"size\":%" PRIu64 "}", e[i].bufs,
		       e[i].size);
		total += e[i].size;
	}
	printf("],\"total\":{\"buffers\":%zu,\"size\":%" PRIu64 "}", s->nbufs,
	       total);
	printf(",\"bufinfo\":%s,\"unreadable_processes\":%u}\n",
	       s->bufinfo_err ? "false" : "true", s->unreadable);
	return 0;
}

static void print_notes(const struct scan *s)
{
	if (s->bufinfo_err == -ENOENT)
		tool_err("note: /sys/kernel/debug/dma_buf/bufinfo does not exist "
			 "(debugfs not mounted?): buffers only the kernel holds "
			 "are not listed");
	else if (s->bufinfo_err)
		tool_err("note: cannot read /sys/kernel/debug/dma_buf/bufinfo "
			 "(%s): buffers only the kernel holds are not listed",
			 strerror(-s->bufinfo_err));
	if (s->unreadable)
		tool_err("note: %u process%s could not be read%s: %s buffers "
			 "are not listed", s->unreadable,
			 s->unreadable == 1 ? "" : "es",
			 geteuid() ? " (run as root)" : "",
			 s->unreadable == 1 ? "its" : "their");
}

static int list_parse(int argc, char **argv, struct list_opts *o)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "bytes", no_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = tool_getopt(argc, argv, "jbh", longopts)) != -1) {
		switch (c) {
		case 'j':
			o->json = true;
			break;
		case 'b':
			o->bytes = true;
			break;
		case 'h':
			list_usage(stdout);
			return EXIT_OK;
		default:
			return EXIT_USAGE;
		}
	}
	if (optind < argc)
		return tool_usage_err("unexpected argument '%s'", argv[optind]);
	return -1;
}

int cmd_list(int argc, char **argv)
{
	struct list_opts o = { 0 };
	struct etotal *e;
	struct scan s;
	size_t n;
	int ret;

	ret = list_parse(argc, argv, &o);
	if (ret >= 0)
		return ret;
	ret = scan_system(&s);
	e = calloc(s.nbufs + 1, sizeof(*e));
	if (ret || !e) {
		tool_err("cannot scan the system: %s",
			 strerror(ret ? -ret : ENOMEM));
		free(e);
		scan_free(&s);
		return EXIT_FAIL;
	}
	if (s.nbufs)
		qsort(s.bufs, s.nbufs, sizeof(*s.bufs), cmp_buf);
	if (s.nprocs)
		qsort(s.procs, s.nprocs, sizeof(*s.procs), cmp_proc);
	n = exporter_totals(&s, e);
	ret = o.json ? print_json(&s, e, n) : print_text(&s, e, n, o.bytes);
	print_notes(&s);
	free(e);
	scan_free(&s);
	if (ret || fflush(stdout) || ferror(stdout)) {
		tool_err("cannot write the list: %s", strerror(ret ? -ret : errno));
		return EXIT_FAIL;
	}
	return EXIT_OK;
}
