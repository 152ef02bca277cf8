// SPDX-License-Identifier: GPL-2.0
/*
 * Probe: MODULE_IMPORT_NS() takes a bare identifier (before 6.13). With
 * the string-literal form this fails to compile, DMA_BUF being undeclared.
 */
#include <linux/module.h>

MODULE_IMPORT_NS(DMA_BUF);
