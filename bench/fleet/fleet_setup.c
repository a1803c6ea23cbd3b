// SPDX-License-Identifier: Apache-2.0
/* The stream, the buckets and the process's resources (fleet_setup.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <nats/nats.h>

#include "fleet_setup.h"
#include "report/fleet_bus.h"
#include "report/fleet_status.h"

static natsStatus make_bucket(jsCtx *js, const char *name, uint8_t history, int64_t ttl_ns,
			      unsigned replicas)
{
	kvStore *kv = NULL;
	kvConfig c;
	natsStatus s = js_KeyValue(&kv, js, name);

	if (s == NATS_NOT_FOUND) {
		kvConfig_Init(&c);
		c.Bucket = name;
		c.History = history;
		c.TTL = ttl_ns;
		c.StorageType = js_FileStorage;
		c.Replicas = (int)replicas;
		s = js_CreateKeyValue(&kv, js, &c);
	}
	kvStore_Destroy(kv);
	return s;
}

static natsStatus setup_once(natsConnection *nc, const char *stream, unsigned replicas)
{
	jsCtx *js = NULL;
	natsStatus s = natsConnection_JetStream(&js, nc, NULL);

	if (s == NATS_OK)
		s = sg_fleet_stream_make(js, stream, replicas);
	if (s == NATS_OK)
		s = make_bucket(js, SG_FLEET_POLICY_BUCKET_DEFAULT, SG_FLEET_POLICY_HISTORY, 0, replicas);
	if (s == NATS_OK)
		s = make_bucket(js, SG_FLEET_STATUS_BUCKET, 1,
				(int64_t)SG_FLEET_STATUS_TTL_DEFAULT * 1000000000LL, replicas);
	jsCtx_Destroy(js);
	return s;
}

int setup_bus(const char *url, const char *stream, unsigned replicas, char *err, size_t errlen)
{
	natsConnection *nc = NULL;
	natsStatus s = NATS_ERR;
	int tries;

	for (tries = 0; tries < 60; tries++) {
		if (!nc)
			s = natsConnection_ConnectTo(&nc, url);
		if (nc)
			s = setup_once(nc, stream, replicas);
		if (s == NATS_OK)
			break;
		sleep(1);
	}
	natsConnection_Destroy(nc);
	if (s == NATS_OK)
		return 0;
	snprintf(err, errlen, "cannot make the stream and buckets: %s",
		 nats_GetLastError(NULL) && *nats_GetLastError(NULL) ? nats_GetLastError(NULL) :
		 natsStatus_GetText(s));
	return -EIO;
}

static uint64_t status_field(int pid, const char *name)
{
	char line[256], path[64];
	uint64_t v = 0;
	size_t n = strlen(name);
	FILE *f;

	if (pid)
		snprintf(path, sizeof(path), "/proc/%d/status", pid);
	else
		snprintf(path, sizeof(path), "/proc/self/status");
	f = fopen(path, "r");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, name, n) && line[n] == ':')
			v = strtoull(line + n + 1, NULL, 10);
	if (f)
		fclose(f);
	return v;
}

unsigned proc_threads(void)
{
	return (unsigned)status_field(0, "Threads");
}

uint64_t proc_rss_kb(int pid)
{
	return status_field(pid, "VmRSS");
}

/* utime + stime of pid from /proc/<pid>/stat (fields 14 and 15, after the name). */
static double pid_cpu_s(int pid)
{
	char buf[1024], path[64], *p;
	unsigned long ut = 0, st = 0;
	size_t n;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "r");
	if (!f)
		return 0;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &st) != 2)
		return 0;
	return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

void usage_take(struct usage_snap *u, const int *pids, unsigned npids)
{
	struct rusage ru;
	struct timespec ts;
	unsigned i;

	for (i = 0; i < npids && i < SERVERS_MAX; i++)
		u->server_cpu_s[i] = pid_cpu_s(pids[i]);

	clock_gettime(CLOCK_MONOTONIC, &ts);
	u->mono_ns = (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
	getrusage(RUSAGE_SELF, &ru);
	u->cpu_s = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
		   (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}
