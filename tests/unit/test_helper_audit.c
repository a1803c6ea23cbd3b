// SPDX-License-Identifier: Apache-2.0
/* BPF helper audit on crafted instruction arrays and crafted ELF objects. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sense/helper_audit.h"

#define CALL(src, imm_) ((struct bpf_insn){ .code = BPF_JMP | BPF_CALL, .src_reg = (src), .imm = (imm_) })
#define MOV_IMM(dst, imm_) ((struct bpf_insn){ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = (dst), .imm = (imm_) })
#define EXIT() ((struct bpf_insn){ .code = BPF_JMP | BPF_EXIT })

static void test_allowed_helpers_pass(void **state)
{
	struct bpf_insn prog[] = {
		CALL(0, BPF_FUNC_get_current_pid_tgid),
		CALL(0, BPF_FUNC_map_lookup_elem),
		CALL(0, BPF_FUNC_ringbuf_reserve),
		CALL(0, BPF_FUNC_send_signal),
		CALL(0, BPF_FUNC_loop),
		MOV_IMM(0, 0),
		EXIT(),
	};
	struct sg_audit_finding f;

	assert_int_equal(sg_helper_audit(prog, sizeof(prog) / sizeof(prog[0]), &f), 0);
	assert_int_equal(f.kind, SG_AUDIT_OK);
}

static void test_probe_write_user_is_refused_at_its_index(void **state)
{
	struct bpf_insn prog[] = {
		MOV_IMM(1, 0),
		CALL(0, BPF_FUNC_get_current_pid_tgid),
		CALL(0, BPF_FUNC_probe_write_user),
		CALL(0, BPF_FUNC_override_return),
		EXIT(),
	};
	struct sg_audit_finding f;
	char msg[160];

	assert_int_equal(sg_helper_audit(prog, 5, &f), -EPERM);
	assert_int_equal(f.kind, SG_AUDIT_HELPER);
	assert_int_equal(f.insn, 2);
	assert_int_equal(f.helper_id, BPF_FUNC_probe_write_user);
	sg_audit_describe(&f, msg, sizeof(msg));
	assert_non_null(strstr(msg, "instruction 2"));
	assert_non_null(strstr(msg, "bpf_probe_write_user"));
}

static void test_override_return_is_refused(void **state)
{
	struct bpf_insn prog[] = { CALL(0, BPF_FUNC_override_return), EXIT() };
	struct sg_audit_finding f;

	assert_int_equal(sg_helper_audit(prog, 2, &f), -EPERM);
	assert_int_equal(f.helper_id, BPF_FUNC_override_return);
	assert_string_equal(sg_helper_name(f.helper_id), "bpf_override_return");
}

static void test_other_dangerous_and_unknown_helpers_are_refused(void **state)
{
	const int32_t ids[] = { BPF_FUNC_send_signal_thread, BPF_FUNC_tail_call, BPF_FUNC_map_push_elem,
				BPF_FUNC_d_path, BPF_FUNC_sys_bpf, 0, -1, 100000 };
	struct sg_audit_finding f;
	size_t i;

	for (i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		struct bpf_insn prog[] = { CALL(0, ids[i]) };

		assert_int_equal(sg_helper_audit(prog, 1, &f), -EPERM);
		assert_int_equal(f.helper_id, ids[i]);
	}
	assert_string_equal(sg_helper_name(100000), "unknown");
	assert_string_equal(sg_helper_name(-1), "unknown");
}

static void test_bpf_to_bpf_calls_pass(void **state)
{
	struct bpf_insn prog[] = { CALL(BPF_PSEUDO_CALL, 3), MOV_IMM(0, 0), EXIT() };
	struct sg_audit_finding f;

	assert_int_equal(sg_helper_audit(prog, 3, &f), 0);
}

static void test_kfunc_calls_are_refused(void **state)
{
	struct bpf_insn prog[] = { MOV_IMM(0, 0), CALL(BPF_PSEUDO_KFUNC_CALL, 12345), EXIT() };
	struct sg_audit_finding f;
	char msg[160];

	assert_int_equal(sg_helper_audit(prog, 3, &f), -EPERM);
	assert_int_equal(f.kind, SG_AUDIT_KFUNC);
	assert_int_equal(f.insn, 1);
	sg_audit_describe(&f, msg, sizeof(msg));
	assert_non_null(strstr(msg, "kfunc"));
}

static void test_odd_call_encodings_are_refused(void **state)
{
	struct bpf_insn jmp32 = { .code = BPF_JMP32 | BPF_CALL, .imm = BPF_FUNC_map_lookup_elem };
	struct bpf_insn callx = { .code = BPF_JMP | BPF_CALL | BPF_X, .imm = BPF_FUNC_map_lookup_elem };
	struct bpf_insn weird_src = CALL(7, BPF_FUNC_map_lookup_elem);
	struct sg_audit_finding f;

	assert_int_equal(sg_helper_audit(&jmp32, 1, &f), -EPERM);
	assert_int_equal(f.kind, SG_AUDIT_CALL_KIND);
	assert_int_equal(sg_helper_audit(&callx, 1, &f), -EPERM);
	assert_int_equal(f.kind, SG_AUDIT_CALL_KIND);
	assert_int_equal(sg_helper_audit(&weird_src, 1, &f), -EPERM);
	assert_int_equal(f.kind, SG_AUDIT_CALL_KIND);
}

static void test_empty_program_passes(void **state)
{
	struct sg_audit_finding f;

	assert_int_equal(sg_helper_audit(NULL, 0, &f), 0);
}

static void test_non_call_with_forbidden_imm_passes(void **state)
{
	struct bpf_insn prog[] = { MOV_IMM(1, BPF_FUNC_probe_write_user), EXIT() };
	struct sg_audit_finding f;

	assert_int_equal(sg_helper_audit(prog, 2, &f), 0);
}

static void test_allowlist_is_sorted_and_excludes_dangerous_helpers(void **state)
{
	const int32_t *ids;
	size_t n = sg_helper_allowlist(&ids), i;

	assert_true(n > 0);
	for (i = 1; i < n; i++)
		assert_true(ids[i - 1] < ids[i]);
	assert_false(sg_helper_allowed(BPF_FUNC_probe_write_user));
	assert_false(sg_helper_allowed(BPF_FUNC_override_return));
	assert_false(sg_helper_allowed(BPF_FUNC_send_signal_thread));
	assert_false(sg_helper_allowed(BPF_FUNC_map_push_elem));
	assert_false(sg_helper_allowed(BPF_FUNC_sys_bpf));
}

/* A minimal BPF ELF: null section, .shstrtab, one executable section. */
static size_t build_elf(uint8_t *buf, size_t cap, const struct bpf_insn *insns, size_t n,
			uint64_t flags)
{
	static const char names[] = "\0.shstrtab\0tp/x";
	Elf64_Ehdr eh = { 0 };
	Elf64_Shdr sh[3] = { 0 };
	size_t off = sizeof(eh), code_off, shoff;

	memcpy(eh.e_ident, ELFMAG, SELFMAG);
	eh.e_ident[EI_CLASS] = ELFCLASS64;
	eh.e_ident[EI_DATA] = ELFDATA2LSB;
	eh.e_ident[EI_VERSION] = EV_CURRENT;
	eh.e_type = ET_REL;
	eh.e_machine = EM_BPF;
	eh.e_version = EV_CURRENT;
	eh.e_ehsize = sizeof(eh);
	eh.e_shentsize = sizeof(Elf64_Shdr);
	eh.e_shnum = 3;
	eh.e_shstrndx = 1;
	memcpy(buf + off, names, sizeof(names));
	sh[1].sh_name = 1;
	sh[1].sh_type = SHT_STRTAB;
	sh[1].sh_offset = off;
	sh[1].sh_size = sizeof(names);
	off += sizeof(names);
	code_off = (off + 7) & ~(size_t)7;
	memcpy(buf + code_off, insns, n * sizeof(*insns));
	sh[2].sh_name = 11;
	sh[2].sh_type = SHT_PROGBITS;
	sh[2].sh_flags = flags;
	sh[2].sh_offset = code_off;
	sh[2].sh_size = n * sizeof(*insns);
	shoff = (code_off + n * sizeof(*insns) + 7) & ~(size_t)7;
	eh.e_shoff = shoff;
	memcpy(buf, &eh, sizeof(eh));
	memcpy(buf + shoff, sh, sizeof(sh));
	assert_true(shoff + sizeof(sh) <= cap);
	return shoff + sizeof(sh);
}

