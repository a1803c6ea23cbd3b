// SPDX-License-Identifier: Apache-2.0
/* BPF helper allowlist audit over instruction arrays and BPF ELF objects. */
#include "sense/helper_audit.h"

#include <elf.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Names for messages, from the kernel's own helper list (FN(x) or FN(x, id)). */
#define SG_HELPER_NAME(x, ...) [BPF_FUNC_##x] = "bpf_" #x
static const char *const helper_names[__BPF_FUNC_MAX_ID] = {
	__BPF_FUNC_MAPPER(SG_HELPER_NAME)
};
#undef SG_HELPER_NAME

/* Exactly what our BPF objects (bpf/NAME.bpf.c) call (checked by tests/helper_audit). */
static const int32_t allowlist[] = {
	BPF_FUNC_map_lookup_elem,
	/* The exec object's held map: a hold and its release live in the kernel. */
	BPF_FUNC_map_update_elem,
	BPF_FUNC_map_delete_elem,
	BPF_FUNC_get_current_pid_tgid,
	BPF_FUNC_get_current_uid_gid,
	BPF_FUNC_get_current_comm,
	BPF_FUNC_get_current_task,	/* 35; egress: cgroup hooks may not take the BTF variant */
	BPF_FUNC_get_current_cgroup_id,
	BPF_FUNC_send_signal,
	BPF_FUNC_probe_read_user,
	BPF_FUNC_probe_read_kernel,
	/* file_refusal: a refused call's path argument, as the caller gave it; read-only. */
	BPF_FUNC_probe_read_user_str,
	BPF_FUNC_probe_read_kernel_str,
	/* egress: which container cgroup a caller is under (scoped rules); read-only. */
	BPF_FUNC_get_current_ancestor_cgroup_id,
	BPF_FUNC_ktime_get_boot_ns,
	BPF_FUNC_ringbuf_reserve,
	BPF_FUNC_ringbuf_submit,
	BPF_FUNC_ringbuf_query,
	/* libraries: the instruction fault a thread is in (its own storage). */
	BPF_FUNC_task_storage_get,
	BPF_FUNC_get_current_task_btf,
	/* libraries: the user ip of the faulting thread, to tie a page-cache event to its fault. */
	BPF_FUNC_task_pt_regs,
	BPF_FUNC_loop,
};

const char *sg_helper_name(int32_t id)
{
	if (id > 0 && id < __BPF_FUNC_MAX_ID && helper_names[id])
		return helper_names[id];
	return "unknown";
}

int sg_helper_allowed(int32_t id)
{
	size_t i;

	for (i = 0; i < sizeof(allowlist) / sizeof(allowlist[0]); i++)
		if (allowlist[i] == id)
			return 1;
	return 0;
}

size_t sg_helper_allowlist(const int32_t **ids)
{
	*ids = allowlist;
	return sizeof(allowlist) / sizeof(allowlist[0]);
}

static enum sg_audit_kind classify(const struct bpf_insn *in)
{
	uint8_t cls = BPF_CLASS(in->code);

	if ((cls != BPF_JMP && cls != BPF_JMP32) || BPF_OP(in->code) != BPF_CALL)
		return SG_AUDIT_OK;
	if (in->code != (BPF_JMP | BPF_CALL | BPF_K))
		return SG_AUDIT_CALL_KIND;
	switch (in->src_reg) {
	case 0:
		return sg_helper_allowed(in->imm) ? SG_AUDIT_OK : SG_AUDIT_HELPER;
	case BPF_PSEUDO_CALL:
		return SG_AUDIT_OK;
	case BPF_PSEUDO_KFUNC_CALL:
		return SG_AUDIT_KFUNC;
	default:
		return SG_AUDIT_CALL_KIND;
	}
}

static int check(const struct bpf_insn *in, size_t idx, struct sg_audit_finding *f)
{
	enum sg_audit_kind k = classify(in);

	if (k == SG_AUDIT_OK)
		return 0;
	f->kind = k;
	f->insn = idx;
	f->helper_id = in->imm;
	f->code = in->code;
	f->src_reg = in->src_reg;
	return -EPERM;
}

