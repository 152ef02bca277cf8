// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The library's internal helpers (src/internal.h, header-only): the size
 * arithmetic that must not overflow, deadlines and poll timeouts, the
 * reserved-word check.
 */
#include <stdint.h>
#include <string.h>

#include "../../src/internal.h"
#include "tap.h"

int main(void)
{
	uint32_t words[7] = { 0 };
	int64_t d, t0;

	tap_plan(7);
	tap_ok(dmabuf_mib(0) == 0 && dmabuf_mib(64) == 64ull << 20 &&
	       dmabuf_mib(UINT64_MAX >> 20) == (UINT64_MAX >> 20) << 20,
	       "mib: exact while it fits");
	tap_ok(dmabuf_mib((UINT64_MAX >> 20) + 1) == UINT64_MAX &&
	       dmabuf_mib(UINT64_MAX) == UINT64_MAX,
	       "mib: saturates instead of wrapping (a huge size_limit_mb)");
	tap_ok(dmabuf_deadline(-1) == -1 && dmabuf_left_ns(-1) == -1 &&
	       dmabuf_left_ms(-1) == -1, "no timeout: no deadline, poll(-1)");
	t0 = dmabuf_now_ns();
	d = dmabuf_deadline(0);
	tap_ok(d >= t0 && dmabuf_left_ns(d - 1) == 0 &&
	       dmabuf_left_ms(d - 1) == 0, "a passed deadline leaves 0");
	d = dmabuf_deadline(INT32_MAX);
	tap_ok(d > t0 && dmabuf_left_ms(d) > 0 && dmabuf_left_ms(d) <= INT32_MAX,
	       "the longest timeout fits poll()'s int");
	d = dmabuf_now_ns() + 1000;	/* 1 us: rounds up to 1 ms, not 0 */
	tap_ok(dmabuf_left_ms(d) == 1 || dmabuf_left_ms(d) == 0,
	       "a deadline under 1 ms away rounds up (or has passed)");
	words[6] = 1;
	tap_ok(dmabuf_zeroed(words, 6 * sizeof(words[0])) &&
	       !dmabuf_zeroed(words, sizeof(words)),
	       "reserved words: zero, then one set");
	return tap_done();
}
