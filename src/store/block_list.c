// SPDX-License-Identifier: Apache-2.0
#include "store/block_list.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

const char *sg_block_list_find(const char *list, size_t len, const char *path, size_t *line_len)
{
	size_t plen = strlen(path), off = 0;

	while (off < len) {
		const char *nl = memchr(list + off, '\n', len - off);
		size_t l = nl ? (size_t)(nl - list - off) : len - off;

		if (l == plen && !memcmp(list + off, path, plen)) {
			*line_len = nl ? l + 1 : l;
			return list + off;
		}
		off += l + 1;
	}
	return NULL;
}

int sg_block_list_add(const char *list, size_t len, const char *path, char **out,
		      size_t *out_len)
{
	size_t plen = strlen(path), n = 0;
	/* The list, a newline it may lack, the path, its newline and the NUL. */
	char *b = malloc(len + 1 + plen + 1 + 1);

	if (!b)
		return -ENOMEM;
	if (len)
		memcpy(b, list, len);
	n = len;
	if (len && list[len - 1] != '\n')
		b[n++] = '\n';
	memcpy(b + n, path, plen);
	n += plen;
	b[n++] = '\n';
	b[n] = '\0';
	*out = b;
	*out_len = n;
	return 0;
}

int sg_block_list_del(const char *list, size_t len, const char *path, char **out,
		      size_t *out_len)
{
	size_t line_len = 0, before;
	const char *hit = sg_block_list_find(list, len, path, &line_len);
	char *b;

	if (!hit)
		return -ENOENT;
	b = malloc(len - line_len + 1);
	if (!b)
		return -ENOMEM;
	before = hit - list;
	memcpy(b, list, before);
	memcpy(b + before, hit + line_len, len - before - line_len);
	*out_len = len - line_len;
	b[*out_len] = '\0';
	*out = b;
	return 0;
}
