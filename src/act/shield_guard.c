// SPDX-License-Identifier: Apache-2.0
#include "act/shield_guard.h"

#include <stddef.h>

#include "act/files.h"
#include "act/shield.h"

void sg_shield_guard_pins(void *files, bool on)
{
	struct sg_shield *s;
	char err[256];
	int fds[16];
	size_t n;

	if (!files)
		return;
	/* Opening the pins waits for an editor's lock: by then its maps are final. */
	if (sg_shield_open(SG_SHIELD_PIN_DIR, &s, err, sizeof(err)))
		return;
	n = sg_shield_map_fds(s, fds, sizeof(fds) / sizeof(fds[0]));
	sg_files_guard_fds(files, fds, n, on, "shield");
	sg_shield_close(s);
}
