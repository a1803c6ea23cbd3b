/* SPDX-License-Identifier: Apache-2.0 */
/* sysguardctl block add|del|list PATH (FILE-1): the daemon's block list. */
#ifndef SG_BLOCK_CMD_H
#define SG_BLOCK_CMD_H

/*
 * `blocklist`: the running daemon's list file (from its ready file);
 * `reload`: makes the daemon take the new list, 0 on success.
 */
int sg_cli_block(int argc, char **argv, const char *blocklist, int (*reload)(void));

#endif
