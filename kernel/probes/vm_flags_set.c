// SPDX-License-Identifier: GPL-2.0
/* Probe: vm_flags_set() exists (6.3+). */
#include <linux/mm.h>

void sgbuf_probe(struct vm_area_struct *vma);
void sgbuf_probe(struct vm_area_struct *vma)
{
	vm_flags_set(vma, VM_DONTEXPAND);
}
