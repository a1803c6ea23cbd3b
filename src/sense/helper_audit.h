/* SPDX-License-Identifier: Apache-2.0 */
/*
 * BPF helper audit (SPEC BPF-2): before a program is loaded, every call
 * instruction is checked against an allowlist. Pure (no libbpf, no I/O), so
 * it is unit-tested on crafted instruction arrays.
 *
 * Calls are BPF_JMP|BPF_CALL instructions, told apart by src_reg:
 * - 0: helper call, imm = helper id; allowed only if on the allowlist, which
 *   is exactly the helpers bpf/exec.bpf.c and bpf/probe.bpf.c use.
 * - BPF_PSEUDO_CALL (1): bpf-to-bpf call; allowed, because the callee is
 *   code of the same object and is audited too (sg_helper_audit_elf walks
 *   every executable section, subprograms included).
 * - BPF_PSEUDO_KFUNC_CALL (2): kernel function call; always refused. Our
 *   programs call no kfunc, and a kfunc's reach (e.g. bpf_obj_drop, crypto,
 *   cgroup or task mutators) is not bounded by the helper list. Allowing one
 *   means adding it here by name, reviewed, with a test.
 * - anything else, or another call encoding (BPF_X, JMP32): refused.
 */
#ifndef SG_HELPER_AUDIT_H
#define SG_HELPER_AUDIT_H

#include <stddef.h>
#include <stdint.h>
#include <linux/bpf.h>

enum sg_audit_kind {
	SG_AUDIT_OK = 0,
	SG_AUDIT_HELPER,	/* helper call outside the allowlist */
	SG_AUDIT_KFUNC,		/* kfunc call */
	SG_AUDIT_CALL_KIND,	/* unknown src_reg or call encoding */
};

struct sg_audit_finding {
	enum sg_audit_kind kind;
	size_t insn;		/* index of the offending instruction */
	int32_t helper_id;	/* imm of the call */
	uint8_t code, src_reg;
};

/* "bpf_probe_write_user" for a helper id this build knows, else "unknown". */
const char *sg_helper_name(int32_t id);
int sg_helper_allowed(int32_t id);
/* The allowlist, sorted by id; returns its length. */
size_t sg_helper_allowlist(const int32_t **ids);

/*
 * Audit insns[0..n). Returns 0 when every call is allowed, or -EPERM and
 * fills *f with the first forbidden one. An empty program passes.
 */
int sg_helper_audit(const struct bpf_insn *insns, size_t n, struct sg_audit_finding *f);

/*
 * Audit every executable section of a BPF ELF object held in memory
 * (e.g. a skeleton's embedded bytes). Returns 0, -EPERM with *f and the
 * section name in `section`, or -EINVAL when the ELF is malformed.
 */
int sg_helper_audit_elf(const void *elf, size_t len, struct sg_audit_finding *f, char *section,
			size_t seclen);

/* One line describing a finding, e.g. for "program X: <this>". */
void sg_audit_describe(const struct sg_audit_finding *f, char *out, size_t outlen);

#endif
