// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * dmabuf caps: what each allocation backend, and sgbuf's DMA engine, can
 * do on this system.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "table.h"
#include "tool.h"

#define MAX_BACKENDS 34

struct caps_result {
	char label[80];
	int err;
	struct dmabuf_caps caps;
};

static void caps_usage(FILE *f)
{
	fprintf(f,
		"usage: dmabuf caps [--backend B] [--json]\n\n"
		"Tries each allocation backend (sgbuf, every heap in /dev/dma_heap,\n"
		"udmabuf), or only B, and prints what it can do; then whether\n"
		"sgbuf's DMA engine is there. Fails if no backend (or not B) works.\n\n"
		"  -b, --backend B   only B: sgbuf, heap, heap:NAME, udmabuf, auto\n"
		"  -j, --json        machine-readable output\n"
		"  -h, --help        this text\n");
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* sgbuf, heap:NAME for each heap (heap:system if none), udmabuf */
static size_t all_backends(struct backend_arg *out, size_t max)
{
	char *names[MAX_BACKENDS];
	struct dirent *de;
	size_t n = 0, h = 0, i;
	DIR *d;

	out[n++] = (struct backend_arg){ .backend = DMABUF_BACKEND_SGBUF };
	d = opendir("/dev/dma_heap");
	while (d && (de = readdir(d)) && h < max - 2)
		if (de->d_name[0] != '.' && strlen(de->d_name) < 64)
			names[h++] = strdup(de->d_name);
	if (d)
		closedir(d);
	if (!h)
		names[h++] = strdup("system");
	qsort(names, h, sizeof(*names), cmp_str);
	for (i = 0; i < h; i++) {
		if (!names[i])
			continue;
		out[n] = (struct backend_arg){ .backend = DMABUF_BACKEND_HEAP };
		snprintf(out[n++].heap, sizeof(out->heap), "%s", names[i]);
		free(names[i]);
	}
	out[n++] = (struct backend_arg){ .backend = DMABUF_BACKEND_UDMABUF };
	return n;
}

static void probe(const struct backend_arg *b, struct caps_result *r)
{
	struct dmabuf_allocator *alloc;

	memset(r, 0, sizeof(*r));
	snprintf(r->label, sizeof(r->label), "%s%s%s", backend_str(b->backend),
		 b->heap[0] ? ":" : "", b->heap);
	r->err = dmabuf_allocator_new(b->backend, b->heap[0] ? b->heap : NULL,
				      &alloc);
	if (r->err)
		return;
	r->err = dmabuf_allocator_caps(alloc, &r->caps);
	dmabuf_allocator_free(alloc);
}

static const char *flags_str(uint32_t flags, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s%s%s%s",
		 flags & DMABUF_CAP_CONTIGUOUS ? "contiguous " : "",
		 flags & DMABUF_CAP_CACHED ? "cached " : "",
		 flags & DMABUF_CAP_NAME_AT_ALLOC ? "name-at-alloc " : "",
		 flags & DMABUF_CAP_SYNC_RANGE ? "sync-range " : "",
		 flags & DMABUF_CAP_ENGINE ? "engine " : "",
		 flags & DMABUF_CAP_CHECKSUM64 ? "checksum64 " : "");
	if (*buf)
		buf[strlen(buf) - 1] = '\0';
	return buf;
}

static const char *err_str(int err)
{
	return err == -ENOENT ? "not present" : strerror(-err);
}

static const char *opt_size(uint64_t v, char *buf, size_t len)
{
	return v ? fmt_size(v, buf, len) : "-";
}

static int print_table(const struct caps_result *r, size_t n)
{
	static const char *const heads[] = { "BACKEND", "NAME", ">PAGE",
		">MAX SIZE", ">MAX CONTIG", "FLAGS", NULL };
	char page[SIZE_BUF], max[SIZE_BUF], contig[SIZE_BUF], flags[96];
	struct table t;
	size_t i;

	table_init(&t, heads);
	for (i = 0; i < n; i++) {
		const struct dmabuf_caps *c = &r[i].caps;

		if (r[i].err) {
			table_row(&t, r[i].label, "-", "-", "-", "-",
				  err_str(r[i].err));
			continue;
		}
		table_row(&t, r[i].label, c->name,
			  opt_size(c->page_size, page, sizeof(page)),
			  opt_size(c->max_size, max, sizeof(max)),
			  opt_size(c->max_contig_size, contig, sizeof(contig)),
			  flags_str(c->flags, flags, sizeof(flags)));
	}
	return table_print(&t, stdout);
}

