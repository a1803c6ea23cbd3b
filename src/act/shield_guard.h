/* SPDX-License-Identifier: Apache-2.0 */
/* BPF-7 for the Shield: its pinned maps guarded by the file guard (BPF LSM only). */
#ifndef SG_ACT_SHIELD_GUARD_H
#define SG_ACT_SHIELD_GUARD_H

#include <stdbool.h>

/*
 * `files` is the daemon's struct sg_files (NULL: nothing to do). Guards
 * (on) or releases (off) every map pinned in SG_SHIELD_PIN_DIR, read and
 * write, so that only the daemon may open them; no Shield pinned is not an
 * error. Shaped as an sg_shield_guard_fn.
 */
void sg_shield_guard_pins(void *files, bool on);

#endif
