// SPDX-License-Identifier: Apache-2.0
/*
 * Start-up of the gRPC event stream (docs/grpc.md): settings checked, secrets
 * read and wiped, the feed made and the service started. The service itself
 * is report/grpc/, in C++; a statically linked daemon has no gRPC library
 * (SG_NO_GRPC) and refuses the settings.
 */
#include <errno.h>

#include "daemon/daemon.h"
#ifndef SG_NO_GRPC
#include "report/bearer.h"
#include "report/grpc/grpc_server.h"
#endif

static bool other_settings(const struct options *o)
{
	return o->grpc_socket || o->grpc_tls_cert || o->grpc_tls_key || o->grpc_tls_client_ca ||
	       o->grpc_buffer;
}

#ifdef SG_NO_GRPC
int daemon_start_grpc(struct daemon *d)
{
	if (!d->opt.grpc_token_file && !d->opt.grpc_address && !other_settings(&d->opt))
		return 0;
	fprintf(stderr, "sysguardd: this build has no gRPC library (statically linked); "
		"the gRPC settings cannot be used\n");
	return 2;
}

void daemon_stop_grpc(struct daemon *d)
{
	(void)d;
}
#else

static int check_settings(const struct options *o)
{
	if (!o->grpc_address && (o->grpc_tls_cert || o->grpc_tls_key || o->grpc_tls_client_ca)) {
		fprintf(stderr, "sysguardd: the gRPC TLS settings are for TCP: they need --grpc-address "
			"(grpc.address)\n");
		return -EINVAL;
	}
	if (o->grpc_address && (!o->grpc_tls_cert || !o->grpc_tls_key)) {
		fprintf(stderr, "sysguardd: gRPC over TCP is always TLS: it needs --grpc-tls-cert and "
			"--grpc-tls-key\n");
		return -EINVAL;
	}
	if (o->grpc_address && !o->grpc_token_file && !o->grpc_tls_client_ca) {
		fprintf(stderr, "sysguardd: gRPC over TCP needs a token (--grpc-token-file) or client "
			"certificates (--grpc-tls-client-ca)\n");
		return -EINVAL;
	}
	if (o->grpc_socket && !o->grpc_token_file) {
		fprintf(stderr, "sysguardd: the gRPC socket needs a token: --grpc-token-file\n");
		return -EINVAL;
	}
	return 0;
}

struct secrets {
	char *token, *cert, *key, *ca;
	size_t token_len, key_len;
};

static void wipe(struct secrets *s)
{
	if (s->token)
		sodium_memzero(s->token, s->token_len);
	if (s->key)
		sodium_memzero(s->key, s->key_len);
	free(s->token);
	free(s->cert);
	free(s->key);
	free(s->ca);
}

static int read_pem(const char *what, const char *path, char **out, size_t *len)
{
	size_t n = 0;
	int rc;

	if (!path)
		return 0;
	rc = daemon_read_file(path, out, len ? len : &n);
	if (rc)
		fprintf(stderr, "sysguardd: gRPC %s %s: %s\n", what, path, strerror(-rc));
	return rc;
}

static int read_secrets(const struct options *o, struct secrets *s)
{
	if (o->grpc_token_file &&
	    !(s->token = daemon_read_token("grpc token", o->grpc_token_file, &s->token_len)))
		return -EINVAL;
	if (s->token && s->token_len < 16) {
		fprintf(stderr, "sysguardd: the gRPC token must be at least 16 characters\n");
		return -EINVAL;
	}
	if (read_pem("TLS certificate", o->grpc_tls_cert, &s->cert, NULL) ||
	    read_pem("TLS key", o->grpc_tls_key, &s->key, &s->key_len) ||
	    read_pem("client CA", o->grpc_tls_client_ca, &s->ca, NULL))
		return -EINVAL;
	return 0;
}

int daemon_start_grpc(struct daemon *d)
{
	struct options *o = &d->opt;
	struct sg_grpc_config cfg = { .node_id = d->audit.node_id, .max_streams = 64 };
	uint8_t hash[SG_BEARER_HASH_LEN];
	struct secrets s = { 0 };
	char sock[4200], err[512];
	int rc = 2;

	if (!o->grpc_token_file && !o->grpc_address) {
		if (other_settings(o)) {
			fprintf(stderr, "sysguardd: the gRPC settings need --grpc-token-file or "
				"--grpc-address\n");
			return 2;
		}
		return 0;
	}
	if (check_settings(o) || daemon_make_feed(d) || read_secrets(o, &s))
		goto out;
	if (s.token) {
		sg_bearer_hash(s.token, hash);
		cfg.token_hash = hash;
		snprintf(sock, sizeof(sock), "%s/grpc.sock", o->state_dir);
		cfg.unix_path = o->grpc_socket ? o->grpc_socket : sock;
	}
	cfg.tcp_address = o->grpc_address;
	cfg.tls_cert_pem = s.cert;
	cfg.tls_key_pem = s.key;
	cfg.client_ca_pem = s.ca;
	if (sg_grpc_start(&d->grpc, &cfg, d->feed, err, sizeof(err))) {
		fprintf(stderr, "sysguardd: %s\n", err);
		goto out;
	}
	if (cfg.unix_path)
		daemon_note(d, "grpc_start", SG_SEV_INFO, "socket", daemon_shown_path(cfg.unix_path));
	if (cfg.tcp_address)
		daemon_note(d, "grpc_start", SG_SEV_INFO, "address", cfg.tcp_address);
	rc = 0;
out:
	sodium_memzero(hash, sizeof(hash));
	wipe(&s);
	return rc;
}

void daemon_stop_grpc(struct daemon *d)
{
	sg_grpc_stop(d->grpc);
	d->grpc = NULL;
}
#endif
