// SPDX-License-Identifier: Apache-2.0
/* The `sysguardctl fleet` commands' bus connection (fleet_connect.h), on report/fleet_conn.c. */
#include <stdio.h>

#include "cli/fleet_connect.h"

bool sg_cli_fleet_conn_opt(struct sg_fleet_conn_config *conn, int c, const char *arg)
{
	switch (c) {
	case SG_CLI_FLEET_OPT_URL: conn->url = arg; return true;
	case SG_CLI_FLEET_OPT_CREDS: conn->creds = arg; return true;
	case SG_CLI_FLEET_OPT_NKEY_SEED: conn->nkey_seed = arg; return true;
	case SG_CLI_FLEET_OPT_USER: conn->user = arg; return true;
	case SG_CLI_FLEET_OPT_PASSWORD_FILE: conn->password_file = arg; return true;
	case SG_CLI_FLEET_OPT_TLS_CA: conn->tls_ca = arg; return true;
	case SG_CLI_FLEET_OPT_TLS_CERT: conn->tls_cert = arg; return true;
	case SG_CLI_FLEET_OPT_TLS_KEY: conn->tls_key = arg; return true;
	}
	return false;
}

int sg_cli_fleet_conn_check(const char *prefix, const struct sg_fleet_conn_config *conn)
{
	char err[512];

	if (!conn->url) {
		fprintf(stderr, "%s: give --url nats://host:port (or tls://host:port)\n", prefix);
		return -1;
	}
	if (sg_fleet_conn_check(conn, err, sizeof(err))) {
		fprintf(stderr, "%s: %s\n", prefix, err);
		return -1;
	}
	return 0;
}

#ifndef SG_FLEET_NO_NATS

natsStatus sg_cli_fleet_connect(const char *prefix, const struct sg_fleet_conn_config *conn,
				natsConnection **nc, jsCtx **js)
{
	struct sg_fleet_conn_config c = *conn;
	natsOptions *o;
	natsStatus s;
	char err[512];

	*nc = NULL;
	*js = NULL;
	c.name = "sysguardctl";
	c.reconnect_forever = false;
	o = sg_fleet_conn_options(&c, err, sizeof(err));
	if (!o) {
		fprintf(stderr, "%s: %s\n", prefix, err);
		return NATS_ERR;
	}
	s = natsConnection_Connect(nc, o);
	if (s == NATS_OK)
		s = natsConnection_JetStream(js, *nc, NULL);
	if (s != NATS_OK) {
		fprintf(stderr, "%s: cannot reach the bus: %s\n", prefix, sg_fleet_conn_error(s));
		sg_cli_fleet_close(*nc, *js);
		*nc = NULL;
		*js = NULL;
	}
	natsOptions_Destroy(o);
	return s;
}

void sg_cli_fleet_close(natsConnection *nc, jsCtx *js)
{
	jsCtx_Destroy(js);
	natsConnection_Destroy(nc);
}

#endif
