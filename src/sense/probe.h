/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Feature probe (BPF-4): what this kernel lets us use. Every "usable" answer
 * comes from really loading and attaching a tiny program, or really placing
 * a fanotify mark, never from version numbers or config files alone.
 */
#ifndef SG_PROBE_H
#define SG_PROBE_H

#include <stdbool.h>

#include "report/json.h"

enum sg_feature {
	SG_FEAT_BTF = 0,		/* /sys/kernel/btf/vmlinux */
	SG_FEAT_RINGBUF,		/* BPF_MAP_TYPE_RINGBUF */
	SG_FEAT_TP_BTF,			/* tp_btf programs attach */
	SG_FEAT_SEND_SIGNAL,		/* bpf_send_signal() verifies */
	SG_FEAT_LSM_ACTIVE,		/* "bpf" in /sys/kernel/security/lsm */
	SG_FEAT_BPF_LSM,		/* an lsm/ program loads and attaches */
	SG_FEAT_TRAMPOLINE,		/* an fentry/ program loads and attaches */
	SG_FEAT_FAN_EXEC_PERM,		/* FAN_OPEN_EXEC_PERM on a filesystem mark */
	SG_FEAT_FAN_OPEN_PERM,		/* FAN_OPEN_PERM on an inode mark */
	SG_FEAT_FAN_MARK_IGNORE,	/* FAN_MARK_IGNORE (cleared on modify) */
	SG_FEAT_CGROUP2,		/* cgroup v2 mounted, connect4 attaches */
	SG_FEAT_XDP,			/* XDP program loads and runs (BPF_PROG_TEST_RUN) */
	SG_FEAT_MAX,
};

struct sg_feature_state {
	bool usable;
	char detail[160];	/* why not, or where (e.g. the cgroup2 path) */
};

struct sg_features {
	struct sg_feature_state f[SG_FEAT_MAX];
	char cgroup2_path[256];
};

/* Run every probe. Never fails: each feature records its own outcome. */
void sg_probe_run(struct sg_features *out);

const char *sg_feature_name(enum sg_feature f);

/* {"features": {...}} members: each feature as {"usable": b, "detail": s}. */
void sg_probe_to_json(const struct sg_features *fs, struct sg_json *j);

/*
 * Which refusals of a protected file leave no record on this kernel: none
 * with BPF LSM; with the fanotify backend, what the refusal sensor
 * (tp_btf/sys_exit, docs/file-protection.md) cannot see, or every refusal
 * by the immutable flag when it cannot attach.
 */
const char *sg_probe_silent_refusals(const struct sg_features *fs);

#endif
