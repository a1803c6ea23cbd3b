// SPDX-License-Identifier: Apache-2.0
#include "sense/loader_args.h"

#include <stdbool.h>
#include <string.h>

/* glibc ld.so options that consume the next argument. */
static const char *const with_value[] = {
	"--library-path", "--inhibit-rpath", "--audit", "--preload", "--argv0",
	"--glibc-hwcaps-prefix", "--glibc-hwcaps-mask",
};

static bool takes_value(const char *opt)
{
	size_t i;

	for (i = 0; i < sizeof(with_value) / sizeof(with_value[0]); i++)
		if (!strcmp(opt, with_value[i]))
			return true;
	return false;
}

const char *sg_loader_program(const char *args, size_t len)
{
	size_t off = 0;
	bool first = true, skip_next = false;

	while (off < len) {
		const char *a = args + off;
		const char *nul = memchr(a, '\0', len - off);

		/* The caller passes complete argv; a missing final NUL ends the last one. */
		if (!nul)
			return first || skip_next ? NULL : a;
		off = (size_t)(nul - args) + 1;
		if (first) {
			first = false;
			continue;
		}
		if (skip_next) {
			skip_next = false;
			continue;
		}
		if (!strcmp(a, "--"))
			continue;
		if (!strncmp(a, "--", 2)) {
			skip_next = takes_value(a);
			continue;
		}
		return a;
	}
	return NULL;
}
