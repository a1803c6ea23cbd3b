// SPDX-License-Identifier: Apache-2.0
/*
 * systemd's service manager protocol (Type=notify): READY=1 only once every
 * backend is started and its start is on record, so units ordered after
 * sysguardd start under enforcement; RELOADING=1 around a reload; the
 * watchdog pinged from the event loop, so a loop that stops turning (and
 * with it fanotify's answers) gets the daemon restarted. Without
 * $NOTIFY_SOCKET (not started by systemd) every call does nothing.
 */
#include <time.h>

#include "daemon/daemon.h"

#ifdef SG_NO_SYSTEMD
/* The static build (the BPF LSM test VM) has no libsystemd and no systemd. */
static int sd_notify(int unset, const char *state) { return 0; }
static int sd_watchdog_enabled(int unset, uint64_t *usec) { return 0; }
#else
#include <systemd/sd-daemon.h>
#endif

static void notify_state(struct daemon *d, const char *what)
{
	char msg[512];

	snprintf(msg, sizeof(msg), "%s\nSTATUS=%s mode, policy %s%s", what,
		 sg_mode_name(sg_engine_mode(&d->engine)), sg_policy_version(d->engine.policy),
		 d->break_glass ? ", break-glass on" : "");
	sd_notify(0, msg);
}

void daemon_notify_ready(struct daemon *d)
{
	notify_state(d, "READY=1");
}

void daemon_notify_reloading(struct daemon *d)
{
	char msg[64];
	struct timespec ts;

	/* systemd (>= 253) wants the time with RELOADING=1; older ones ignore it. */
	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(msg, sizeof(msg), "RELOADING=1\nMONOTONIC_USEC=%llu",
		 (unsigned long long)ts.tv_sec * 1000000ull + (unsigned long long)ts.tv_nsec / 1000);
	sd_notify(0, msg);
}

void daemon_notify_stopping(struct daemon *d)
{
	sd_notify(0, "STOPPING=1");
}

void daemon_watchdog_init(struct daemon *d)
{
	uint64_t usec = 0;

	d->watchdog_ms = sd_watchdog_enabled(0, &usec) > 0 ? usec / 1000 : 0;
	d->watchdog_next = 0;
}

void daemon_watchdog_tick(struct daemon *d, uint64_t now)
{
	if (!d->watchdog_ms || now < d->watchdog_next)
		return;
	sd_notify(0, "WATCHDOG=1");
	/* Twice per period, as sd_watchdog_enabled(3) recommends. */
	d->watchdog_next = now + d->watchdog_ms / 2;
}
