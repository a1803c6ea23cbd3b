// SPDX-License-Identifier: Apache-2.0
/* sysguardctl reload, break-glass and reset: the daemon's life and what it leaves behind. */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "act/file_guard.h"
#include "act/shield.h"
#include "cli/commands.h"
#include "cli/daemon_state.h"
#include "sense/bpf_pins.h"

#define DEFAULT_TIMEOUT_MS 5000

enum { OPT_TIMEOUT = 256, OPT_REASON };

static const struct sg_cli_cmd reload_cmd = { "reload",
	"sysguardctl reload [--timeout SECONDS] [-o table|json]\n"
	"\n"
	"Makes the running daemon read its policy again (as SIGHUP does) and waits for\n"
	"its answer: its status once it runs the new policy (exit 0), or exit 1 when it\n"
	"refused the policy and kept the one it had (see policy_error in its audit log).\n"
	"\n"
	"      --timeout=SECONDS how long to wait for the daemon's answer (default 5)\n"
	"  -o, --output=FORMAT   the status shown after: table (default) or json\n"
	"  -h, --help            this help\n" };

static const struct sg_cli_cmd break_glass_cmd = { "break-glass",
	"sysguardctl break-glass on --reason TEXT | off  [--timeout SECONDS] [-o table|json]\n"
	"\n"
	"on: forces the running daemon into monitor mode (every decision recorded, nothing\n"
	"blocked) until switched off, whatever its policy says, even a broken one. Both\n"
	"switches are recorded (break_glass, critical). See docs/break-glass.md.\n"
	"\n"
	"      --reason=TEXT     why (required with on; goes into the audit record)\n"
	"      --timeout=SECONDS how long to wait for the daemon's answer (default 5)\n"
	"  -o, --output=FORMAT   the status shown after: table (default) or json\n"
	"  -h, --help            this help\n" };

static const struct sg_cli_cmd reset_cmd = { "reset",
	"sysguardctl reset\n"
	"\n"
	"Removes every program, link and map SysGuard pinned under /sys/fs/bpf/sysguard\n"
	"(and so the Shield, and enforcement left by a killed daemon), and clears the\n"
	"immutable flags a killed daemon left on protected files. Says what it removed.\n"
	"A running sysguardd keeps its own programs attached until it stops.\n"
	"\n"
	"  -h, --help            this help\n" };

/* reload's and break-glass's shared options; an exit code, or -1 to go on. */
static int after_opts(const struct sg_cli_cmd *cmd, int c, unsigned *timeout_ms,
		      enum sg_cli_output *out)
{
	if (c == OPT_TIMEOUT) {
		if (!sg_parse_timeout(optarg, timeout_ms))
			return sg_cli_usage_error(cmd, "--timeout needs seconds (0 < s <= 3600), not '%s'",
						  optarg);
		return -1;
	}
	if (c == 'o')
		return sg_cli_parse_output(cmd, optarg, out) ? -1 : SG_EXIT_USAGE;
	return -2;
}

static int reload_and_show(const struct sg_cli *cli, unsigned timeout_ms, enum sg_cli_output out,
			   bool mode_only)
{
	int rc = sg_daemon_reload(cli, timeout_ms, mode_only);

	return rc ? rc : sg_cli_print_status(cli, out);
}

int sg_cmd_reload(const struct sg_cli *cli, int argc, char **argv)
{
	static const struct option longs[] = {
		SG_CLI_OPT_HELP, SG_CLI_OPT_OUTPUT,
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ 0 },
	};
	enum sg_cli_output out = SG_OUT_TABLE;
	unsigned timeout_ms = DEFAULT_TIMEOUT_MS;
	int c, rc;

	if (sg_cli_wants_help(argc, argv, ":ho:", longs))
		return sg_cli_help(&reload_cmd);
	while ((c = sg_cli_next(argc, argv, ":ho:", longs)) != -1) {
		rc = after_opts(&reload_cmd, c, &timeout_ms, &out);
		if (rc == -2)
			return sg_cli_bad_option(&reload_cmd, argc, argv, c);
		if (rc >= 0)
			return rc;
	}
	if (optind < argc)
		return sg_cli_usage_error(&reload_cmd, "unexpected argument '%s'", argv[optind]);
	return reload_and_show(cli, timeout_ms, out, false);
}

/* The daemon reads <state-dir>/break-glass at each reload: there means on, with its reason. */
static int switch_glass(const struct sg_cli *cli, const char *reason)
{
	char path[4200];
	size_t len;
	int fd;

	snprintf(path, sizeof(path), "%s/break-glass", cli->state_dir);
	if (!reason) {
		if (unlink(path) && errno != ENOENT) {
			fprintf(stderr, "sysguardctl: %s: %s\n", path, strerror(errno));
			return SG_EXIT_FAILED;
		}
		return SG_EXIT_OK;
	}
	len = strlen(reason);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0 || write(fd, reason, len) != (ssize_t)len) {
		fprintf(stderr, "sysguardctl: %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		return SG_EXIT_FAILED;
	}
	close(fd);
	return SG_EXIT_OK;
}

