/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The node's gRPC service (proto/sysguard/v1/sysguard.proto, docs/grpc.md),
 * in C++ on the gRPC library and kept to this module: the daemon sees only
 * this C interface. Streams read the in-memory feed (report/feed.h) on the
 * library's threads; nothing here touches daemon state, so a policy reload
 * never interrupts a stream.
 */
#ifndef SG_GRPC_SERVER_H
#define SG_GRPC_SERVER_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct sg_feed;
struct sg_grpc;

struct sg_grpc_config {
	const char *unix_path;		/* NULL: no Unix socket */
	const char *tcp_address;	/* "host:port", or NULL: no TCP (which always has TLS) */
	const char *tls_cert_pem;	/* the server's certificate and key, for TCP */
	const char *tls_key_pem;
	const char *client_ca_pem;	/* TCP clients must present a certificate it signed */
	const uint8_t *token_hash;	/* every call must carry the token (report/bearer.h); NULL: none */
	const char *node_id;
	unsigned max_streams;		/* concurrent GetEvents streams; more are refused */
};

/* 0, or -errno with err set; the feed outlives the service. */
int sg_grpc_start(struct sg_grpc **out, const struct sg_grpc_config *cfg, struct sg_feed *feed,
		  char *err, size_t errlen);
/* Ends the streams (clients see UNAVAILABLE) and stops the listeners. NULL-safe. */
void sg_grpc_stop(struct sg_grpc *g);
/* Streams open now, and streams refused because max_streams were open. */
void sg_grpc_counts(struct sg_grpc *g, uint64_t *streams, uint64_t *refused);

#ifdef __cplusplus
}
#endif

#endif
