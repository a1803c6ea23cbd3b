// SPDX-License-Identifier: Apache-2.0
/*
 * The ways the daemon drops to monitor mode by itself, so a bad policy or a
 * crashing daemon cannot lock a host up:
 *  - the policy's guard: (too many denied execs a minute right after it
 *    starts to enforce: the allow-list was wrong);
 *  - a crash loop (K starts in a row that did not end in a clean stop);
 *  - sysguard.mode=monitor on the kernel command line (recovering a host
 *    at boot).
 * Each is audited and alerted; like break-glass they win over the policy's
 * and the command line's mode.
 */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#include "daemon/daemon.h"
#include "store/bundle_files.h"

/* A start that ran this long without crashing ends the crash loop. */
#define SG_CRASH_STABLE_MS 60000

int daemon_mode_override(const struct daemon *d)
{
	if (d->break_glass || d->guard.tripped || d->recovery[0])
		return SG_MODE_MONITOR;
	return d->opt.mode;
}

void daemon_guard_arm(struct daemon *d, uint64_t now)
{
	const struct sg_guard *g = sg_policy_guard(d->engine.policy);

	free(d->guard.times);
	memset(&d->guard, 0, sizeof(d->guard));
	if (!g->max_denies || sg_engine_mode(&d->engine) != SG_MODE_ENFORCE)
		return;
	/* The last max_denies + 1 deny times: the window holds too many when the oldest is recent. */
	d->guard.times = calloc((size_t)g->max_denies + 1, sizeof(*d->guard.times));
	if (!d->guard.times) {
		daemon_note(d, "guard", SG_SEV_CRITICAL, "error", "out of memory: the guard is off");
		return;
	}
	d->guard.armed = true;
	d->guard.until = now + (uint64_t)g->for_s * 1000;
	d->guard.denied_seen = d->engine.stats.denied;
}

void daemon_guard_tick(struct daemon *d, uint64_t now)
{
	const struct sg_guard *g = sg_policy_guard(d->engine.policy);
	struct sg_guard_state *s = &d->guard;
	uint64_t denied = d->engine.stats.denied, id, oldest;
	size_t n = (size_t)g->max_denies + 1;
	char detail[256];
	struct sg_json j;

	if (!s->armed)
		return;
	if (now > s->until) {
		s->armed = false;
		daemon_note(d, "guard", SG_SEV_INFO, "state", "passed: the policy enforces from now on");
		return;
	}
	for (; s->denied_seen < denied; s->denied_seen++) {
		s->times[s->next] = now;
		s->next = (s->next + 1) % n;
		s->filled += s->filled < n;
	}
	oldest = s->times[s->next];	/* the slot written longest ago */
	if (s->filled < n || now - oldest > (uint64_t)g->per_s * 1000)
		return;
	s->armed = false;
	s->tripped = true;
	sg_json_init(&j);
	id = sg_audit_begin(&d->audit, &j, "guard_tripped", SG_SEV_CRITICAL);
	sg_json_kv_u64(&j, "denies", n);
	sg_json_kv_u64(&j, "within_s", (now - oldest + 999) / 1000);
	sg_json_kv_u64(&j, "max_denies", g->max_denies);
	sg_json_kv_u64(&j, "per_s", g->per_s);
	sg_json_kv_u64(&j, "line", g->line);
	sg_json_kv_str(&j, "mode", "monitor");
	sg_audit_commit(&d->audit, &j);
	sg_json_free(&j);
	snprintf(detail, sizeof(detail),
		 "more than %u execs denied within %u s of enforcing: back to monitor mode until "
		 "the policy is reloaded", g->max_denies, g->per_s);
	fprintf(stderr, "sysguardd: guard: %s\n", detail);
	daemon_alert(d, id, "guard_tripped", "critical", "monitor_mode", detail);
	daemon_mode_changed(d);
}

static void recovery(struct daemon *d, const char *why, const char *detail)
{
	struct sg_json j;
	uint64_t id;

	snprintf(d->recovery, sizeof(d->recovery), "%s", why);
	sg_json_init(&j);
	id = sg_audit_begin(&d->audit, &j, "recovery_mode", SG_SEV_CRITICAL);
	sg_json_kv_str(&j, "reason", why);
	sg_json_kv_str(&j, "detail", detail);
	sg_json_kv_str(&j, "mode", "monitor");
	sg_audit_commit(&d->audit, &j);
	sg_json_free(&j);
	fprintf(stderr, "sysguardd: starting in monitor mode: %s\n", detail);
	daemon_alert(d, id, "recovery_mode", "critical", "monitor_mode", detail);
}

/* sysguard.mode=monitor among the kernel's boot parameters. */
static bool boot_says_monitor(void)
{
	char buf[4096];
	const char *p;
	ssize_t n;
	int fd = open("/proc/cmdline", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	for (p = buf; (p = strstr(p, "sysguard.mode=monitor")); p++)
		if ((p == buf || p[-1] == ' ') && (p[21] == '\0' || p[21] == ' ' || p[21] == '\n'))
			return true;
	return false;
}

static unsigned read_starts(const char *path)
{
	char buf[32] = "";
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return n > 0 ? (unsigned)strtoul(buf, NULL, 10) : 0;
}

static void write_starts(struct daemon *d, unsigned n)
{
	char path[4200], buf[32], err[256];
	int len;

	snprintf(path, sizeof(path), "%s/unclean-starts", d->opt.state_dir);
	if (!n) {
		unlink(path);
		return;
	}
	len = snprintf(buf, sizeof(buf), "%u\n", n);
	if (sg_file_replace(path, buf, (size_t)len, 0600, err, sizeof(err)))
		daemon_note(d, "recovery_mode", SG_SEV_WARNING, "error", err);
}

void daemon_recovery_check(struct daemon *d, uint64_t now)
{
	char path[4200], detail[256];
	unsigned starts;

	snprintf(path, sizeof(path), "%s/unclean-starts", d->opt.state_dir);
	/* Counted before the backends start: a crash while starting them is a crash too. */
	starts = read_starts(path);
	write_starts(d, starts + 1);
	d->crash_check_at = now + SG_CRASH_STABLE_MS;
	if (boot_says_monitor()) {
		recovery(d, "kernel_command_line", "sysguard.mode=monitor is on the kernel command line");
		return;
	}
	if (d->opt.crash_limit && starts >= d->opt.crash_limit) {
		snprintf(detail, sizeof(detail),
			 "the last %u starts ended without a clean stop (crash loop); nothing is blocked "
			 "until the daemon is restarted (after this run stops cleanly or lasts %u s)",
			 starts, SG_CRASH_STABLE_MS / 1000);
		recovery(d, "crash_loop", detail);
	}
}

/*
 * A run this long ends the crash loop: the next start enforces again. This
 * run stays in monitor mode; an operator restarts it once the cause is fixed.
 */
void daemon_crash_tick(struct daemon *d, uint64_t now)
{
	if (!d->crash_check_at || now < d->crash_check_at)
		return;
	d->crash_check_at = 0;
	write_starts(d, 0);
}

void daemon_crash_clean_stop(struct daemon *d)
{
	write_starts(d, 0);
	free(d->guard.times);
	d->guard.times = NULL;
}
