/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Bundle reach for bench/fleet: N nodes, each the daemon's own policy
 * watcher and status writer (src/report/fleet_node.c) with its own
 * connection, all in one group; the bench puts a new value of
 * policy.<group> and times, per node, the put to the watcher handing it over.
 */
#ifndef SG_BENCH_FLEET_REACH_H
#define SG_BENCH_FLEET_REACH_H

#include <stdint.h>

struct reach_config {
	const char *url;
	const char *bucket;
	const char *group;
	unsigned nodes;
	unsigned value_bytes;		/* of each value put, like a signed bundle */
	unsigned timeout_ms;		/* for every node to see one value */
	unsigned status_ttl_s;
	unsigned ramp;			/* nodes started per second */
};

struct reach_result {
	unsigned seen;			/* nodes that saw the value within the timeout */
	double put_ms;			/* the put's own round trip (stored by JetStream) */
	double p50_ms, p99_ms, max_ms;	/* put to a node's watcher handing it over */
	double all_ms;			/* put to the last node; the timeout when some never saw it */
};

struct reach;

/* Start the nodes and wait until every watcher gave the bucket's first value. NULL with err. */
struct reach *reach_start(const struct reach_config *cfg, char *err, size_t errlen);

/* Put one new value and wait for all nodes (or the timeout). 0, or -errno with err. */
int reach_round(struct reach *r, struct reach_result *out, char *err, size_t errlen);

void reach_stop(struct reach *r);

#endif
