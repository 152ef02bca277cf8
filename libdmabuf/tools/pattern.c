// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The frame pattern of dmabuf pipe, and CRC-32 (zlib's, as sgbuf's
 * CHECKSUM job computes it).
 *
 * Frame f is a run of little-endian 64-bit words, word i being
 * (f + 1) * KEY + i * STEP (mod 2^64); a frame that is not a multiple of 8
 * bytes ends with the first bytes of the next word. Every byte depends on
 * the frame number and on its offset, so a wrong byte, a stale frame, a
 * shifted or a truncated copy all show.
 */
#include <endian.h>
#include <string.h>

#include "pipe.h"

#define KEY	0xd6e8feb86659fd93ull
#define STEP	0x9e3779b97f4a7c15ull

static uint32_t crc_table[8][256];

void pattern_init(void)
{
	uint32_t c;
	int i, j;

	for (i = 0; i < 256; i++) {
		c = (uint32_t)i;
		for (j = 0; j < 8; j++)
			c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
		crc_table[0][i] = c;
	}
	for (i = 0; i < 256; i++)
		for (j = 1; j < 8; j++)
			crc_table[j][i] = (crc_table[j - 1][i] >> 8) ^
				crc_table[0][crc_table[j - 1][i] & 0xff];
}

/* Slice-by-8: @crc advanced over the 8 little-endian bytes of @w. */
static uint32_t crc_word(uint32_t crc, uint64_t w)
{
	uint32_t lo = (uint32_t)w ^ crc, hi = (uint32_t)(w >> 32);

	return crc_table[7][lo & 0xff] ^ crc_table[6][(lo >> 8) & 0xff] ^
	       crc_table[5][(lo >> 16) & 0xff] ^ crc_table[4][lo >> 24] ^
	       crc_table[3][hi & 0xff] ^ crc_table[2][(hi >> 8) & 0xff] ^
	       crc_table[1][(hi >> 16) & 0xff] ^ crc_table[0][hi >> 24];
}

static uint32_t crc_byte(uint32_t crc, uint8_t b)
{
	return crc_table[0][(crc ^ b) & 0xff] ^ (crc >> 8);
}

static uint64_t first_word(uint64_t frame)
{
	return (frame + 1) * KEY;
}

uint8_t pattern_byte(uint64_t frame, uint64_t off)
{
	return (uint8_t)((first_word(frame) + off / 8 * STEP) >> (off % 8 * 8));
}

static void write_words(unsigned char *p, uint64_t n, uint64_t w)
{
	uint64_t i, le;

	for (i = 0; i < n; i++, w += STEP) {
		le = htole64(w);
		memcpy(p + 8 * i, &le, 8);
	}
}

static uint32_t write_words_crc(unsigned char *p, uint64_t n, uint64_t w,
				uint32_t crc)
{
	uint64_t i, le;

	for (i = 0; i < n; i++, w += STEP) {
		le = htole64(w);
		memcpy(p + 8 * i, &le, 8);
		crc = crc_word(crc, w);
	}
	return crc;
}

uint32_t pattern_write(void *dst, uint64_t len, uint64_t frame, bool crc)
{
	uint64_t n = len / 8, off;
	unsigned char *p = dst;
	uint32_t c = 0xffffffffu;

	if (crc)
		c = write_words_crc(p, n, first_word(frame), c);
	else
		write_words(p, n, first_word(frame));
	for (off = n * 8; off < len; off++) {
		p[off] = pattern_byte(frame, off);
		c = crc_byte(c, p[off]);
	}
	return crc ? ~c : 0;
}

static int64_t first_bad_byte(const unsigned char *p, uint64_t off,
			      uint64_t end, uint64_t frame)
{
	for (; off < end; off++)
		if (p[off] != pattern_byte(frame, off))
			return (int64_t)off;
	return -1;
}

int64_t pattern_check(const void *src, uint64_t len, uint64_t frame)
{
	const unsigned char *p = src;
	uint64_t n = len / 8, i, w = first_word(frame), le;

	for (i = 0; i < n; i++, w += STEP) {
		memcpy(&le, p + 8 * i, 8);
		if (le64toh(le) != w)
			return first_bad_byte(p, 8 * i, 8 * i + 8, frame);
	}
	return first_bad_byte(p, n * 8, len, frame);
}
