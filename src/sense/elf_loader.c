// SPDX-License-Identifier: Apache-2.0
#include "sense/elf_loader.h"

#include <errno.h>
#include <string.h>

#include <gelf.h>
#include <libelf.h>

bool sg_soname_is_loader(const char *s)
{
	return !strncmp(s, "ld-linux", 8) || !strncmp(s, "ld64.so", 7) ||
	       !strncmp(s, "ld-musl", 7) || !strncmp(s, "ld.so", 5) || !strcmp(s, "libc.so");
}

/* DT_SONAME from the dynamic section, or NULL. */
static const char *soname_of(Elf *elf)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;

	while ((scn = elf_nextscn(elf, scn))) {
		Elf_Data *data;
		size_t i, n;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_DYNAMIC || !sh.sh_entsize)
			continue;
		data = elf_getdata(scn, NULL);
		if (!data)
			return NULL;
		n = sh.sh_size / sh.sh_entsize;
		for (i = 0; i < n; i++) {
			GElf_Dyn dyn;

			if (!gelf_getdyn(data, i, &dyn))
				break;
			if (dyn.d_tag == DT_SONAME)
				return elf_strptr(elf, sh.sh_link, dyn.d_un.d_val);
		}
	}
	return NULL;
}

int sg_elf_is_loader(int fd)
{
	const char *soname;
	Elf *elf;
	int r;

	if (elf_version(EV_CURRENT) == EV_NONE)
		return -ENOSYS;
	elf = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!elf)
		return -ENOEXEC;
	soname = elf_kind(elf) == ELF_K_ELF ? soname_of(elf) : NULL;
	r = soname && sg_soname_is_loader(soname);
	elf_end(elf);
	return r;
}
