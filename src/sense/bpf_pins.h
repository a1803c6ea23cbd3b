/* SPDX-License-Identifier: Apache-2.0 */
/*
 * BPF-5: the daemon's programs, links and maps pinned under bpffs, so that
 * in-kernel enforcement outlives a killed daemon and a restarted one adopts
 * the state instead of stacking a second copy. A clean stop removes them.
 */
#ifndef SG_BPF_PINS_H
#define SG_BPF_PINS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <bpf/libbpf.h>

#define SG_PIN_ROOT	"/sys/fs/bpf/sysguard"
#define SG_PIN_EXEC	SG_PIN_ROOT "/exec"
#define SG_PIN_EGRESS	SG_PIN_ROOT "/egress"

/*
 * Before load: give every map of obj except the internal ones (.bss,
 * .rodata: each program copy keeps its own) a pin path in dir. libbpf then
 * reuses a compatible pinned map or creates and pins a new one.
 */
int sg_pins_set_maps(struct bpf_object *obj, const char *dir);

/*
 * Pin link as dir/name. A link pinned there by an earlier daemon is unpinned
 * first, which detaches it: the new one is already attached, so nothing is
 * unguarded in between. Returns 1 when it replaced one, 0 when not, -errno.
 */
int sg_pins_link(struct bpf_link *link, const char *dir, const char *name);

/*
 * Remove every pin in dir and dir itself; `each` (may be NULL) hears each
 * removed path. Programs whose only holder was a pin detach. 0, or -errno
 * of the first failure (the rest is still tried).
 */
int sg_pins_remove(const char *dir, void (*each)(const char *path, void *ctx), void *ctx);

/* Unpin (and so detach) links in dir named "link_*" that are not among keep[0..n). */
void sg_pins_drop_links_except(const char *dir, const char *const *keep, size_t n);

/* True when dir holds any pin. */
bool sg_pins_exist(const char *dir);

/* The ids of the programs the links pinned in dir run (at most max), for sg_pins_wait_gone. */
size_t sg_pins_prog_ids(const char *dir, uint32_t *ids, size_t max);
/*
 * Wait, at most ms, until none of these programs exists: a hook that cannot
 * be detached (tracepoints) stays in place until the kernel frees its link,
 * from a work queue, after the last reference went. True when all are gone.
 */
bool sg_pins_wait_gone(const uint32_t *ids, size_t n, unsigned ms);

#endif