static void test_elf_sections_are_audited(void **state)
{
	struct bpf_insn good[] = { CALL(0, BPF_FUNC_map_lookup_elem), EXIT() };
	struct bpf_insn bad[] = { MOV_IMM(1, 0), CALL(0, BPF_FUNC_probe_write_user), EXIT() };
	_Alignas(8) uint8_t buf[1024];
	struct sg_audit_finding f;
	char sec[32];
	size_t len;

	len = build_elf(buf, sizeof(buf), good, 2, SHF_ALLOC | SHF_EXECINSTR);
	assert_int_equal(sg_helper_audit_elf(buf, len, &f, sec, sizeof(sec)), 0);
	len = build_elf(buf, sizeof(buf), bad, 3, SHF_ALLOC | SHF_EXECINSTR);
	assert_int_equal(sg_helper_audit_elf(buf, len, &f, sec, sizeof(sec)), -EPERM);
	assert_string_equal(sec, "tp/x");
	assert_int_equal(f.insn, 1);
	assert_int_equal(f.helper_id, BPF_FUNC_probe_write_user);
	/* Data sections are not code. */
	len = build_elf(buf, sizeof(buf), bad, 3, SHF_ALLOC | SHF_WRITE);
	assert_int_equal(sg_helper_audit_elf(buf, len, &f, sec, sizeof(sec)), 0);
}

