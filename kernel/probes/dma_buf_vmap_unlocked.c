// SPDX-License-Identifier: GPL-2.0
/* Probe: dma_buf_vmap_unlocked() exists (6.2+). */
#include <linux/dma-buf.h>
#include <linux/iosys-map.h>

int sgbuf_probe(struct dma_buf *dmabuf, struct iosys_map *map);
int sgbuf_probe(struct dma_buf *dmabuf, struct iosys_map *map)
{
	return dma_buf_vmap_unlocked(dmabuf, map);
}
