// SPDX-License-Identifier: Apache-2.0
/*
 * The programs an allow-list must hold besides those the log names: the
 * kernel opens a dynamically linked program's interpreter (PT_INTERP, e.g.
 * /lib64/ld-linux-x86-64.so.2) for exec too, and an enforcing policy
 * decides that open like any other. The log has only the program, so each
 * learned program still on disk is read for its interpreter. (Running the
 * loader directly, `ld.so /prog`, is still judged by the program it runs.)
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/learn_interp.h"
#include "sense/file_hash.h"

struct sg_learn_interp {
	char **seen;		/* programs already read, and interpreters already added */
	size_t n, cap;
};

struct sg_learn_interp *sg_learn_interp_new(void)
{
	return calloc(1, sizeof(struct sg_learn_interp));
}

void sg_learn_interp_free(struct sg_learn_interp *li)
{
	size_t i;

	if (!li)
		return;
	for (i = 0; i < li->n; i++)
		free(li->seen[i]);
	free(li->seen);
	free(li);
}

/* true when s was seen before; else remembers it. */
static bool seen_before(struct sg_learn_interp *li, const char *s)
{
	size_t i;

	for (i = 0; i < li->n; i++)
		if (!strcmp(li->seen[i], s))
			return true;
	if (li->n == li->cap) {
		size_t cap = li->cap ? li->cap * 2 : 64;
		char **v = realloc(li->seen, cap * sizeof(*v));

		if (!v)
			return true;
		li->seen = v;
		li->cap = cap;
	}
	li->seen[li->n] = strdup(s);
	if (li->seen[li->n])
		li->n++;
	return false;
}

/* PT_INTERP of the ELF file at fd, into out; -ENOENT when it has none (static, a script). */
static int interp_of(int fd, char *out, size_t len)
{
	GElf_Phdr ph;
	size_t nph, i;
	int rc = -ENOENT;
	Elf *elf;

	if (elf_version(EV_CURRENT) == EV_NONE)
		return -EINVAL;
	elf = elf_begin(fd, ELF_C_READ, NULL);
	if (!elf)
		return -ENOENT;
	if (elf_kind(elf) == ELF_K_ELF && elf_getphdrnum(elf, &nph) == 0) {
		for (i = 0; i < nph; i++) {
			if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_INTERP)
				continue;
			if (ph.p_filesz == 0 || ph.p_filesz > len ||
			    pread(fd, out, ph.p_filesz, (off_t)ph.p_offset) != (ssize_t)ph.p_filesz ||
			    out[ph.p_filesz - 1] != '\0') {
				rc = -EINVAL;
				break;
			}
			rc = 0;
			break;
		}
	}
	elf_end(elf);
	return rc;
}

int sg_learn_interp_add(struct sg_learn_interp *li, struct sg_learn *l, const char *exe)
{
	char interp[PATH_MAX], real[PATH_MAX];
	uint8_t sha[SG_SHA256_LEN];
	int fd, rc;

	if (!exe || seen_before(li, exe))
		return 0;
	fd = open(exe, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;	/* gone since: nothing to read, nothing to add */
	rc = interp_of(fd, interp, sizeof(interp));
	close(fd);
	if (rc || !realpath(interp, real))
		return 0;
	if (seen_before(li, real))
		return 0;
	fd = open(real, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	rc = sg_file_sha256(fd, NULL, sha);
	close(fd);
	return rc ? 0 : sg_learn_add(l, real, sha, false);
}
