/* SPDX-License-Identifier: GPL-2.0 */
/*
 * sgbuf - the one place that papers over kernel API differences
 *
 * Every switch here is driven by a compile probe (kernel/probes/, run by
 * kernel/Makefile into sgbuf_probed.h), never by LINUX_VERSION_CODE:
 * distribution kernels backport APIs, so the version says little.
 */
#ifndef _SGBUF_COMPAT_H
#define _SGBUF_COMPAT_H

#include <linux/module.h>

#include "sgbuf_probed.h"

/* MODULE_IMPORT_NS() takes a string literal since 6.13. */
#ifdef SGBUF_HAVE_IMPORT_NS_BARE
#define SGBUF_IMPORT_NS_DMA_BUF()	MODULE_IMPORT_NS(DMA_BUF)
#else
#define SGBUF_IMPORT_NS_DMA_BUF()	MODULE_IMPORT_NS("DMA_BUF")
#endif

#endif /* _SGBUF_COMPAT_H */
