// SPDX-License-Identifier: Apache-2.0
/*
 * sysguardctl shield: through the running daemon when one answers on
 * <state-dir>/shield.sock (BPF-7: with BPF LSM only the daemon may open the
 * Shield's maps), else directly on the pinned objects.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "act/shield.h"
#include "act/shield_ctl.h"
#include "act/shield_ops.h"
#include "cli/commands.h"
#include "cli/shield_args.h"
#include "store/bundle_files.h"

/* -ENOENT / -ECONNREFUSED: no daemon listens (go direct); otherwise connected fd. */
static int connect_daemon(const char *state_dir)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, rc;

	if (snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/%s", state_dir, SG_SHIELD_CTL_SOCK) >=
	    (int)sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		rc = -errno;
		close(fd);
		return rc;
	}
	return fd;
}

static int copy_out(int fd, uint32_t len, FILE *to)
{
	char buf[65536];

	while (len) {
		uint32_t k = len < sizeof(buf) ? len : sizeof(buf);

		if (sg_shield_ctl_read_all(fd, buf, k))
			return -EPIPE;
		fwrite(buf, 1, k, to);
		len -= k;
	}
	return 0;
}

/* Sends argv (and `load`'s list, read here, in the caller's mount namespace); the daemon's answer. */
static int via_daemon(int fd, int argc, char **argv)
{
	struct sg_shield_req h = { .magic = SG_SHIELD_CTL_MAGIC, .argc = (uint32_t)argc };
	struct sg_shield_rep rep;
	char *list = NULL, err[4200];
	size_t len = 0;
	int i, rc;

	for (i = 0; i < argc; i++)
		h.args_len += strlen(argv[i]) + 1;
	if (!strcmp(argv[0], "load") && argc == 2) {
		if (sg_file_read_all(argv[1], SG_SHIELD_CTL_MAX_LIST, &list, &len, err, sizeof(err))) {
			fprintf(stderr, "sysguardctl: %s (nothing changed)\n", err);
			return 1;
		}
		h.list_len = (uint32_t)len;
	}
	rc = sg_shield_ctl_write_all(fd, &h, sizeof(h));
	for (i = 0; !rc && i < argc; i++)
		rc = sg_shield_ctl_write_all(fd, argv[i], strlen(argv[i]) + 1);
	if (!rc && len)
		rc = sg_shield_ctl_write_all(fd, list, len);
	free(list);
	if (!rc)
		rc = sg_shield_ctl_read_all(fd, &rep, sizeof(rep));
	if (!rc && rep.magic != SG_SHIELD_CTL_MAGIC)
		rc = -EPROTO;
	if (!rc)
		rc = copy_out(fd, rep.out_len, stdout);
	if (!rc)
		rc = copy_out(fd, rep.err_len, stderr);
	if (rc) {
		fprintf(stderr, "sysguardctl: sysguardd did not answer (%s): the Shield may or may not have"
			" changed; see shield_change in its audit log\n", strerror(-rc));
		return 1;
	}
	return rep.status;
}

static int run(const struct sg_cli *cli, const char *pin_dir, int argc, char **argv)
{
	struct sg_shield_run x = { .pin_dir = pin_dir ? pin_dir : SG_SHIELD_PIN_DIR,
				   .out = stdout, .err = stderr };
	int fd, rc;

	/* The daemon serves its own pins only; another --pin-dir is never guarded. */
	if (!pin_dir) {
		fd = connect_daemon(cli->state_dir);
		if (fd >= 0) {
			rc = via_daemon(fd, argc, argv);
			close(fd);
			return rc;
		}
		if (fd != -ENOENT && fd != -ECONNREFUSED)
			fprintf(stderr, "sysguardctl: %s/%s: %s; editing the pinned maps directly\n",
				cli->state_dir, SG_SHIELD_CTL_SOCK, strerror(-fd));
	}
	return sg_shield_run(&x, argc, argv);
}

int sg_cmd_shield(const struct sg_cli *cli, int argc, char **argv)
{
	static const struct option longs[] = {
		SG_CLI_OPT_HELP,
		{ "pin-dir", required_argument, NULL, 'p' },
		{ 0 },
	};
	static const struct sg_cli_cmd shield_cmd = { "shield", "" };
	const char *pin_dir = NULL;
	char **canon;
	int c, n, rc;

	/* '+': the options before the subcommand are the Shield's own. */
	sg_cli_getopt_start();
	while ((c = sg_cli_next(argc, argv, "+:h", longs)) != -1) {
		if (c == 'h') {
			sg_shield_args_usage(stdout);
			return SG_EXIT_OK;
		}
		if (c != 'p')
			return sg_cli_bad_option(&shield_cmd, argc, argv, c);
		pin_dir = optarg;
	}
	if (optind >= argc)
		return sg_cli_usage_error(&shield_cmd, "which command?");
	argc -= optind;
	argv += optind;
	rc = sg_shield_args(argc, argv, &canon, &n);
	if (rc >= 0)
		return rc;
	rc = run(cli, pin_dir, n, canon);
	if (rc == SG_EXIT_USAGE)
		sg_shield_args_hint(canon[0]);
	free(canon);
	return rc;
}
