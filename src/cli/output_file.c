// SPDX-License-Identifier: Apache-2.0
/* A command's output to its -o FILE or to stdout (see cli.h). */
#include <errno.h>
#include <string.h>

#include "cli/cli.h"

int sg_cli_write_output(const char *path, const char *text, FILE *errs)
{
	size_t len = strlen(text);
	FILE *o = path ? fopen(path, "we") : stdout;
	int e;

	if (!o) {
		e = errno;
		fprintf(errs, "%s: %s\n", path, strerror(e));
		return -e;
	}
	if (fwrite(text, 1, len, o) != len || fflush(o)) {
		fprintf(errs, "%s: write failed\n", path ? path : "stdout");
		if (path)
			fclose(o);
		return -EIO;
	}
	if (path && fclose(o)) {
		fprintf(errs, "%s: write failed\n", path);
		return -EIO;
	}
	return 0;
}
