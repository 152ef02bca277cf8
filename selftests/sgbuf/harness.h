/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Include kselftest_harness.h (from KSFT_DIR, not copied into this tree)
 * under -Wextra: the 6.12 harness has an unused signal-handler parameter,
 * and the setjmp() in its TEST_F() wrapper makes GCC warn that the
 * wrapper's own locals might be clobbered. Both are in the harness, not in
 * the tests, so silence exactly these two warnings.
 */
#ifndef SGBUF_SELFTEST_HARNESS_H
#define SGBUF_SELFTEST_HARNESS_H

#pragma GCC diagnostic ignored "-Wclobbered"
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#include "kselftest_harness.h"
#pragma GCC diagnostic pop

#endif /* SGBUF_SELFTEST_HARNESS_H */