int sg_helper_audit(const struct bpf_insn *insns, size_t n, struct sg_audit_finding *f)
{
	size_t i;

	memset(f, 0, sizeof(*f));
	for (i = 0; i < n; i++)
		if (check(&insns[i], i, f))
			return -EPERM;
	return 0;
}

static int in_bounds(size_t len, uint64_t off, uint64_t size)
{
	return off <= len && size <= len - off;
}

/* Section header `i`, copied: the ELF bytes (e.g. a skeleton's string literal) may be unaligned. */
static void shdr(const unsigned char *b, const Elf64_Ehdr *eh, size_t i, Elf64_Shdr *out)
{
	memcpy(out, b + eh->e_shoff + i * sizeof(*out), sizeof(*out));
}

int sg_helper_audit_elf(const void *elf, size_t len, struct sg_audit_finding *f, char *section,
			size_t seclen)
{
	const unsigned char *b = elf;
	Elf64_Shdr strtab;
	Elf64_Ehdr eh;
	size_t s;

	memset(f, 0, sizeof(*f));
	if (seclen)
		section[0] = '\0';
	if (len < sizeof(eh))
		return -EINVAL;
	memcpy(&eh, b, sizeof(eh));
	if (memcmp(eh.e_ident, ELFMAG, SELFMAG) || eh.e_ident[EI_CLASS] != ELFCLASS64 ||
	    eh.e_ident[EI_DATA] != ELFDATA2LSB || eh.e_machine != EM_BPF ||
	    eh.e_shentsize != sizeof(Elf64_Shdr) || eh.e_shstrndx >= eh.e_shnum ||
	    !in_bounds(len, eh.e_shoff, (uint64_t)eh.e_shnum * sizeof(Elf64_Shdr)))
		return -EINVAL;
	shdr(b, &eh, eh.e_shstrndx, &strtab);
	if (!in_bounds(len, strtab.sh_offset, strtab.sh_size))
		return -EINVAL;
	for (s = 0; s < eh.e_shnum; s++) {
		Elf64_Shdr sh;
		uint64_t i;

		shdr(b, &eh, s, &sh);
		if (sh.sh_type != SHT_PROGBITS || !(sh.sh_flags & SHF_EXECINSTR))
			continue;
		if (!in_bounds(len, sh.sh_offset, sh.sh_size) || sh.sh_size % sizeof(struct bpf_insn))
			return -EINVAL;
		for (i = 0; i < sh.sh_size / sizeof(struct bpf_insn); i++) {
			struct bpf_insn in;

			memcpy(&in, b + sh.sh_offset + i * sizeof(in), sizeof(in));
			if (!check(&in, (size_t)i, f))
				continue;
			if (seclen) {
				size_t max = sh.sh_name < strtab.sh_size ? strtab.sh_size - sh.sh_name : 0;
				const char *name = max ? (const char *)b + strtab.sh_offset + sh.sh_name : "";
				const char *end = max ? memchr(name, '\0', max) : NULL;

				snprintf(section, seclen, "%.*s", end ? (int)(end - name) : 0, end ? name : "");
			}
			return -EPERM;
		}
	}
	return 0;
}

void sg_audit_describe(const struct sg_audit_finding *f, char *out, size_t outlen)
{
	switch (f->kind) {
	case SG_AUDIT_OK:
		snprintf(out, outlen, "no forbidden call");
		break;
	case SG_AUDIT_HELPER:
		snprintf(out, outlen, "instruction %zu calls helper %d (%s), which is not on the allowlist",
			 f->insn, f->helper_id, sg_helper_name(f->helper_id));
		break;
	case SG_AUDIT_KFUNC:
		snprintf(out, outlen, "instruction %zu calls a kfunc (BTF id %d); kfuncs are refused",
			 f->insn, f->helper_id);
		break;
	case SG_AUDIT_CALL_KIND:
		snprintf(out, outlen, "instruction %zu is a call of unsupported kind (code 0x%02x, src_reg %u)",
			 f->insn, f->code, f->src_reg);
		break;
	}
}
