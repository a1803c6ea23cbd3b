// SPDX-License-Identifier: Apache-2.0
#include "sense/elf_loader.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <gelf.h>
#include <libelf.h>

bool sg_soname_is_loader(const char *s)
{
	return !strncmp(s, "ld-linux", 8) || !strncmp(s, "ld64.so", 7) ||
	       !strncmp(s, "ld-musl", 7) || !strncmp(s, "ld.so", 5) || !strcmp(s, "libc.so");
}

#define SG_DYN_MAX 512		/* dynamic entries read; ld.so has about 30 */

/* File offset of a virtual address through the PT_LOAD segments, or -1. */
static off_t offset_of(Elf *elf, size_t nph, GElf_Addr vaddr)
{
	GElf_Phdr ph;
	size_t i;

	for (i = 0; i < nph; i++) {
		if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_LOAD)
			continue;
		if (vaddr >= ph.p_vaddr && vaddr - ph.p_vaddr < ph.p_filesz)
			return (off_t)(ph.p_offset + (vaddr - ph.p_vaddr));
	}
	return -1;
}

/*
 * What the dynamic segment says, read through the program headers: they
 * are what the kernel and the loader use, so they cannot be stripped the
 * way section headers can. 0, or -ENOEXEC when there is no readable one.
 */
static int dynamic_of(int fd, Elf *elf, char *soname, size_t len, bool *pie)
{
	GElf_Addr strtab = 0, soname_off = 0;
	bool has_soname = false;
	Elf64_Dyn dyn[64];
	GElf_Phdr ph;
	size_t nph, i, done = 0;
	off_t at = -1, end = 0;
	ssize_t n;

	soname[0] = '\0';
	*pie = false;
	if (gelf_getclass(elf) != ELFCLASS64 || elf_getphdrnum(elf, &nph))
		return -ENOEXEC;
	for (i = 0; i < nph && at < 0; i++)
		if (gelf_getphdr(elf, (int)i, &ph) && ph.p_type == PT_DYNAMIC) {
			at = (off_t)ph.p_offset;
			end = at + (off_t)ph.p_filesz;
		}
	if (at < 0)
		return -ENOEXEC;
	while (at < end && done < SG_DYN_MAX) {
		size_t want = (size_t)(end - at) < sizeof(dyn) ? (size_t)(end - at) : sizeof(dyn);

		n = pread(fd, dyn, want, at);
		if (n < (ssize_t)sizeof(dyn[0]))
			return -ENOEXEC;
		for (i = 0; i < (size_t)n / sizeof(dyn[0]); i++, done++) {
			if (dyn[i].d_tag == DT_NULL)
				goto parsed;
			if (dyn[i].d_tag == DT_STRTAB)
				strtab = dyn[i].d_un.d_ptr;
			else if (dyn[i].d_tag == DT_SONAME) {
				soname_off = dyn[i].d_un.d_val;
				has_soname = true;
			} else if (dyn[i].d_tag == DT_FLAGS_1 && (dyn[i].d_un.d_val & DF_1_PIE))
				*pie = true;
		}
		at += n;
	}
parsed:
	if (has_soname && strtab) {
		off_t off = offset_of(elf, nph, strtab);

		if (off < 0 || (n = pread(fd, soname, len - 1, off + (off_t)soname_off)) <= 0)
			return -ENOEXEC;
		soname[n] = '\0';
		soname[strnlen(soname, (size_t)n)] = '\0';
	}
	return 0;
}

int sg_elf_is_loader(int fd)
{
	char soname[64];
	bool pie;
	Elf *elf;
	int r;

	if (elf_version(EV_CURRENT) == EV_NONE)
		return -ENOSYS;
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf)
		return -ENOEXEC;
	if (elf_kind(elf) != ELF_K_ELF) {
		r = -ENOEXEC;
	} else if (dynamic_of(fd, elf, soname, sizeof(soname), &pie)) {
		/* Shaped like a loader and nothing says otherwise: judged as one. */
		r = 1;
	} else if (soname[0]) {
		r = sg_soname_is_loader(soname);
	} else {
		/* No name: a static-pie program says it is an executable (DF_1_PIE). */
		r = !pie;
	}
	elf_end(elf);
	return r;
}
