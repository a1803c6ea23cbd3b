// SPDX-License-Identifier: Apache-2.0
/* sysguardctl: the operator's tool. */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "act/shield.h"
#include "act/file_guard.h"
#include "cli/api_client.h"
#include "cli/block_cmd.h"
#include "cli/policy_cmd.h"
#include "report/json.h"
#include "sense/bpf_pins.h"
#include "sense/mounts.h"
#include "sense/probe.h"
#include "cli/shield_cmd.h"
#include "store/bundle_files.h"

static const char *state_dir = "/run/sysguard";

static void usage(FILE *out)
{
	fprintf(out,
		"usage: sysguardctl [--state-dir DIR] COMMAND\n"
		"  probe [--json]   kernel features and which backends are usable here\n"
		"  status [--token-file F]   mode, policy, active backends (through the API with a token)\n"
		"  stats [--token-file F]    counters: decisions, drops, kills, alerts\n"
		"  events [--follow] --token-file F   recent audit records; --follow streams them live\n"
		"  reload           make the running daemon reload its policy (as SIGHUP)\n"
		"  reset            remove every program, link and map SysGuard pinned (and the Shield)\n"
		"  break-glass on --reason TEXT | off\n"
		"                   force monitor mode (audited) until switched off (docs/break-glass.md)\n"
		"  policy keygen|sign|verify   signed policy bundles (docs/policy-bundles.md)\n"
		"  policy apply FILE            hand a policy (or signed bundle) to the running daemon,\n"
		"                               which checks it and writes its own policy file\n"
		"  block add PATH | del PATH | list   protect a file (FILE-1; audited, persistent)\n");
}

static const struct {
	const char *backend;
	enum sg_feature needs[3];
	unsigned n;
} backends[] = {
	{ "bpf_lsm", { SG_FEAT_BPF_LSM, SG_FEAT_RINGBUF }, 2 },
	{ "fanotify", { SG_FEAT_FAN_EXEC_PERM }, 1 },
	{ "bpf_kill", { SG_FEAT_TP_BTF, SG_FEAT_SEND_SIGNAL, SG_FEAT_RINGBUF }, 3 },
	{ "exec_tracepoint", { SG_FEAT_TP_BTF, SG_FEAT_RINGBUF }, 2 },
};

static bool backend_usable(const struct sg_features *fs, size_t i)
{
	unsigned k;

	for (k = 0; k < backends[i].n; k++)
		if (!fs->f[backends[i].needs[k]].usable)
			return false;
	return true;
}

static int cmd_probe(int argc, char **argv)
{
	bool json = argc > 1 && !strcmp(argv[1], "--json");
	struct sg_features fs;
	struct sg_json j;
	size_t i;

	if (geteuid() != 0)
		fprintf(stderr, "sysguardctl: probe needs root; results below are what this user may do\n");
	sg_probe_run(&fs);
	if (!json) {
		printf("%-22s %-8s %s\n", "FEATURE", "USABLE", "DETAIL");
		for (i = 0; i < SG_FEAT_MAX; i++)
			printf("%-22s %-8s %s\n", sg_feature_name(i), fs.f[i].usable ? "yes" : "no",
			       fs.f[i].detail);
		printf("\n%-22s %s\n", "BACKEND", "USABLE");
		for (i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
			printf("%-22s %s\n", backends[i].backend, backend_usable(&fs, i) ? "yes" : "no");
		printf("%-22s %s\n", "pidfd_kill", "yes");
		printf("\nsilent refusals (EPERM, no record): %s\n", sg_probe_silent_refusals(&fs));
		return 0;
	}
	sg_json_init(&j);
	sg_json_begin_object(&j);
	sg_probe_to_json(&fs, &j);
	sg_json_key(&j, "backends");
	sg_json_begin_object(&j);
	for (i = 0; i < sizeof(backends) / sizeof(backends[0]); i++)
		sg_json_kv_bool(&j, backends[i].backend, backend_usable(&fs, i));
	sg_json_kv_bool(&j, "pidfd_kill", true);
	sg_json_end_object(&j);
	sg_json_kv_str(&j, "silent_refusals", sg_probe_silent_refusals(&fs));
	sg_json_end_object(&j);
	printf("%.*s\n", (int)j.len, j.buf);
	sg_json_free(&j);
	return 0;
}

static int cat_state(const char *name, const char *what)
{
	char path[4096], buf[65536];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", state_dir, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "sysguardctl: no %s at %s (%s): is sysguardd running with --state-dir %s?\n",
			what, path, strerror(errno), state_dir);
		return 1;
	}
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		fwrite(buf, 1, n, stdout);
	close(fd);
	return 0;
}

