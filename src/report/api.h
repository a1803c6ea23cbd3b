/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Monitoring API (OPS-2), on libmicrohttpd: a Unix socket (mode 0600) and,
 * optionally, a TCP port on 127.0.0.1. Every request needs
 * "Authorization: Bearer <token>", compared in constant time; otherwise 401.
 *
 *   /health   {"status":"ok"}
 *   /status   mode, backends, policy_version, uptime (the ready file's content)
 *   /stats    the stats.json counters
 *   /metrics  the same counters in Prometheus text format
 *   /events   the last SG_API_EVENTS audit records as a JSON array (from
 *             the daemon's feed, report/feed.h, which the gRPC service shares);
 *             with "Accept: text/event-stream" or ?follow=1, a live
 *             Server-Sent Events stream of every record from then on
 *   /dashboard/  the read-only web dashboard (report/dashboard.h): its files
 *             are served without a token (they hold no data), "/" redirects
 *             there; the page fetches the endpoints above with the token
 *
 * The event loop only copies into memory under the API's lock (snapshots,
 * one line per audit record); HTTP threads never touch daemon state.
 */
#ifndef SG_API_H
#define SG_API_H

#include <stddef.h>
#include <stdint.h>

#define SG_API_EVENTS 256

struct sg_api;

/* 0 or -errno with err set. unix_path NULL: no socket; tcp_port 0: no TCP. */
struct sg_feed;

/* feed: the records /events serves, filled by the daemon; it outlives the API. */
int sg_api_start(struct sg_api **out, const char *unix_path, unsigned tcp_port,
		 const char *token, struct sg_feed *feed, char *err, size_t errlen);
void sg_api_stop(struct sg_api *a);

void sg_api_set_status(struct sg_api *a, const char *json, size_t len);
void sg_api_set_stats(struct sg_api *a, const char *json, size_t len);
void sg_api_set_metrics(struct sg_api *a, const char *text, size_t len);

#endif
