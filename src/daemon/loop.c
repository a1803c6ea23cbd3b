// SPDX-License-Identifier: Apache-2.0
/* The event loop: signals, ring buffers, fanotify, file watches, the stats tick. */
#include <errno.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>

#include "daemon/daemon.h"

uint64_t daemon_now_ms(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (uint64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void daemon_watch_fd(struct daemon *d, int fd, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.fd = fd };

	if (d->epfd >= 0 && fd >= 0)
		epoll_ctl(d->epfd, EPOLL_CTL_ADD, fd, &ev);
}

void daemon_unwatch_fd(struct daemon *d, int fd)
{
	if (d->epfd >= 0 && fd >= 0)
		epoll_ctl(d->epfd, EPOLL_CTL_DEL, fd, NULL);
}

static void daemon_signals(sigset_t *set)
{
	sigemptyset(set);
	sigaddset(set, SIGTERM);
	sigaddset(set, SIGINT);
	sigaddset(set, SIGHUP);
	sigaddset(set, SIGUSR1);
}

/*
 * From the first instruction: a logrotate SIGUSR1 or a reload that arrives
 * while the backends start must wait for the loop, not kill the daemon.
 */
void daemon_block_signals(void)
{
	sigset_t set;

	daemon_signals(&set);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
}

int daemon_setup_loop(struct daemon *d)
{
	struct epoll_event ev = { .events = EPOLLIN };
	sigset_t set;

	daemon_signals(&set);
	d->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	d->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (d->sigfd < 0 || d->epfd < 0)
		return -errno;
	ev.data.fd = d->sigfd;
	epoll_ctl(d->epfd, EPOLL_CTL_ADD, d->sigfd, &ev);
	ev.data.fd = sg_exec_bpf_ringbuf_fd(&d->kern);
	epoll_ctl(d->epfd, EPOLL_CTL_ADD, ev.data.fd, &ev);
	if (d->egress_up)
		daemon_watch_fd(d, sg_egress_ringbuf_fd(&d->egress), EPOLLIN);
	if (d->fa_loaded)
		daemon_watch_fd(d, sg_open_audit_ringbuf_fd(&d->fa), EPOLLIN);
	if (d->script_guard)
		daemon_watch_fd(d, sg_script_guard_dirs_fd(d->script_guard), EPOLLIN);
	/* POL-3: a changed policy file reloads like SIGHUP (editors, ConfigMap volumes). */
	d->watch.fd = -1;
	if (d->opt.policy_path && sg_policy_watch_init(&d->watch, d->opt.policy_path) == 0) {
		daemon_watch_fd(d, sg_policy_watch_fd(&d->watch), EPOLLIN);
		/* ...and so does a changed fragment in policy.d. */
		if (d->opt.policy_dir)
			sg_policy_watch_add_dir(&d->watch, d->opt.policy_dir);
	}
	if (d->fan_up) {
		daemon_watch_fd(d, d->fan.fd, EPOLLIN);
		daemon_watch_fd(d, d->fan.mountinfo_fd, EPOLLPRI | EPOLLERR);
	}
	if (d->files) {
		daemon_watch_fd(d, sg_files_fim_fd(d->files), EPOLLIN);
		daemon_watch_fd(d, sg_files_guard_fd(d->files), EPOLLIN);
		daemon_watch_fd(d, sg_files_create_fd(d->files), EPOLLIN);
	}
	if (d->shield_ctl)
		daemon_watch_fd(d, sg_shield_ctl_fd(d->shield_ctl), EPOLLIN);
	return 0;
}

/* Returns false when the daemon should stop. */
static bool handle_signals(struct daemon *d)
{
	struct signalfd_siginfo si;

	while (read(d->sigfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGUSR1) {
			daemon_reopen_log(d);
			continue;
		}
		if (si.ssi_signo == SIGHUP) {
			if (daemon_check_break_glass(d)) {
				daemon_mode_changed(d);
				daemon_guard_arm(d, daemon_now_ms(CLOCK_MONOTONIC));
			}
			daemon_reload_policy(d);
			continue;
		}
		return false;
	}
	return true;
}

void daemon_run(struct daemon *d)
{
	uint64_t next_stats = 0;
	bool running = true;

	while (running) {
		struct epoll_event evs[8];
		int n = epoll_wait(d->epfd, evs, 8, SG_POLL_MS), i;
		uint64_t now;

		for (i = 0; i < n; i++) {
			int fd = evs[i].data.fd;

			if (fd == d->sigfd)
				running = handle_signals(d);
			else if (fd == d->watch.fd && sg_policy_watch_changed(&d->watch))
				daemon_reload_policy(d);
			else if (d->fan_up && fd == d->fan.fd)
				sg_fanotify_exec_handle(&d->fan);
			else if (d->fan_up && fd == d->fan.mountinfo_fd)
				sg_fanotify_exec_scan_mounts(&d->fan);
			else if (d->files && fd == sg_files_fim_fd(d->files))
				sg_files_on_fim(d->files);
			else if (d->files && fd == sg_files_guard_fd(d->files))
				sg_files_on_guard(d->files);
			else if (d->shield_ctl && fd == sg_shield_ctl_fd(d->shield_ctl))
				sg_shield_ctl_handle(d->shield_ctl);
			else if (d->files && fd == sg_files_create_fd(d->files))
				sg_files_on_create(d->files);
			else if (d->script_guard && fd == sg_script_guard_dirs_fd(d->script_guard))
				sg_script_guard_on_dirs(d->script_guard);
		}
		/* Wake-ups are suppressed in the kernel: drain on every tick. */
		sg_exec_bpf_consume(&d->kern);
		sg_exec_bpf_heartbeat(&d->kern);
		if (d->egress_up)
			sg_egress_consume(&d->egress);
		if (d->fa_loaded)
			sg_open_audit_consume(&d->fa);
		now = daemon_now_ms(CLOCK_MONOTONIC);
		daemon_watchdog_tick(d, now);
		daemon_guard_tick(d, now);
		daemon_crash_tick(d, now);
		if (now >= next_stats) {
			if (d->files)
				sg_files_tick(d->files);
			daemon_write_stats(d);
			next_stats = now + SG_STATS_MS;
		}
	}
}