static void test_malformed_elf_is_refused(void **state)
{
	struct bpf_insn good[] = { CALL(0, BPF_FUNC_map_lookup_elem), EXIT() };
	_Alignas(8) uint8_t buf[1024];
	struct sg_audit_finding f;
	char sec[32];
	size_t len = build_elf(buf, sizeof(buf), good, 2, SHF_EXECINSTR), cut;
	Elf64_Ehdr eh;

	for (cut = 0; cut < len; cut++)
		assert_int_equal(sg_helper_audit_elf(buf, cut, &f, sec, sizeof(sec)), -EINVAL);
	memcpy(&eh, buf, sizeof(eh));
	eh.e_machine = EM_X86_64;
	memcpy(buf, &eh, sizeof(eh));
	assert_int_equal(sg_helper_audit_elf(buf, len, &f, sec, sizeof(sec)), -EINVAL);
	assert_int_equal(sg_helper_audit_elf("", 0, &f, sec, sizeof(sec)), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_allowed_helpers_pass),
		cmocka_unit_test(test_probe_write_user_is_refused_at_its_index),
		cmocka_unit_test(test_override_return_is_refused),
		cmocka_unit_test(test_other_dangerous_and_unknown_helpers_are_refused),
		cmocka_unit_test(test_bpf_to_bpf_calls_pass),
		cmocka_unit_test(test_kfunc_calls_are_refused),
		cmocka_unit_test(test_odd_call_encodings_are_refused),
		cmocka_unit_test(test_empty_program_passes),
		cmocka_unit_test(test_non_call_with_forbidden_imm_passes),
		cmocka_unit_test(test_allowlist_is_sorted_and_excludes_dangerous_helpers),
		cmocka_unit_test(test_elf_sections_are_audited),
		cmocka_unit_test(test_malformed_elf_is_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
