/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The block list's text (FILE-1: one absolute path a line, the last line
 * with or without its newline) and the edits `sysguardctl block add|del`
 * make to it. Pure: the caller reads and replaces the file.
 */
#ifndef SG_BLOCK_LIST_H
#define SG_BLOCK_LIST_H

#include <stddef.h>

/* The line of `list` (`len` bytes) equal to `path`, or NULL; *line_len counts its newline. */
const char *sg_block_list_find(const char *list, size_t len, const char *path, size_t *line_len);

/*
 * `list` with `path` appended as the last line, a newline first if `list`
 * lacks a final one: a malloc'd, NUL-terminated buffer in *out. 0 or -ENOMEM.
 */
int sg_block_list_add(const char *list, size_t len, const char *path, char **out,
		      size_t *out_len);

/*
 * `list` without its line equal to `path`, in a malloc'd, NUL-terminated
 * buffer in *out. 0, -ENOENT when no line is `path`, or -ENOMEM.
 */
int sg_block_list_del(const char *list, size_t len, const char *path, char **out,
		      size_t *out_len);

#endif
