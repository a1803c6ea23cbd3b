// SPDX-License-Identifier: Apache-2.0
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli/block_cmd.h"
#include "store/block_list.h"
#include "store/bundle_files.h"

#define LIST_MAX (64u << 20)

static int usage(void)
{
	fprintf(stderr, "usage: sysguardctl block add PATH | del PATH | list\n");
	return 2;
}

int sg_cli_block(int argc, char **argv, const char *blocklist, int (*reload)(void))
{
	char err[512], resolved[PATH_MAX], *list = NULL, *out = NULL;
	const char *path;
	size_t len = 0, line_len = 0, out_len = 0;
	bool add, listed;
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
	listed = list && sg_block_list_find(list, len, path, &line_len);
	if (add == listed) {
		printf("%s %s the block list\n", path, add ? "is already in" : "is not in");
		free(list);
		return 0;
	}
	rc = add ? sg_block_list_add(list, len, path, &out, &out_len) :
		   sg_block_list_del(list, len, path, &out, &out_len);
	if (rc) {
		fprintf(stderr, "sysguardctl: %s: %s\n", blocklist, strerror(-rc));
		free(list);
		return 1;
	}
	free(list);
	rc = sg_file_replace(blocklist, out, out_len, 0600, err, sizeof(err));
	free(out);
	if (rc) {
		fprintf(stderr, "sysguardctl: %s\n", err);
		return 1;
	}
	printf("%s %s\n", add ? "blocked" : "unblocked", path);
	return reload();
}