/* The daemon's pid from its ready file, checked against /proc so a recycled pid is never signalled. */
static pid_t daemon_pid(void)
{
	char path[4096], buf[4096], comm[32] = "";
	const char *p;
	ssize_t n;
	long pid;
	int fd;
	FILE *f;

	snprintf(path, sizeof(path), "%s/ready", state_dir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	p = strstr(buf, "\"pid\":");
	if (!p || (pid = strtol(p + 6, NULL, 10)) <= 1)
		return -1;
	snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
	f = fopen(path, "re");
	if (!f)
		return -1;
	if (!fgets(comm, sizeof(comm), f))
		comm[0] = '\0';
	fclose(f);
	return strncmp(comm, "sysguardd", 9) ? -1 : (pid_t)pid;
}

static int cmd_reload(void);

static void say_removed(const char *path, void *ctx)
{
	unsigned *n = ctx;

	printf("removed %s\n", path);
	(*n)++;
}

/* BPF-5: take away everything SysGuard left in the kernel, and say what. */
static int cmd_reset(void)
{
	char names[64][IF_NAMESIZE], err[256];
	struct sg_shield *s = NULL;
	size_t n = 0, i;
	unsigned removed = 0;
	int rc = 0;

	if (sg_shield_open(SG_SHIELD_PIN_DIR, &s, err, sizeof(err)) == 0) {
		sg_shield_attached(s, names, 64, &n);
		for (i = 0; i < n; i++) {
			if (sg_shield_detach(s, names[i], err, sizeof(err)) == 0) {
				printf("detached shield from %s\n", names[i]);
				removed++;
			} else {
				fprintf(stderr, "sysguardctl: %s\n", err);
				rc = 1;
			}
		}
		sg_shield_close(s);
	}
	for (i = 0; i < 3; i++) {
		static const char *const dirs[] = { SG_SHIELD_PIN_DIR, SG_PIN_EXEC, SG_PIN_EGRESS };
		int e = sg_pins_remove(dirs[i], say_removed, &removed);

		if (e) {
			fprintf(stderr, "sysguardctl: reset %s: %s\n", dirs[i], strerror(-e));
			rc = 1;
		}
	}
	if (sg_file_guard_release_leftovers(state_dir, err, sizeof(err)) > 0) {
		printf("%s\n", err);
		removed++;
	}
	printf("reset: %u item(s) removed%s\n", removed,
	       removed ? "" : " (nothing was pinned)");
	if (daemon_pid() > 0)
		printf("note: a running sysguardd keeps its programs attached until it stops\n");
	return rc;
}

static int read_small(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return 0;
}

/* A string field of the daemon's ready file, or -1. */
static int ready_field(const char *key, char *out, size_t len)
{
	char ready[8192], path[4200], want[64], *b, *e;

	snprintf(path, sizeof(path), "%s/ready", state_dir);
	if (daemon_pid() < 0 || read_small(path, ready, sizeof(ready)))
		return -1;
	snprintf(want, sizeof(want), "\"%s\":\"", key);
	b = strstr(ready, want);
	if (!b)
		return -1;
	b += strlen(want);
	e = strchr(b, '"');
	if (!e || memchr(b, '\\', e - b) || (size_t)(e - b) >= len)
		return -1;
	memcpy(out, b, e - b);
	out[e - b] = '\0';
	return 0;
}

/*
 * POL-2, FILE-3: `policy apply FILE`: hand a policy or a signed bundle to the
 * running daemon through <state-dir>/policy.inbox. The daemon checks it
 * (signature, key, version, syntax) and writes its own policy file, which
 * self-defence lets nobody else change; this only delivers it.
 */
static int cmd_policy_apply(const char *file)
{
	char ready[4096], path[4200], want[64], hdr[4096], err[512], *b;
	unsigned long long version = 0;
	size_t len = 0;
	pid_t pid = daemon_pid();
	struct stat before, after;
	char *buf = NULL;
	int i;

	snprintf(path, sizeof(path), "%s/ready", state_dir);
	if (pid < 0 || read_small(path, ready, sizeof(ready)) || stat(path, &before)) {
		fprintf(stderr, "sysguardctl: no running sysguardd with --state-dir %s\n", state_dir);
		return 1;
	}
	if (read_small(file, hdr, sizeof(hdr)) == 0 && !strncmp(hdr, "sysguard-policy-bundle", 22) &&
	    (b = strstr(hdr, "\nversion: ")))
		sscanf(b + 10, "%llu", &version);
	if (sg_file_read_all(file, 16u << 20, &buf, &len, err, sizeof(err))) {
		fprintf(stderr, "sysguardctl: %s\n", err);
		return 1;
	}
	snprintf(path, sizeof(path), "%s/policy.inbox.result", state_dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/policy.inbox", state_dir);
	i = sg_file_replace(path, buf, len, 0600, err, sizeof(err));
	free(buf);
	if (i) {
		fprintf(stderr, "sysguardctl: %s\n", err);
		return 1;
	}
	kill(pid, SIGHUP);
	snprintf(want, sizeof(want), "\"bundle\":{\"version\":%llu,", version);
	snprintf(path, sizeof(path), "%s/ready", state_dir);
	for (i = 0; i < 50; i++) {
		char result[600];

		usleep(100 * 1000);
		snprintf(path, sizeof(path), "%s/policy.inbox.result", state_dir);
		if (read_small(path, result, sizeof(result)) == 0 && strcmp(result, "written")) {
			fprintf(stderr, "sysguardctl: sysguardd refused %s: %s\n", file, result);
			return 1;
		}
		snprintf(path, sizeof(path), "%s/ready", state_dir);
		if (version ? read_small(path, ready, sizeof(ready)) == 0 && strstr(ready, want)
			    : stat(path, &after) == 0 &&
				      (after.st_mtim.tv_sec != before.st_mtim.tv_sec ||
				       after.st_mtim.tv_nsec != before.st_mtim.tv_nsec ||
				       after.st_ino != before.st_ino)) {
			if (read_small(path, ready, sizeof(ready)) == 0)
				printf("%s", ready);
			return 0;
		}
	}
	fprintf(stderr, "sysguardctl: sysguardd refused %s: see policy_update, policy_error or policy_bundle_rejected in its audit log\n",
		file);
	return 1;
}

static int cmd_block(int argc, char **argv)
{
	char list[4096];

	if (ready_field("blocklist", list, sizeof(list))) {
		fprintf(stderr, "sysguardctl: no running sysguardd with --state-dir %s (the block list is the daemon's)\n",
			state_dir);
		return 1;
	}
	return sg_cli_block(argc, argv, list, cmd_reload);
}

static int cmd_break_glass(int argc, char **argv)
{
	char path[4096];
	bool on = argc >= 2 && !strcmp(argv[1], "on");
	int fd;

	if (!(argc == 4 && on && !strcmp(argv[2], "--reason") && argv[3][0]) &&
	    !(argc == 2 && !strcmp(argv[1], "off"))) {
		fprintf(stderr, "usage: sysguardctl break-glass on --reason TEXT | off\n");
		return 2;
	}
	if (daemon_pid() < 0) {
		fprintf(stderr, "sysguardctl: no running sysguardd with --state-dir %s\n", state_dir);
		return 1;
	}
	snprintf(path, sizeof(path), "%s/break-glass", state_dir);
	if (on) {
		size_t len = strlen(argv[3]);

		fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
		if (fd < 0 || write(fd, argv[3], len) != (ssize_t)len) {
			fprintf(stderr, "sysguardctl: %s: %s\n", path, strerror(errno));
			if (fd >= 0)
				close(fd);
			return 1;
		}
		close(fd);
	} else if (unlink(path) && errno != ENOENT) {
		fprintf(stderr, "sysguardctl: %s: %s\n", path, strerror(errno));
		return 1;
	}
	return cmd_reload();
}

static int cmd_reload(void)
{
	char path[4096];
	struct stat before, after;
	pid_t pid = daemon_pid();
	int i;

	if (pid < 0) {
		fprintf(stderr, "sysguardctl: no running sysguardd with --state-dir %s\n", state_dir);
		return 1;
	}
	snprintf(path, sizeof(path), "%s/ready", state_dir);
	if (stat(path, &before) || kill(pid, SIGHUP)) {
		fprintf(stderr, "sysguardctl: reload: %s\n", strerror(errno));
		return 1;
	}
	/* The daemon rewrites its ready file after a successful reload. */
	for (i = 0; i < 50; i++) {
		if (stat(path, &after) == 0 &&
		    (after.st_mtim.tv_sec != before.st_mtim.tv_sec ||
		     after.st_mtim.tv_nsec != before.st_mtim.tv_nsec || after.st_ino != before.st_ino))
			return cat_state("ready", "status");
		usleep(100 * 1000);
	}
	fprintf(stderr, "sysguardctl: sysguardd (pid %d) kept its policy: see policy_error in its audit log\n",
		(int)pid);
	return 1;
}

/*
 * OPS-2: status, stats and events through the daemon's API when a token is
 * at hand (--token-file or SYSGUARD_API_TOKEN_FILE); status and stats fall
 * back to the state files without one.
 */
static int cmd_api(int argc, char **argv)
{
	const char *token = getenv("SYSGUARD_API_TOKEN_FILE");
	bool events = !strcmp(argv[0], "events"), follow = false;
	char sock[4200];
	int k;

	for (k = 1; k < argc; k++) {
		if (!strcmp(argv[k], "--follow") && events)
			follow = true;
		else if (!strcmp(argv[k], "--token-file") && k + 1 < argc)
			token = argv[++k];
		else {
			fprintf(stderr, "sysguardctl: %s: unknown option '%s'\n", argv[0], argv[k]);
			return 2;
		}
	}
	snprintf(sock, sizeof(sock), "%s/api.sock", state_dir);
	if (token && access(sock, F_OK) == 0)
		return sg_api_get(sock, token, events ? "/events" : !strcmp(argv[0], "status") ?
				  "/status" : "/stats", follow);
	if (events) {
		fprintf(stderr, "sysguardctl: events need the API: --token-file FILE (sysguardd --api-token-file)\n");
		return 1;
	}
	return !strcmp(argv[0], "status") ? cat_state("ready", "status") :
					    cat_state("stats.json", "stats");
}

int main(int argc, char **argv)
{
	int i = 1;

	if (i + 1 < argc && !strcmp(argv[i], "--state-dir")) {
		state_dir = argv[i + 1];
		i += 2;
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[i], "probe"))
		return cmd_probe(argc - i, argv + i);
	if (!strcmp(argv[i], "status") || !strcmp(argv[i], "stats") || !strcmp(argv[i], "events"))
		return cmd_api(argc - i, argv + i);
	if (!strcmp(argv[i], "reload"))
		return cmd_reload();
	if (!strcmp(argv[i], "reset"))
		return cmd_reset();
	if (!strcmp(argv[i], "break-glass"))
		return cmd_break_glass(argc - i, argv + i);
	if (!strcmp(argv[i], "policy") && i + 2 < argc && !strcmp(argv[i + 1], "apply"))
		return i + 3 == argc ? cmd_policy_apply(argv[i + 2]) : 2;
	if (!strcmp(argv[i], "policy"))
		return sg_cmd_policy(argc - i, argv + i);
	if (!strcmp(argv[i], "shield"))
		return sg_cli_shield(state_dir, argc - i, argv + i);
	if (!strcmp(argv[i], "block"))
		return cmd_block(argc - i, argv + i);
	if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
		usage(stdout);
		sg_cli_shield_usage(stdout);
		return 0;
	}
	fprintf(stderr, "sysguardctl: unknown command '%s'\n", argv[i]);
	usage(stderr);
	return 2;
}
