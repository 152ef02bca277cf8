// SPDX-License-Identifier: LGPL-2.1-or-later
#include "internal.h"

DMABUF_EXPORT const char *dmabuf_version(void)
{
	return DMABUF_VERSION;
}
