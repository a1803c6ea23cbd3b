/* SPDX-License-Identifier: Apache-2.0 */
/*
 * bench/fleet: the cluster's stream and buckets, made before any node starts
 * (with the replicas asked for: the daemon would make them with its own
 * settings, one replica for the buckets), and the process's own resources.
 */
#ifndef SG_BENCH_FLEET_SETUP_H
#define SG_BENCH_FLEET_SETUP_H

#include <stddef.h>
#include <stdint.h>

#define SERVERS_MAX	8

struct usage_snap {
	uint64_t mono_ns;
	double cpu_s;		/* user + system, all threads */
	double server_cpu_s[SERVERS_MAX];
};

/*
 * The events stream (subjects sysguard.>, file storage, the daemon's
 * duplicate window) and the policy and status buckets, all with `replicas`;
 * retried for up to a minute while the cluster elects its leader. 0 or -EIO.
 */
int setup_bus(const char *url, const char *stream, unsigned replicas, char *err, size_t errlen);

unsigned proc_threads(void);
/* Resident memory of pid (0: this process), kB. */
uint64_t proc_rss_kb(int pid);
/* This process's CPU time and that of the npids servers. */
void usage_take(struct usage_snap *u, const int *pids, unsigned npids);

#endif