int sg_cmd_break_glass(const struct sg_cli *cli, int argc, char **argv)
{
	static const struct option longs[] = {
		SG_CLI_OPT_HELP, SG_CLI_OPT_OUTPUT,
		{ "timeout", required_argument, NULL, OPT_TIMEOUT },
		{ "reason", required_argument, NULL, OPT_REASON },
		{ 0 },
	};
	enum sg_cli_output out = SG_OUT_TABLE;
	unsigned timeout_ms = DEFAULT_TIMEOUT_MS;
	const char *reason = NULL;
	int c, rc;
	bool on;

	if (sg_cli_wants_help(argc, argv, ":ho:", longs))
		return sg_cli_help(&break_glass_cmd);
	while ((c = sg_cli_next(argc, argv, ":ho:", longs)) != -1) {
		if (c == OPT_REASON) {
			reason = optarg;
			continue;
		}
		rc = after_opts(&break_glass_cmd, c, &timeout_ms, &out);
		if (rc == -2)
			return sg_cli_bad_option(&break_glass_cmd, argc, argv, c);
		if (rc >= 0)
			return rc;
	}
	if (optind != argc - 1 || (strcmp(argv[optind], "on") && strcmp(argv[optind], "off")))
		return sg_cli_usage_error(&break_glass_cmd, "say on (with --reason) or off");
	on = !strcmp(argv[optind], "on");
	if (on && (!reason || !reason[0]))
		return sg_cli_usage_error(&break_glass_cmd, "on needs --reason TEXT: why, for the audit log");
	if (!on && reason)
		return sg_cli_usage_error(&break_glass_cmd, "--reason goes with on, not off");
	if (sg_daemon_pid(cli->state_dir) < 0)
		return sg_cli_no_daemon(cli, NULL);
	rc = switch_glass(cli, on ? reason : NULL);
	return rc ? rc : reload_and_show(cli, timeout_ms, out, true);
}

static void say_removed(const char *path, void *ctx)
{
	unsigned *n = ctx;

	printf("removed %s\n", path);
	(*n)++;
}

/* BPF-5: take away everything SysGuard left in the kernel, and say what. */
static int reset(const struct sg_cli *cli)
{
	static const char *const dirs[] = { SG_SHIELD_PIN_DIR, SG_PIN_EXEC, SG_PIN_EGRESS };
	char names[64][IF_NAMESIZE], err[256];
	struct sg_shield *s = NULL;
	uint32_t progs[64];
	size_t n = 0, i, nprogs = 0;
	unsigned removed = 0;
	int rc = SG_EXIT_OK;
	bool daemon_runs = sg_daemon_pid(cli->state_dir) > 0;

	if (sg_shield_open(SG_SHIELD_PIN_DIR, &s, err, sizeof(err)) == 0) {
		sg_shield_attached(s, names, 64, &n);
		for (i = 0; i < n; i++) {
			if (sg_shield_detach(s, names[i], err, sizeof(err)) == 0) {
				printf("detached shield from %s\n", names[i]);
				removed++;
			} else {
				fprintf(stderr, "sysguardctl: %s\n", err);
				rc = SG_EXIT_FAILED;
			}
		}
		sg_shield_close(s);
	}
	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		nprogs += sg_pins_prog_ids(dirs[i], progs + nprogs, 64 - nprogs);
	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		int e = sg_pins_remove(dirs[i], say_removed, &removed);

		if (e) {
			fprintf(stderr, "sysguardctl: reset %s: %s\n", dirs[i], strerror(-e));
			rc = SG_EXIT_FAILED;
		}
	}
	if (sg_file_guard_release_leftovers(cli->state_dir, err, sizeof(err)) > 0) {
		printf("%s\n", err);
		removed++;
	}
	/*
	 * "Removed" must mean no longer enforcing: a tracepoint's program stays
	 * hooked until the kernel frees its link, a moment after the unlink.
	 */
	if (!daemon_runs && !sg_pins_wait_gone(progs, nprogs, 3000)) {
		fprintf(stderr, "sysguardctl: reset: a program is still loaded 3 s after its pin went "
			"(held by another process?)\n");
		rc = SG_EXIT_FAILED;
	}
	printf("reset: %u item(s) removed%s\n", removed, removed ? "" : " (nothing was pinned)");
	if (daemon_runs)
		printf("note: a running sysguardd keeps its programs attached until it stops\n");
	return rc;
}

int sg_cmd_reset(const struct sg_cli *cli, int argc, char **argv)
{
	int rc = sg_cli_help_only(&reset_cmd, argc, argv);

	if (rc >= 0)
		return rc;
	if (optind < argc)
		return sg_cli_usage_error(&reset_cmd, "unexpected argument '%s'", argv[optind]);
	return reset(cli);
}
