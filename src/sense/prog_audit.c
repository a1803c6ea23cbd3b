// SPDX-License-Identifier: Apache-2.0
/* Helper audit of an opened libbpf object, before load. */
#include "sense/prog_audit.h"

#include <errno.h>
#include <stdio.h>

#include "sense/helper_audit.h"

int sg_bpf_object_audit(struct bpf_object *obj, const void *elf, size_t elf_len, char *err,
			size_t errlen)
{
	struct sg_audit_finding f;
	struct bpf_program *p;
	char what[160], sec[64];
	int e;

	bpf_object__for_each_program(p, obj) {
		if (!sg_helper_audit(bpf_program__insns(p), bpf_program__insn_cnt(p), &f))
			continue;
		sg_audit_describe(&f, what, sizeof(what));
		snprintf(err, errlen, "BPF helper audit: object %s, program %s: %s; refusing to load",
			 bpf_object__name(obj), bpf_program__name(p), what);
		return -EPERM;
	}
	if (!elf)
		return 0;
	e = sg_helper_audit_elf(elf, elf_len, &f, sec, sizeof(sec));
	if (e == -EINVAL) {
		snprintf(err, errlen, "BPF helper audit: object %s: malformed ELF; refusing to load",
			 bpf_object__name(obj));
		return e;
	}
	if (e) {
		sg_audit_describe(&f, what, sizeof(what));
		snprintf(err, errlen, "BPF helper audit: object %s, section %s: %s; refusing to load",
			 bpf_object__name(obj), sec, what);
	}
	return e;
}
