// SPDX-License-Identifier: GPL-2.0
/*
 * sgbuf-bench: sgbuf against the kernel's own dma-buf exporters (the
 * system dma-heap, udmabuf, vgem), side by side in one boot. See
 * docs/performance.md; `make bench` runs it in QEMU guests and aggregates.
 */
#include "bench.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>
#include <linux/sgbuf.h>

static const struct {
	const char *name;
	void (*run)(void);
} sections[] = {
	{ "alloc", section_alloc },	{ "map", section_map },
	{ "sync", section_sync },	{ "handoff", section_handoff },
	{ "engine", section_engine },	{ "pipe", section_pipe },
	{ "scale", section_scale },	{ "live", section_live },
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: sgbuf-bench [OPTIONS]\n\n"
		"Measures sgbuf against the kernel's own dma-buf exporters\n"
		"(system heap, udmabuf, vgem) in this boot and prints one JSON\n"
		"object per line. Needs root for the heap, udmabuf and vgem.\n\n"
		"  -s, --sections LIST  alloc,map,sync,handoff,engine,pipe,scale,\n"
		"                       live (default: all)\n"
		"  -x, --exporters LIST sgbuf,heap,udmabuf,vgem (default: all)\n"
		"  -t, --tool PATH      the dmabuf tool for 'pipe' (default: dmabuf)\n"
		"  -f, --frames N       frames for 'dmabuf pipe' (default 120)\n"
		"  -n, --nbufs N        live 4 KiB buffers for 'live' (default 10000)\n"
		"  -q, --quick          fewer iterations (a smoke test)\n"
		"  -h, --help           this text\n");
}

static bool section_wanted(const char *list, const char *name)
{
	size_t len = strlen(name);
	const char *p = list;

	if (!list)
		return true;
	while ((p = strstr(p, name))) {
		if ((p == list || p[-1] == ',') && (!p[len] || p[len] == ','))
			return true;
		p += len;
	}
	return false;
}

static void env_line(void)
{
	struct sgbuf_info info = { 0 };
	char cpu[128] = "", line[512], cmdline[1024] = "";
	struct utsname u;
	unsigned int x;
	int ncpu = 0;
	FILE *f;

	uname(&u);
	f = fopen("/proc/cpuinfo", "re");
	while (f && fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "processor", 9))
			ncpu++;
		if (!cpu[0] && !strncmp(line, "model name", 10) &&
		    strchr(line, ':'))
			snprintf(cpu, sizeof(cpu), "%s", strchr(line, ':') + 2);
	}
	if (f)
		fclose(f);
	cpu[strcspn(cpu, "\n\"\\")] = 0;
	f = fopen("/proc/cmdline", "re");
	if (f) {
		if (!fgets(cmdline, sizeof(cmdline), f))
			cmdline[0] = 0;
		fclose(f);
	}
	if (sgbuf_fd >= 0)
		ioctl(sgbuf_fd, SGBUF_IOCTL_GET_INFO, &info);
	printf("{\"section\":\"env\",\"kernel\":\"%s\",\"cpu\":\"%s\","
	       "\"cpus\":%d,\"mem_mib\":%ld,\"swiotlb_force\":%s,"
	       "\"sgbuf_abi\":%llu,\"exporters\":{",
	       u.release, cpu, ncpu, meminfo_kib("MemTotal") / 1024,
	       strstr(cmdline, "swiotlb=force") ? "true" : "false",
	       (unsigned long long)info.abi_version);
	for (x = 0; x < nr_exporters; x++)
		printf("%s\"%s\":\"%s\"", x ? "," : "", exporters[x].name,
		       exporters[x].missing[0] ? "missing" : "ok");
	puts("}}");
	fflush(stdout);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "sections", required_argument, NULL, 's' },
		{ "exporters", required_argument, NULL, 'x' },
		{ "tool", required_argument, NULL, 't' },
		{ "frames", required_argument, NULL, 'f' },
		{ "nbufs", required_argument, NULL, 'n' },
		{ "quick", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *only_sections = NULL, *only_exporters = NULL;
	struct rlimit rl;
	double t0 = now();
	unsigned int s;
	int c;

	while ((c = getopt_long(argc, argv, "s:x:t:f:n:qh", lo, NULL)) != -1) {
		switch (c) {
		case 's':
			only_sections = optarg;
			break;
		case 'x':
			only_exporters = optarg;
			break;
		case 't':
			opt.tool = optarg;
			break;
		case 'f':
			opt.frames = atoi(optarg);
			break;
		case 'n':
			opt.nbufs = atoi(optarg);
			break;
		case 'q':
			opt.quick = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc || opt.frames < 1 || opt.nbufs < 1) {
		usage(stderr);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);

	/* 10 000 live buffers need as many fds */
	if (!getrlimit(RLIMIT_NOFILE, &rl) &&
	    rl.rlim_cur < (rlim_t)opt.nbufs + 256) {
		rl.rlim_cur = (rlim_t)opt.nbufs + 256;
		if (rl.rlim_max < rl.rlim_cur)
			rl.rlim_max = rl.rlim_cur;
		if (setrlimit(RLIMIT_NOFILE, &rl)) {
			getrlimit(RLIMIT_NOFILE, &rl);
			progress("RLIMIT_NOFILE stays %llu: %s; --nbufs %llu",
				 (unsigned long long)rl.rlim_cur,
				 strerror(errno),
				 (unsigned long long)rl.rlim_cur - 256);
			opt.nbufs = rl.rlim_cur > 512 ? (int)rl.rlim_cur - 256 :
				    256;
		}
	}

	exporters_probe(only_exporters);
	env_line();
	for (s = 0; s < ARRAY_SIZE(sections); s++) {
		double ts = now();

		if (!section_wanted(only_sections, sections[s].name))
			continue;
		sections[s].run();
		progress("%s: %.1f s", sections[s].name, now() - ts);
	}
	progress("done in %.1f s", now() - t0);
	return 0;
}
