// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The header's DMABUF_VERSION_* macros, the VERSION file (argv[1]) and
 * dmabuf_version() agree.
 */
#include <stdio.h>
#include <string.h>
#include <dmabuf/dmabuf.h>

#include "tap.h"

#define STR_(x) #x
#define STR(x) STR_(x)
#define HEADER_VERSION STR(DMABUF_VERSION_MAJOR) "." \
	STR(DMABUF_VERSION_MINOR) "." STR(DMABUF_VERSION_PATCH)

int main(int argc, char **argv)
{
	char file[64] = "";
	FILE *f;

	tap_plan(3);
	f = argc > 1 ? fopen(argv[1], "re") : NULL;
	if (f) {
		if (!fgets(file, sizeof(file), f))
			file[0] = '\0';
		fclose(f);
		file[strcspn(file, "\r\n")] = '\0';
	}
	tap_ok(file[0] != '\0', "VERSION file read: '%s'", file);
	tap_ok(!strcmp(HEADER_VERSION, file),
	       "DMABUF_VERSION_MAJOR.MINOR.PATCH %s match the VERSION file %s",
	       HEADER_VERSION, file);
	tap_ok(!strcmp(dmabuf_version(), HEADER_VERSION),
	       "dmabuf_version() %s matches the header %s", dmabuf_version(),
	       HEADER_VERSION);
	return tap_done();
}
