/* SPDX-License-Identifier: Apache-2.0 */
/*
 * BPF-7 for the Shield: with BPF LSM the Shield's maps are the daemon's
 * alone, so `sysguardctl shield` hands its command to the daemon through
 * <state-dir>/shield.sock (mode 0600 in the 0700 state dir; the peer must
 * be root or the daemon's user, by SO_PEERCRED). The daemon checks and runs
 * it (src/act/shield_ops.c), writes a `shield_change` record for every
 * change, and sends back the exit status and the command's output.
 *
 * Wire format (one request per connection, host byte order):
 *   request: struct sg_shield_req, then args_len bytes of argc NUL-terminated
 *            words (argv[0] the subcommand), then list_len bytes (`load`'s list)
 *   reply:   struct sg_shield_rep, then out_len bytes of output, err_len of errors
 */
#ifndef SG_ACT_SHIELD_CTL_H
#define SG_ACT_SHIELD_CTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SG_SHIELD_CTL_SOCK	"shield.sock"
#define SG_SHIELD_CTL_MAGIC	0x53475348u	/* "SGSH" */
#define SG_SHIELD_CTL_MAX_ARGS	4096
#define SG_SHIELD_CTL_MAX_ARGLEN (1u << 20)
#define SG_SHIELD_CTL_MAX_LIST	(64u << 20)	/* 1M CIDRs are ~20 MB of text */
#define SG_SHIELD_CTL_TIMEOUT_S	10

struct sg_shield_req {
	uint32_t magic, argc, args_len, list_len;
};

struct sg_shield_rep {
	uint32_t magic;
	int32_t status;			/* the command's exit status */
	uint32_t out_len, err_len;
};

struct sg_audit;
struct sg_shield_ctl;

/* Called before an unload (on false) and after every change that succeeded (on true). */
typedef void (*sg_shield_guard_fn)(void *ctx, bool on);

/* Listen on <state_dir>/shield.sock (replacing a stale one). 0 or -errno with err set. */
int sg_shield_ctl_start(struct sg_shield_ctl **out, const char *state_dir, const char *pin_dir,
			struct sg_audit *audit, sg_shield_guard_fn guard, void *ctx, char *err,
			size_t errlen);
/* The listening socket (readable when a client waits), or -1. */
int sg_shield_ctl_fd(const struct sg_shield_ctl *c);
/* Accept one client and answer it; a client that stalls is dropped after the timeout. */
void sg_shield_ctl_handle(struct sg_shield_ctl *c);
void sg_shield_ctl_stop(struct sg_shield_ctl *c);

/* Both ends: the whole buffer or -errno (a short read is -EPIPE). */
int sg_shield_ctl_write_all(int fd, const void *buf, size_t len);
int sg_shield_ctl_read_all(int fd, void *buf, size_t len);

#endif
