// SPDX-License-Identifier: GPL-2.0
/*
 * Section "pipe": `dmabuf pipe --frames N --quiet` (1080p RGBA frames:
 * producer -> sgbuf DMA engine copy -> consumer, zero-copy between the
 * processes), which then sends the same frames through pipe(2) with CPU
 * copies. Its report lines "rate:" and "pipe(2):" give both frame rates.
 */
#include "bench.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static bool tool_found(const char *tool)
{
	char path[512];
	const char *p, *q;

	if (strchr(tool, '/'))
		return !access(tool, X_OK);
	p = getenv("PATH");
	if (!p)
		p = "/bin:/usr/bin";
	for (; *p; p = *q ? q + 1 : q) {
		q = strchrnul(p, ':');
		snprintf(path, sizeof(path), "%.*s/%s", (int)(q - p), p, tool);
		if (!access(path, X_OK))
			return true;
	}
	return false;
}

void section_pipe(void)
{
	double fps = -1, ref = -1, p50 = -1, mbs = -1, rmbs = -1;
	char cmd[600], line[512];
	int status;
	FILE *f;

	if (!exporter_get("sgbuf")) {
		emit_skip("pipe", "sgbuf", "frames_per_s", "sgbuf is not loaded");
		return;
	}
	if (!tool_found(opt.tool)) {
		emit_skip("pipe", "sgbuf", "frames_per_s",
			  "the dmabuf tool (%s) was not found", opt.tool);
		return;
	}
	progress("pipe: %s pipe --frames %d", opt.tool, opt.frames);
	snprintf(cmd, sizeof(cmd), "'%s' pipe --frames %d --quiet", opt.tool,
		 opt.frames);
	f = popen(cmd, "r");
	if (!f)
		die("popen: %s", strerror(errno));
	while (fgets(line, sizeof(line), f)) {
		unsigned long long frames;
		double secs;

		fprintf(stderr, "#   | %s", line);
		if (sscanf(line, "rate: %lf frames/s, %lf MB/s", &fps, &mbs) >= 1)
			continue;
		if (sscanf(line, "latency: p50 %lf ms", &p50) == 1)
			continue;
		sscanf(line, "pipe(2): %llu frames, %lf s, %lf frames/s, %lf MB/s",
		       &frames, &secs, &ref, &rmbs);
	}
	status = pclose(f);
	if (status == -1 || !WIFEXITED(status) || WEXITSTATUS(status) ||
	    fps <= 0 || ref <= 0) {
		emit_skip("pipe", "sgbuf", "frames_per_s",
			  "dmabuf pipe failed (status %d) or printed no rates",
			  status);
		return;
	}
	emit("pipe", "sgbuf", "frames_per_s", fps, "frames/s", opt.frames);
	emit("pipe", "sgbuf", "rate_MBps", mbs, "MB/s", opt.frames);
	if (p50 >= 0)
		emit("pipe", "sgbuf", "latency_p50", p50 * 1e3, "us",
		     opt.frames);
	emit("pipe", "pipe", "frames_per_s", ref, "frames/s", opt.frames);
	emit("pipe", "pipe", "rate_MBps", rmbs, "MB/s", opt.frames);
	emit("pipe", "sgbuf", "zero_copy_vs_pipe", fps / ref, "x", opt.frames);
}
