// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * dmabuf - list, allocate and inspect dma-bufs, and run a dma-buf
 * pipeline through sgbuf's DMA engine. See dmabuf(1).
 *
 * This file: the subcommand table, global usage, --help and --version.
 */
#include <string.h>

#include "tool.h"

static const struct tool_cmd commands[] = {
	{ "list", cmd_list, "every dma-buf in the system and who holds it" },
	{ "info", cmd_info, "size, exporter, name, inode, count of a buffer" },
	{ "alloc", cmd_alloc, "allocate a buffer; hold it or run a command" },
	{ "caps", cmd_caps, "what the backends and the DMA engine can do" },
	{ "pipe", cmd_pipe, "producer -> DMA engine -> consumer benchmark" },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: dmabuf [--help | --version] COMMAND [ARGS]\n\n"
		   "Commands:\n");
	for (i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-7s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\n'dmabuf COMMAND --help' describes a command; "
		   "see also dmabuf(1).\n"
		   "Exit status: 0 success, 1 failure, 2 usage error.\n");
}

static const struct tool_cmd *find_cmd(const char *name)
{
	size_t i;

	for (i = 0; i < NCOMMANDS; i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

/* "dmabuf help [COMMAND]" is "dmabuf COMMAND --help". */
static int help(int argc, char **argv)
{
	static char opt_help[] = "--help";
	const struct tool_cmd *cmd;
	char *args[] = { NULL, opt_help, NULL };

	if (argc < 2) {
		usage(stdout);
		return EXIT_OK;
	}
	cmd = find_cmd(argv[1]);
	if (!cmd)
		return tool_usage_err("unknown command '%s'", argv[1]);
	args[0] = argv[1];
	tool_set_prog(cmd->name);
	return cmd->run(2, args);
}

int main(int argc, char **argv)
{
	const struct tool_cmd *cmd;

	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(stdout);
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
		printf("dmabuf %s (libdmabuf %s)\n", DMABUF_VERSION,
		       dmabuf_version());
		return EXIT_OK;
	}
	if (!strcmp(argv[1], "help"))
		return help(argc - 1, argv + 1);
	if (argv[1][0] == '-')
		return tool_usage_err("unknown option '%s'", argv[1]);
	cmd = find_cmd(argv[1]);
	if (!cmd)
		return tool_usage_err("unknown command '%s'", argv[1]);
	tool_set_prog(cmd->name);
	return cmd->run(argc - 1, argv + 1);
}
