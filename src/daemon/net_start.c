// SPDX-License-Identifier: Apache-2.0
/* Start-up of the network backends: egress rules and the Shield (XDP) with its control socket. */
#include <errno.h>

#include "daemon/daemon.h"
#include "act/shield_stats.h"
#include "act/shield_guard.h"
#include "sense/bpf_pins.h"

void daemon_start_egress(struct daemon *d)
{
	bool want_lsm = d->features.f[SG_FEAT_BPF_LSM].usable && !d->opt.no_lsm;
	char err[256] = "";

	if (d->opt.no_egress) {
		daemon_backend_record(d, "egress", false, "disabled by --disable-backend");
		return;
	}
	if (!d->features.f[SG_FEAT_CGROUP2].usable) {
		daemon_backend_record(d, "egress", false, d->features.f[SG_FEAT_CGROUP2].detail);
		return;
	}
	if (want_lsm && sg_egress_start(&d->egress, d->features.cgroup2_path, true,
					sg_engine_on_net_record, &d->engine, err, sizeof(err))) {
		daemon_backend_record(d, "egress_lsm", false, err);
		want_lsm = false;
	}
	if (!want_lsm && sg_egress_start(&d->egress, d->features.cgroup2_path, false,
					 sg_engine_on_net_record, &d->engine, err, sizeof(err))) {
		daemon_backend_record(d, "egress", false, err);
		return;
	}
	d->egress_up = true;
	daemon_pin_record(d, "bpf_pin", SG_PIN_EGRESS, false, 0);
	daemon_apply_egress(d);
	if (d->egress.lsm_attached)
		daemon_backend_record(d, "egress_lsm", true, "lsm/socket_connect for connects");
	daemon_backend_record(d, "egress", true, d->egress.lsm_attached ?
		       "cgroup/sendmsg4|6 at the cgroup2 root (connects: lsm/socket_connect)" :
		       "cgroup/connect4|6 + sendmsg4|6 at the cgroup2 root");
}

/* Load a Shield deny list file (one CIDR a line) into the live Shield. */
static int shield_load_list(struct sg_shield *s, const char *path, char *err, size_t errlen)
{
	struct sg_cidr *v = NULL;
	size_t n = 0;
	int rc = sg_shield_read_list(path, &v, &n, err, errlen);

	if (!rc)
		rc = sg_shield_update(s, v, n, NULL, 0, true, err, errlen);
	free(v);
	return rc;
}

/*
 * NET-2/NET-5: attach the Shield to the interfaces the config names. It
 * lives in pinned maps (sysguardctl shield edits them) and fails open: any
 * error is reported and traffic keeps flowing; the daemon carries on.
 */
void daemon_start_shield(struct daemon *d)
{
	struct sg_shield_opts o = {
		.pin_dir = SG_SHIELD_PIN_DIR, .max_rules = SG_SHIELD_DEF_RULES,
		.v6_entries = SG_SHIELD_DEF_V6_ENTRIES, .max_bytes = SG_SHIELD_DEF_MAX_BYTES,
	};
	const char *ifs = sg_config_get(&d->opt.config, "shield.interfaces");
	const char *list = sg_config_get(&d->opt.config, "shield.list");
	const char *g = sg_config_get(&d->opt.config, "shield.generic"), *mode = "";
	char err[512] = "", detail[600], name[IF_NAMESIZE];
	struct sg_shield *s = NULL;
	bool generic = false;
	size_t k;
	int rc;

	if (!ifs || !*ifs)
		return;		/* no Shield asked for: nothing to report */
	if (g && sg_config_bool(g, &generic)) {
		daemon_backend_record(d, "shield", false, "shield.generic must be true or false; not attached, traffic flows");
		return;
	}
	rc = sg_shield_open(SG_SHIELD_PIN_DIR, &s, err, sizeof(err));
	if (rc == -ENOENT) {
		err[0] = '\0';
		rc = sg_shield_create(&o, &s, err, sizeof(err));
	}
	if (rc) {
		snprintf(detail, sizeof(detail), "%s; not attached, traffic flows", err);
		daemon_backend_record(d, "shield", false, detail);
		return;
	}
	if (list && (rc = shield_load_list(s, list, err, sizeof(err)))) {
		snprintf(detail, sizeof(detail), "list not loaded (%s); the previous list stays", err);
		daemon_backend_record(d, "shield", false, detail);
	}
	while (*ifs) {
		k = strcspn(ifs, ", ");
		if (k > 0 && k < sizeof(name)) {
			memcpy(name, ifs, k);
			name[k] = '\0';
			rc = sg_shield_attach(s, name, generic, &mode, err, sizeof(err));
			if (rc)
				snprintf(detail, sizeof(detail), "%s: %s; traffic flows", name, err);
			else
				snprintf(detail, sizeof(detail), "%s: %s XDP", name, mode);
			daemon_backend_record(d, "shield", rc == 0, detail);
		}
		ifs += k;
		ifs += strspn(ifs, ", ");
	}
	sg_shield_close(s);
}

/*
 * BPF-7: guard the Shield's pins (if any) and serve <state-dir>/shield.sock,
 * through which every sysguardctl shield command then goes. Without it the
 * CLI edits the pins itself, which the guard refuses.
 */
void daemon_start_shield_ctl(struct daemon *d)
{
	char err[512] = "";

	sg_shield_guard_pins(d->files, true);
	if (sg_shield_ctl_start(&d->shield_ctl, d->opt.state_dir, SG_SHIELD_PIN_DIR, &d->audit,
				sg_shield_guard_pins, d->files, err, sizeof(err))) {
		d->shield_ctl = NULL;
		daemon_note(d, "shield_ctl", SG_SEV_CRITICAL, "error", err);
	}
}
