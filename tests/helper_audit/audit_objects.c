// SPDX-License-Identifier: Apache-2.0
/*
 * End-to-end proof of the BPF-2 helper audit on real BPF objects compiled
 * by clang: usage: audit_objects TESTDATA_DIR OUR_OBJECT...
 * - our objects (bpf/NAME.bpf.c) pass, and the helpers they call are exactly
 *   the allowlist (no unused entry, nothing missing);
 * - bpf/testdata/write_user.bpf.o (bpf_probe_write_user) is refused, naming
 *   the program, the helper and the instruction;
 * - bpf/testdata/write_user_subprog.bpf.o, which hides the call in a
 *   subprogram, is refused too;
 * - bpf/testdata/allowed.bpf.o passes.
 * Objects are opened with libbpf exactly as the loaders do, never loaded.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/libbpf.h>

#include "sense/helper_audit.h"
#include "sense/prog_audit.h"

static int failures;

#define CHECK(cond, ...)                                                   \
	do {                                                               \
		if (!(cond)) {                                             \
			fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__); \
			fprintf(stderr, __VA_ARGS__);                      \
			fputc('\n', stderr);                               \
			failures++;                                        \
		}                                                          \
	} while (0)

static void *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	void *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	fclose(f);
	*len = (size_t)n;
	return buf;
}

/* Audit `path` as the loaders do; returns the audit result, message in err. */
static int audit_path(const char *path, bool with_elf, char *err, size_t errlen)
{
	struct bpf_object *obj;
	size_t len = 0;
	void *elf = slurp(path, &len);
	int e;

	err[0] = '\0';
	obj = bpf_object__open_file(path, NULL);
	if (!obj || !elf) {
		snprintf(err, errlen, "cannot open %s", path);
		free(elf);
		bpf_object__close(obj);
		return -ENOENT;
	}
	e = sg_bpf_object_audit(obj, with_elf ? elf : NULL, len, err, errlen);
	bpf_object__close(obj);
	free(elf);
	return e;
}

/* Mark every helper id the object's code calls. */
static int collect_helpers(const char *path, bool *used, size_t max)
{
	int fd = open(path, O_RDONLY), rc = -1;
	Elf_Scn *scn = NULL;
	Elf *e;

	if (fd < 0)
		return -1;
	elf_version(EV_CURRENT);
	e = elf_begin(fd, ELF_C_READ, NULL);
	while (e && (scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		Elf_Data *d;
		size_t i;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_PROGBITS || !(sh.sh_flags & SHF_EXECINSTR))
			continue;
		d = elf_getdata(scn, NULL);
		for (i = 0; d && i + sizeof(struct bpf_insn) <= d->d_size; i += sizeof(struct bpf_insn)) {
			struct bpf_insn in;

			memcpy(&in, (char *)d->d_buf + i, sizeof(in));
			if (in.code == (BPF_JMP | BPF_CALL) && in.src_reg == 0 && in.imm > 0 &&
			    (size_t)in.imm < max)
				used[in.imm] = true;
		}
		rc = 0;
	}
	if (e)
		elf_end(e);
	close(fd);
	return rc;
}

int main(int argc, char **argv)
{
	bool used[__BPF_FUNC_MAX_ID + 1] = { false };
	char path[4096], err[512];
	const int32_t *allow;
	size_t nallow, i;
	int a, e;

	if (argc < 3) {
		fprintf(stderr, "usage: audit_objects TESTDATA_DIR OUR_OBJECT...\n");
		return 2;
	}
	libbpf_set_print(NULL);

	for (a = 2; a < argc; a++) {
		e = audit_path(argv[a], true, err, sizeof(err));
		CHECK(e == 0, "%s must pass the audit: %s", argv[a], err);
		CHECK(collect_helpers(argv[a], used, sizeof(used)) == 0, "%s: no code found", argv[a]);
	}
	nallow = sg_helper_allowlist(&allow);
	for (i = 0; i < nallow; i++) {
		CHECK(used[allow[i]], "allowlisted helper %d (%s) is used by none of our programs",
		      allow[i], sg_helper_name(allow[i]));
		used[allow[i]] = false;
	}
	for (i = 0; i < sizeof(used); i++)
		CHECK(!used[i], "helper %zu (%s) is used by our programs but not allowlisted", i,
		      sg_helper_name((int32_t)i));

	snprintf(path, sizeof(path), "%s/write_user.bpf.o", argv[1]);
	e = audit_path(path, true, err, sizeof(err));
	CHECK(e == -EPERM, "%s must be refused, got %d", path, e);
	CHECK(strstr(err, "program write_user") && strstr(err, "helper 36 (bpf_probe_write_user)") &&
	      strstr(err, "instruction "), "message does not name program, helper and instruction: %s", err);
	printf("refused as expected: %s\n", err);

	snprintf(path, sizeof(path), "%s/write_user_subprog.bpf.o", argv[1]);
	e = audit_path(path, false, err, sizeof(err));
	CHECK(e == 0, "programs alone do not contain the subprogram's call (%d: %s)", e, err);
	e = audit_path(path, true, err, sizeof(err));
	CHECK(e == -EPERM && strstr(err, "section .text") && strstr(err, "bpf_probe_write_user"),
	      "%s: the subprogram's call must be refused: %d %s", path, e, err);
	printf("refused as expected: %s\n", err);

	snprintf(path, sizeof(path), "%s/allowed.bpf.o", argv[1]);
	e = audit_path(path, true, err, sizeof(err));
	CHECK(e == 0, "%s must pass: %d %s", path, e, err);

	if (failures) {
		fprintf(stderr, "helper audit: %d failure(s)\n", failures);
		return 1;
	}
	printf("helper audit: all checks passed (%d objects of ours, %zu allowlisted helpers)\n",
	       argc - 2, nallow);
	return 0;
}
