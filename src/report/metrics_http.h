/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The metrics listener: /metrics, and nothing else, on an address a central
 * Prometheus can reach (libmicrohttpd, like the monitoring API). Access is
 * by a bearer token (Prometheus' `authorization: credentials_file`), by TLS,
 * or both; an address other than loopback with neither is refused, since
 * the counters and the policy version would then be open to the network.
 *
 * The event loop only copies a snapshot in under the listener's lock
 * (sg_metrics_http_set); the HTTP thread never touches daemon state.
 */
#ifndef SG_METRICS_HTTP_H
#define SG_METRICS_HTTP_H

#include <stdbool.h>
#include <stddef.h>

struct sg_metrics_http_config {
	const char *address;		/* "host:port", "[v6]:port"; 0.0.0.0 / [::] for every address */
	const char *token;		/* NULL: no token asked */
	const char *tls_cert_pem;	/* certificate chain (PEM text); NULL: plain HTTP */
	const char *tls_key_pem;	/* its private key (PEM text), with tls_cert_pem */
};

struct sg_metrics_http;

/* 0 or -errno with a message for the operator in err; *out NULL then. */
int sg_metrics_http_start(struct sg_metrics_http **out, const struct sg_metrics_http_config *cfg,
			  char *err, size_t errlen);
/* The text served from now on (copied). m may be NULL. */
void sg_metrics_http_set(struct sg_metrics_http *m, const char *text, size_t len);
void sg_metrics_http_stop(struct sg_metrics_http *m);

/* Whether this build can serve HTTPS (libmicrohttpd built with GnuTLS). */
bool sg_metrics_http_tls_supported(void);

#endif
