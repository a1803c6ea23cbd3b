/* SPDX-License-Identifier: Apache-2.0 */
/* Is this ELF file a dynamic loader (glibc ld.so, musl's libc.so), whatever it is called? */
#ifndef SG_ELF_LOADER_H
#define SG_ELF_LOADER_H

#include <stdbool.h>

/*
 * Judge a loader-shaped ELF (ET_DYN, no PT_INTERP) by its dynamic segment,
 * found through the program headers (section headers are optional and can
 * be zeroed): a DT_SONAME naming a loader ("ld-linux*", "ld64.so*",
 * "ld-musl*", musl's "libc.so") is one; no DT_SONAME is one too unless
 * DT_FLAGS_1 marks a PIE executable (static-pie); an unreadable dynamic
 * segment is judged a loader. A renamed or copied loader is still one.
 * Returns 1, 0, or a negative errno.
 */
int sg_elf_is_loader(int fd);

/* The SONAME rule alone (pure, for tests). */
bool sg_soname_is_loader(const char *soname);

#endif
