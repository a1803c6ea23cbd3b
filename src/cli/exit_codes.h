/* SPDX-License-Identifier: Apache-2.0 */
/*
 * sysguardctl's exit codes, the same for every command, so that scripts
 * and systemd (ExecReload) can tell a refusal from a typo from a daemon that
 * is not there. Listed in `sysguardctl --help` and sysguardctl(8).
 */
#ifndef SG_CLI_EXIT_CODES_H
#define SG_CLI_EXIT_CODES_H

#define SG_EXIT_OK		0	/* done */
#define SG_EXIT_FAILED		1	/* the command failed: refused by the daemon, I/O error, ... */
#define SG_EXIT_USAGE		2	/* unknown command or option, missing or bad argument */
#define SG_EXIT_NO_DAEMON	3	/* no sysguardd running (or reachable) for --state-dir */

#endif
