/* SPDX-License-Identifier: Apache-2.0 */
/* Is this ELF file a dynamic loader (glibc ld.so, musl's libc.so), whatever it is called? */
#ifndef SG_ELF_LOADER_H
#define SG_ELF_LOADER_H

#include <stdbool.h>

/*
 * Judge by content: the DT_SONAME of its dynamic section names a loader
 * ("ld-linux*", "ld64.so*", "ld-musl*", musl's "libc.so"). A renamed or
 * copied loader is still one. Returns 1, 0, or a negative errno.
 */
int sg_elf_is_loader(int fd);

/* The SONAME rule alone (pure, for tests). */
bool sg_soname_is_loader(const char *soname);

#endif
