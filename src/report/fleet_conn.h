/* SPDX-License-Identifier: Apache-2.0 */
/*
 * How a fleet client connects to NATS (docs/fleet.md, "Credentials and
 * TLS"): the servers, who it is (a .creds file, an nkey, or a user and a
 * password read from a file) and TLS (the CA the servers' certificates must
 * chain to, their names checked; a client certificate for mutual TLS). One
 * place for the daemon's two connections and sysguardctl's.
 */
#ifndef SG_FLEET_CONN_H
#define SG_FLEET_CONN_H

#include <stdbool.h>
#include <stddef.h>

#ifndef SG_FLEET_NO_NATS
#include <nats/nats.h>
#endif

#define SG_FLEET_URLS_MAX	16

/* Who connects and how; every field may be NULL (plain NATS, no credentials). */
struct sg_fleet_conn_config {
	const char *url;		/* nats:// or tls://host:port, comma-separated */
	const char *creds;		/* NATS .creds file: user JWT and nkey seed */
	const char *nkey_seed;		/* nkey seed file, public key on its second line */
	const char *user;
	const char *password_file;	/* the user's password, first line */
	const char *tls_ca;		/* PEM CA certificates; turns TLS on */
	const char *tls_cert;		/* client certificate chain for mutual TLS */
	const char *tls_key;		/* its private key */
	const char *inbox_prefix;	/* replies come on <prefix>.>: NULL for _INBOX */
	const char *name;		/* the connection's name on the server */
	bool reconnect_forever;		/* a daemon's connection; the CLI's gives up */
};

/* Check the URLs ("nats://" or "tls://host:port", comma-separated). 0, or -EINVAL with err. */
int sg_fleet_bus_check_url(const char *url, char *err, size_t errlen);

/*
 * Check the settings without connecting: the URLs, one way to authenticate at
 * most, the files there and readable, a key with a client certificate.
 * 0, or -EINVAL with a message naming the setting and the file.
 */
int sg_fleet_conn_check(const struct sg_fleet_conn_config *c, char *err, size_t errlen);

#ifndef SG_FLEET_NO_NATS
/*
 * libnats options for c (checked with sg_fleet_conn_check first): the files
 * are read now, so a bad one fails here, before any connection. NULL with err.
 */
natsOptions *sg_fleet_conn_options(const struct sg_fleet_conn_config *c, char *err, size_t errlen);

/* The reason for the last failure: libnats' own text when it has one. */
const char *sg_fleet_conn_error(natsStatus s);
#endif

#endif
