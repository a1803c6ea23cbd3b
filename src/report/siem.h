/* SPDX-License-Identifier: Apache-2.0 */
/*
 * SIEM export (OPS-4, docs/siem.md): every audit record as an RFC 5424
 * syslog message over TCP or TLS (RFC 6587 octet counting, RFC 5425). The
 * event loop only calls sg_siem_submit(), which copies the line into a
 * bounded queue; a worker thread connects, reconnects with capped backoff,
 * sends, and re-sends what the receiver's TCP had not acknowledged when a
 * connection broke. Nothing exists unless the export is enabled.
 */
#ifndef SG_SIEM_H
#define SG_SIEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SG_SIEM_QUEUE_DEFAULT	4096u
#define SG_SIEM_QUEUE_MAX	1000000u
/* Records the receiver has not acknowledged yet; they are re-sent after a reconnect. */
#define SG_SIEM_INFLIGHT_MAX	1024u
/* A longer audit line is counted as dropped rather than sent (none is near it). */
#define SG_SIEM_RECORD_MAX	(1u << 20)

enum sg_siem_transport {
	SG_SIEM_TCP = 0,
	SG_SIEM_TLS = 1,
};

struct sg_siem_config {
	const char *address;		/* host:port, [v6]:port; port defaults to 514 (tcp) / 6514 (tls) */
	enum sg_siem_transport transport;
	unsigned queue;			/* records waiting to be sent; 0: SG_SIEM_QUEUE_DEFAULT */
	unsigned facility;		/* 0..23 */
	const char *ca_file;		/* tls: PEM CAs to verify the server; NULL: the system's */
	const char *server_name;	/* tls: name (or IP) the certificate must carry; NULL: the host */
	const char *cert_file;		/* tls: client certificate chain (PEM), with key_file */
	const char *key_file;
	const char *hostname;		/* HOSTNAME of every message (node_id) */
};

struct sg_siem_stats {
	uint64_t submitted;		/* audit records handed to the exporter */
	uint64_t sent;			/* acknowledged by the receiver's TCP */
	uint64_t dropped;		/* queue full (oldest dropped) or a record over SG_SIEM_RECORD_MAX */
	uint64_t resent;		/* written again after a connection broke before they were acknowledged */
	uint64_t reconnects;		/* connections made after the first */
	uint64_t errors;		/* failed connection attempts and broken connections */
	uint64_t queue_depth;		/* not a counter: queued + in flight, not yet acknowledged */
	bool connected;
	/* Under one lock: submitted = sent + dropped + queue_depth. */
};

struct sg_siem;

/* Validate cfg, set up TLS and start the worker. NULL on error, with a message in err. */
struct sg_siem *sg_siem_start(const struct sg_siem_config *cfg, char *err, size_t errlen);

/* Queue one audit line (copied). Never blocks on the network; drops the oldest when full. */
void sg_siem_submit(struct sg_siem *s, const char *line, size_t len);

/* A consistent snapshot; zeros when s is NULL. */
void sg_siem_stats(struct sg_siem *s, struct sg_siem_stats *out);

/*
 * Stop: the worker gets up to drain_ms to send what is queued, then closes
 * the connection; what is still unacknowledged is reported on stderr. Frees
 * everything.
 */
void sg_siem_stop(struct sg_siem *s, unsigned drain_ms);

/* "tcp" / "tls" -> transport; -1 when unknown. */
int sg_siem_transport_parse(const char *s);

/*
 * Split "host:port", "[v6]:port", "host" or "[v6]" (port then default_port)
 * into host and port. 0, or -EINVAL with the reason in err.
 */
int sg_siem_parse_address(const char *addr, unsigned default_port, char *host, size_t hostlen,
			  unsigned *port, char *err, size_t errlen);

#endif
