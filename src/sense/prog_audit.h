/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Loader side of the helper audit (SPEC BPF-2): run sg_helper_audit over an
 * opened, not yet loaded libbpf object, so a forbidden helper is refused
 * before the kernel ever sees it.
 */
#ifndef SG_PROG_AUDIT_H
#define SG_PROG_AUDIT_H

#include <stddef.h>

#include <bpf/libbpf.h>

/*
 * Audit every program of `obj` (bpf_program__insns) and, when `elf` is
 * given, every executable section of the object's ELF bytes, which also
 * covers subprograms (bpf-to-bpf callees, bpf_loop callbacks) that libbpf
 * only appends to a program during load. Returns 0, or -EPERM / -EINVAL
 * with `err` naming the program or section, the helper and the instruction.
 */
int sg_bpf_object_audit(struct bpf_object *obj, const void *elf, size_t elf_len, char *err,
			size_t errlen);

#endif
