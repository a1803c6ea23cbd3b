/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The bus connection of every `sysguardctl fleet` command: the options that
 * say where the bus is and how to log in (--url, --creds, --nkey-seed,
 * --user, --password-file, --tls-ca, --tls-cert, --tls-key), parsed in one
 * place, and one connect call. A command puts SG_CLI_FLEET_CONN_OPTS in its
 * getopt table, hands every option to sg_cli_fleet_conn_opt first, and
 * prints SG_CLI_FLEET_CONN_HELP in its help.
 */
#ifndef SG_CLI_FLEET_CONNECT_H
#define SG_CLI_FLEET_CONNECT_H

#include <getopt.h>
#include <stdbool.h>

#include "report/fleet_conn.h"

/* getopt codes of these options: a range no command uses for its own. */
enum {
	SG_CLI_FLEET_OPT_URL = 0x7100,
	SG_CLI_FLEET_OPT_CREDS,
	SG_CLI_FLEET_OPT_NKEY_SEED,
	SG_CLI_FLEET_OPT_USER,
	SG_CLI_FLEET_OPT_PASSWORD_FILE,
	SG_CLI_FLEET_OPT_TLS_CA,
	SG_CLI_FLEET_OPT_TLS_CERT,
	SG_CLI_FLEET_OPT_TLS_KEY,
};

#define SG_CLI_FLEET_CONN_OPTS \
	{ "url", required_argument, NULL, SG_CLI_FLEET_OPT_URL }, \
	{ "creds", required_argument, NULL, SG_CLI_FLEET_OPT_CREDS }, \
	{ "nkey-seed", required_argument, NULL, SG_CLI_FLEET_OPT_NKEY_SEED }, \
	{ "user", required_argument, NULL, SG_CLI_FLEET_OPT_USER }, \
	{ "password-file", required_argument, NULL, SG_CLI_FLEET_OPT_PASSWORD_FILE }, \
	{ "tls-ca", required_argument, NULL, SG_CLI_FLEET_OPT_TLS_CA }, \
	{ "tls-cert", required_argument, NULL, SG_CLI_FLEET_OPT_TLS_CERT }, \
	{ "tls-key", required_argument, NULL, SG_CLI_FLEET_OPT_TLS_KEY }

#define SG_CLI_FLEET_CONN_HELP \
	"      --url=URLS        nats://host:port or tls://host:port, several separated by commas\n" \
	"      --creds=FILE      log in with this NATS credentials file (JWT and seed)\n" \
	"      --nkey-seed=FILE  ...or this nkey: seed, then public key (nk -gen user -pubout)\n" \
	"      --user=NAME       ...or as this user, with --password-file=FILE (first line)\n" \
	"      --tls-ca=FILE     TLS: the servers' certificates must chain to these CAs\n" \
	"      --tls-cert=FILE   client certificate for mutual TLS, with --tls-key=FILE\n"

/*
 * True when c is one of the connection options (its argument stored in
 * conn); false for the command's own.
 */
bool sg_cli_fleet_conn_opt(struct sg_fleet_conn_config *conn, int c, const char *arg);

/* After parsing: 0, or -1 with a message for the operator naming the setting (prefix: the command). */
int sg_cli_fleet_conn_check(const char *prefix, const struct sg_fleet_conn_config *conn);

#ifndef SG_FLEET_NO_NATS
/*
 * Connect and open JetStream; NATS_OK, else the failure printed (prefixed)
 * and nothing left to free. Close with sg_cli_fleet_close.
 */
natsStatus sg_cli_fleet_connect(const char *prefix, const struct sg_fleet_conn_config *conn,
				natsConnection **nc, jsCtx **js);

/* NULL-safe. */
void sg_cli_fleet_close(natsConnection *nc, jsCtx *js);
#endif

#endif
