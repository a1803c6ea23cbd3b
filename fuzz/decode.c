// SPDX-License-Identifier: Apache-2.0
/* libFuzzer target: ring-buffer record decoding on arbitrary bytes. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sense/decode.h"

/* Read every byte a view points at, so ASan sees any out-of-bounds range. */
static unsigned touch(const char *p, size_t n)
{
	unsigned sum = 0;
	size_t i;

	for (i = 0; i < n; i++)
		sum += (unsigned char)p[i];
	return sum;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static volatile unsigned sink;
	struct sg_exec_view v;
	struct sg_net_event n;
	/* A private copy, exactly `size` bytes, so reads past the record are caught. */
	uint8_t *copy = malloc(size ? size : 1);
	char out[64];

	if (!copy)
		return 0;
	memcpy(copy, data, size);
	switch (sg_event_type(copy, size)) {
	case SG_EV_EXEC:
		if (sg_decode_exec(copy, size, &v) == 0) {
			sink += touch(v.path, v.path_len + 1);
			sink += touch(v.args, v.args_len);
			sink += touch(v.filename, v.filename_len);
		}
		break;
	case SG_EV_NET:
		sink += (unsigned)sg_decode_net(copy, size, &n);
		break;
	default:
		break;
	}
	/* The path rebuilder alone, with a small output buffer and raw components. */
	if (size > 2) {
		size_t len = sg_path_from_components((const char *)copy + 2, size - 2, copy[0],
						     copy[1] & 1, out, 1 + copy[1] % sizeof(out));

		sink += touch(out, len + 1);
	}
	free(copy);
	return 0;
}
