// SPDX-License-Identifier: Apache-2.0
/* libFuzzer target: the BPF-2 helper audit's ELF walker and instruction audit. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sense/helper_audit.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sg_audit_finding f;
	/* An exact-size private copy: reads past the end are caught; alignment is 1 on purpose. */
	uint8_t *copy = malloc(size + 1);
	char sec[64], msg[192];

	if (!copy)
		return 0;
	memcpy(copy + 1, data, size);
	if (sg_helper_audit_elf(copy + 1, size, &f, sec, sizeof(sec)) == -EPERM)
		sg_audit_describe(&f, msg, sizeof(msg));
	free(copy);
	return 0;
}
