// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/block_cmd.h"
#include "store/bundle_files.h"

#define LIST_MAX (64u << 20)

static int usage(void)
{
	fprintf(stderr, "usage: sysguardctl block add PATH | del PATH | list\n");
	return 2;
}

/* The line of `list` equal to `path`, or NULL. */
static char *find_line(char *list, size_t len, const char *path, size_t *line_len)
{
	size_t plen = strlen(path), off = 0;

	while (off < len) {
		char *nl = memchr(list + off, '\n', len - off);
		size_t l = nl ? (size_t)(nl - list - off) : len - off;

		if (l == plen && !memcmp(list + off, path, plen)) {
			*line_len = nl ? l + 1 : l;
			return list + off;
		}
		off += l + 1;
	}
	return NULL;
}

int sg_cli_block(int argc, char **argv, const char *blocklist, int (*reload)(void))
{
	char err[512], resolved[PATH_MAX], *list = NULL, *out, *hit;
	const char *path;
	size_t len = 0, line_len = 0;
	bool add;
	struct stat st;
	int rc;

	if (argc == 2 && !strcmp(argv[1], "list")) {
		rc = sg_file_read_all(blocklist, LIST_MAX, &list, &len, err, sizeof(err));
		if (rc && rc != -ENOENT) {
			fprintf(stderr, "sysguardctl: %s\n", err);
			return 1;
		}
		if (len)
			fwrite(list, 1, len, stdout);
		free(list);
		return 0;
	}
	if (argc != 3 || (strcmp(argv[1], "add") && strcmp(argv[1], "del")))
		return usage();
	add = !strcmp(argv[1], "add");
	path = argv[2];
	/* The file itself is protected, by inode: name it by its real path. */
	if (realpath(path, resolved)) {
		path = resolved;
	} else if (add || path[0] != '/') {
		fprintf(stderr, "sysguardctl: %s: %s\n", argv[2], strerror(errno));
		return 1;
	}
	if (add && (stat(path, &st) || !S_ISREG(st.st_mode))) {
		fprintf(stderr, "sysguardctl: %s: only regular files can be blocked\n", path);
		return 1;
	}
	if (strchr(path, '\n')) {
		fprintf(stderr, "sysguardctl: %s: a path with a newline cannot go in the block list\n",
			argv[2]);
		return 1;
	}
	rc = sg_file_read_all(blocklist, LIST_MAX, &list, &len, err, sizeof(err));
	if (rc && rc != -ENOENT) {
		fprintf(stderr, "sysguardctl: %s\n", err);
		return 1;
	}
	hit = list ? find_line(list, len, path, &line_len) : NULL;
	if (add == !!hit) {
		printf("%s %s the block list\n", path, add ? "is already in" : "is not in");
		free(list);
		return 0;
	}
	out = malloc(len + strlen(path) + 2);
	if (!out) {
		free(list);
		return 1;
	}
	if (add) {
		memcpy(out, list, len);
		if (len && list[len - 1] != '\n')
			out[len++] = '\n';
		len += sprintf(out + len, "%s\n", path);
	} else {
		size_t before = hit - list;

		memcpy(out, list, before);
		memcpy(out + before, hit + line_len, len - before - line_len);
		len -= line_len;
	}
	free(list);
	rc = sg_file_replace(blocklist, out, len, 0600, err, sizeof(err));
	free(out);
	if (rc) {
		fprintf(stderr, "sysguardctl: %s\n", err);
		return 1;
	}
	printf("%s %s\n", add ? "blocked" : "unblocked", path);
	return reload();
}