static void print_json(const struct caps_result *r, size_t n, int engine)
{
	char flags[96];
	size_t i;

	printf("{\"backends\":[");
	for (i = 0; i < n; i++) {
		const struct dmabuf_caps *c = &r[i].caps;

		printf("%s{\"backend\":", i ? "," : "");
		json_str(stdout, r[i].label);
		if (r[i].err) {
			printf(",\"available\":false,\"error\":");
			json_str(stdout, strerror(-r[i].err));
			printf("}");
			continue;
		}
		printf(",\"available\":true,\"name\":");
		json_str(stdout, c->name);
		printf(",\"page_size\":%" PRIu64 ",\"max_size\":%" PRIu64
		       ",\"max_contig_size\":%" PRIu64 ",\"flags\":",
		       c->page_size, c->max_size, c->max_contig_size);
		json_str(stdout, flags_str(c->flags, flags, sizeof(flags)));
		printf("}");
	}
	printf("],\"engine\":{\"available\":%s", engine ? "false" : "true");
	if (engine) {
		printf(",\"error\":");
		json_str(stdout, strerror(-engine));
	}
	printf("}}\n");
}

static int probe_engine(void)
{
	struct dmabuf_engine *engine;
	int ret;

	ret = dmabuf_engine_new(&engine);
	if (!ret)
		dmabuf_engine_free(engine);
	return ret;
}

static void print_engine(int err)
{
	if (!err)
		printf("\nengine: sgbuf DMA consumer available (dmabuf pipe "
		       "--mode copy|checksum)\n");
	else if (err == -ENOENT)
		printf("\nengine: not available: /dev/sgbuf does not exist\n");
	else if (err == -EOPNOTSUPP)
		printf("\nengine: not available: the loaded sgbuf has none\n");
	else
		printf("\nengine: not available: %s\n", strerror(-err));
}

struct caps_opts {
	bool only;		/* --backend given */
	struct backend_arg backend;
	bool json;
};

static int caps_parse(int argc, char **argv, struct caps_opts *o)
{
	static const struct option longopts[] = {
		{ "backend", required_argument, NULL, 'b' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c, ret;

	while ((c = tool_getopt(argc, argv, "b:jh", longopts)) != -1) {
		if (c == 'b' && (ret = parse_backend_opt(optarg,
							 &o->backend)) >= 0)
			return ret;
		o->only |= c == 'b';
		o->json |= c == 'j';
		if (c == 'h') {
			caps_usage(stdout);
			return EXIT_OK;
		}
		if (c == '?')
			return EXIT_USAGE;
	}
	if (optind < argc)
		return tool_usage_err("unexpected argument '%s'", argv[optind]);
	return -1;
}

int cmd_caps(int argc, char **argv)
{
	struct backend_arg list[MAX_BACKENDS];
	struct caps_result res[MAX_BACKENDS];
	struct caps_opts o = { 0 };
	size_t n = 1, i, ok = 0;
	int ret, engine;

	ret = caps_parse(argc, argv, &o);
	if (ret >= 0)
		return ret;
	if (o.only)
		list[0] = o.backend;
	else
		n = all_backends(list, MAX_BACKENDS);
	for (i = 0; i < n; i++) {
		probe(&list[i], &res[i]);
		ok += !res[i].err;
	}
	engine = probe_engine();
	ret = 0;
	if (o.json) {
		print_json(res, n, engine);
	} else {
		ret = print_table(res, n);
		print_engine(engine);
	}
	if (ret < 0 || fflush(stdout)) {
		tool_err("cannot write: %s", strerror(ret < 0 ? -ret : errno));
		return EXIT_FAIL;
	}
	if (!ok)
		tool_err("no backend available");
	return ok ? EXIT_OK : EXIT_FAIL;
}
