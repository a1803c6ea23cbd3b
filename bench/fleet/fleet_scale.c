// SPDX-License-Identifier: Apache-2.0
/*
 * fleet-scale: N simulated nodes against a JetStream cluster, each on the
 * daemon's own code: its events through sg_fleet_bus (src/report/fleet_bus.c,
 * one connection per node, or per --per-conn nodes), its policy through
 * sg_fleet_node (src/report/fleet_node.c, one connection per node). Prints
 * one JSON object (bench/fleet/run.sh makes the table).
 *
 * A node's records are due on a fixed schedule (R per second, the nodes'
 * phases spread over the first period) and a record's latency is counted
 * from its due time, so a publisher that falls behind shows as latency and
 * backlog rather than as a lower offered rate. Like the daemon's worker,
 * each connection publishes what is due in one batch, waits for its
 * acknowledgements, and re-sends from the first failure after 200 ms; the
 * backlog stays in memory (the daemon's spool would hold it on disk).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <nats/nats.h>

#include "fleet_reach.h"
#include "fleet_setup.h"
#include "hist.h"
#include "report/fleet_bus.h"
#include "report/fleet_status.h"

#define REC_MAX			768
#define RETRY_NS		(SG_FLEET_RETRY_MS * 1000000ull)	/* while the bus is not ready */
#define IDLE_NS			(100ull * 1000000ull)
#define MAX_SECONDS		4096

struct opts {
	const char *url, *stream;
	unsigned nodes, rate, duration, per_conn, drain, replicas, rounds, bundle_bytes;
	unsigned ack_wait_ms, reach_timeout_ms, ramp;
	bool reach;
	int pids[SERVERS_MAX];		/* the servers, for their CPU during the load */
	unsigned npids;
};

struct run {
	struct opts o;
	char run_id[17];
	uint64_t t0, t_end, t_stop;	/* start, end of the schedule, end of the drain */
	uint64_t t_launch;
	pthread_mutex_t lock;
	pthread_cond_t go_cond;
	bool go;			/* under lock */
	_Atomic unsigned ready, failed;
	struct hist ack_lat;		/* handed to sg_fleet_bus_publish -> stored */
	struct hist e2e_lat;		/* due -> stored */
	struct hist batch_lat;		/* one sg_fleet_bus_publish call */
	_Atomic uint64_t per_sec[MAX_SECONDS];	/* stored, by second since t0 */
};

struct conn {
	struct run *run;
	unsigned first, n;		/* its nodes: first .. first + n - 1 */
	struct sg_fleet_bus *bus;
	struct sg_fleet_pace pace;	/* the daemon's pacing (fleet_bus.h) */
	uint64_t *due, *acked, *cursor;
	_Atomic uint64_t stored_ns[SG_FLEET_BATCH_MAX];
	unsigned slot_node[SG_FLEET_BATCH_MAX];
	uint64_t slot_born[SG_FLEET_BATCH_MAX];
	struct sg_fleet_msg msgs[SG_FLEET_BATCH_MAX];
	char (*subject)[48], (*msgid)[80], (*data)[REC_MAX];
	/* Its own thread's until joined. */
	uint64_t acked_window, bytes_window, acked_total, bytes_total, scheduled;
	uint64_t errors, rejected, late, batches, not_ready;
	char first_err[160];
	pthread_t th;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void sleep_until(uint64_t t)
{
	struct timespec ts = { .tv_sec = (time_t)(t / 1000000000ull),
			       .tv_nsec = (long)(t % 1000000000ull) };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

/* libnats' thread, through the bus's optional hook: when v[i] was stored. */
static void on_stored(void *ctx, unsigned i)
{
	struct conn *c = ctx;

	atomic_store_explicit(&c->stored_ns[i], mono_ns(), memory_order_relaxed);
}

/* Node g's first record is due at t0 + phase; the phases spread over one period. */
static uint64_t phase_ns(const struct run *r, unsigned g)
{
	return (uint64_t)g * (1000000000ull / r->o.rate) / r->o.nodes;
}

static uint64_t born_ns(const struct run *r, unsigned g, uint64_t seq)
{
	return r->t0 + phase_ns(r, g) + seq * 1000000000ull / r->o.rate;
}

static uint64_t due_at(const struct run *r, unsigned g, uint64_t now)
{
	uint64_t start = r->t0 + phase_ns(r, g), total = (uint64_t)r->o.rate * r->o.duration, n;

	if (now < start)
		return 0;
	n = (now - start) * r->o.rate / 1000000000ull + 1;
	return n < total ? n : total;
}

/* An exec record as the daemon writes it (sg_audit_begin + the exec fields), ~550 bytes. */
static size_t exec_record(char *buf, unsigned g, uint64_t seq, const char *run_id)
{
	static const char *const comm[] = { "bash", "python3", "curl", "git", "sh", "nginx" };
	unsigned pid = 2000 + (unsigned)((g * 7919u + seq * 104729u) % 60000u);
	int n;

	n = snprintf(buf, REC_MAX,
		     "{\"event_id\":\"%016" PRIx64 "\",\"ts\":\"2026-12-02T19:30:00.%09" PRIu64 "Z\","
		     "\"node_id\":\"node-%04u\",\"policy_version\":\"fleet-7\",\"type\":\"exec\","
		     "\"severity\":\"info\",\"process\":{\"pid\":%u,\"ppid\":%u,\"uid\":1000,"
		     "\"gid\":1000,\"comm\":\"%s\",\"exe\":\"/usr/bin/%s\",\"args\":[\"%s\","
		     "\"--run\",\"%s\"],\"args_truncated\":false,"
		     "\"cgroup_id\":%u,\"container\":null},\"parent\":{\"pid\":%u,"
		     "\"exe\":\"/usr/lib/systemd/systemd\"},\"file\":{\"dev\":64769,\"ino\":%u,"
		     "\"sha256\":\"%016" PRIx64 "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822c"
		     "d15d6c15b0f00a08\",\"fileless\":false,\"loader\":false},\"sensor\":\"bpf\","
		     "\"rule\":null,\"default_action\":true,\"action\":\"allow\",\"decision\":\"allow\","
		     "\"mode\":\"monitor\"}",
		     seq + 1, (uint64_t)(seq % 1000000000u), g, pid, pid - 1, comm[seq % 6], comm[seq % 6],
		     comm[seq % 6], run_id, 4000 + g, pid - 1, 131072 + (unsigned)(seq % 5000),
		     (uint64_t)g << 32 | (seq & 0xffffffffu));
	return n < REC_MAX ? (size_t)n : REC_MAX - 1;
}

/* What is due now, oldest first across the connection's nodes; the number of messages. */
static unsigned fill_batch(struct conn *c)
{
	struct run *r = c->run;
	unsigned k = 0, j, best;
	uint64_t b, best_born;

	for (j = 0; j < c->n; j++)
		c->cursor[j] = c->acked[j];
	while (k < c->pace.window) {
		best = c->n;
		best_born = UINT64_MAX;
		for (j = 0; j < c->n; j++) {
			if (c->cursor[j] >= c->due[j])
				continue;
			b = born_ns(r, c->first + j, c->cursor[j]);
			if (b < best_born) {
				best_born = b;
				best = j;
			}
		}
		if (best == c->n)
			break;
		j = c->first + best;
		/* Nats-Msg-Id <node>.<run>.<event_id>, as fleet_publish.c makes it. */
		snprintf(c->subject[k], sizeof(c->subject[k]), "sysguard.node-%04u.exec", j);
		snprintf(c->msgid[k], sizeof(c->msgid[k]), "node-%04u.%s.%016" PRIx64, j, r->run_id,
			 c->cursor[best] + 1);
		c->msgs[k] = (struct sg_fleet_msg){ c->subject[k], c->msgid[k], c->data[k],
						    exec_record(c->data[k], j, c->cursor[best],
								r->run_id) };
		c->slot_node[k] = best;
		c->slot_born[k] = best_born;
		c->cursor[best]++;
		k++;
	}
	return k;
}

static void account(struct conn *c, unsigned acked, uint64_t t_hand)
{
	struct run *r = c->run;
	uint64_t t, sec;
	unsigned i;

	for (i = 0; i < acked; i++) {
		c->acked[c->slot_node[i]]++;
		t = atomic_load_explicit(&c->stored_ns[i], memory_order_relaxed);
		if (!t)
			continue;	/* rejected as too large, or acked before this batch's hook */
		hist_add(&r->ack_lat, (t - t_hand) / 1000);
		hist_add(&r->e2e_lat, t > c->slot_born[i] ? (t - c->slot_born[i]) / 1000 : 0);
		c->acked_total++;
		c->bytes_total += c->msgs[i].len;
		if (t <= r->t_end) {
			c->acked_window++;
			c->bytes_window += c->msgs[i].len;
		}
		sec = t > r->t0 ? (t - r->t0) / 1000000000ull : 0;
		if (sec < MAX_SECONDS)
			atomic_fetch_add_explicit(&r->per_sec[sec], 1, memory_order_relaxed);
	}
}

/* The next due time of any of the connection's nodes; UINT64_MAX when the schedule is done. */
static uint64_t next_due(struct conn *c)
{
	uint64_t total = (uint64_t)c->run->o.rate * c->run->o.duration, next = UINT64_MAX, b;
	unsigned j;

	for (j = 0; j < c->n; j++) {
		if (c->due[j] >= total)
			continue;
		b = born_ns(c->run, c->first + j, c->due[j]);
		if (b < next)
			next = b;
	}
	return next;
}

static void publish_loop(struct conn *c)
{
	struct run *r = c->run;
	unsigned n, j, acked, rejected, late, wait_ms;
	uint64_t now, pending, t_hand, next;
	char err[160];
	int rc;

	for (;;) {
		now = mono_ns();
		if (now >= r->t_stop)
			break;
		pending = 0;
		for (j = 0; j < c->n; j++) {
			c->due[j] = due_at(r, c->first + j, now);
			pending += c->due[j] - c->acked[j];
		}
		if (!pending) {
			next = next_due(c);
			if (next == UINT64_MAX)
				break;
			sleep_until(next < now + IDLE_NS ? next : now + IDLE_NS);
			continue;
		}
		if (!sg_fleet_bus_ready(c->bus, err, sizeof(err))) {
			c->not_ready++;
			sleep_until(now + RETRY_NS);
			continue;
		}
		n = fill_batch(c);
		for (j = 0; j < n; j++)
			atomic_store_explicit(&c->stored_ns[j], 0, memory_order_relaxed);
		t_hand = mono_ns();
		rc = sg_fleet_bus_publish(c->bus, c->msgs, n, &acked, &rejected, &late, NULL, NULL,
					  err, sizeof(err));
		hist_add(&r->batch_lat, (mono_ns() - t_hand) / 1000);
		c->batches++;
		account(c, acked, t_hand);
		c->rejected += rejected;
		c->late += late;
		wait_ms = sg_fleet_pace_after(&c->pace, acked, n);
		if (rc && !c->errors++)
			snprintf(c->first_err, sizeof(c->first_err), "%s", err);
		if (wait_ms)
			sleep_until(mono_ns() + wait_ms * 1000000ull);
	}
	for (j = 0; j < c->n; j++)
		c->scheduled += c->due[j];
}

static void *conn_main(void *arg)
{
	struct conn *c = arg;
	struct run *r = c->run;
	uint64_t deadline;
	char err[160];

	/* A thousand daemons do not all start in the same second; a storm of them would time out. */
	sleep_until(r->t_launch + (uint64_t)(c->first / r->o.per_conn) * 1000000000ull / r->o.ramp);
	deadline = mono_ns() + 120ull * 1000000000ull;

	while (!sg_fleet_bus_ready(c->bus, err, sizeof(err))) {
		if (mono_ns() > deadline) {
			snprintf(c->first_err, sizeof(c->first_err), "never ready: %.140s", err);
			atomic_fetch_add(&r->failed, 1);
			return NULL;
		}
		usleep(200 * 1000);
	}
	atomic_fetch_add(&r->ready, 1);
	pthread_mutex_lock(&r->lock);
	while (!r->go)
		pthread_cond_wait(&r->go_cond, &r->lock);
	pthread_mutex_unlock(&r->lock);
	publish_loop(c);
	return NULL;
}

static int conn_init(struct run *r, struct conn *c, unsigned first, unsigned n, char *err,
		     size_t errlen)
{
	struct sg_fleet_conn_config conn = { .url = r->o.url };
	struct sg_fleet_bus_config bc = {
		.conn = &conn, .stream = r->o.stream, .replicas = r->o.replicas,
		.ack_wait_ms = r->o.ack_wait_ms, .on_stored = on_stored, .on_stored_ctx = c,
	};

	c->run = r;
	c->first = first;
	c->n = n;
	c->due = calloc(n, sizeof(uint64_t));
	c->acked = calloc(n, sizeof(uint64_t));
	c->cursor = calloc(n, sizeof(uint64_t));
	/* Touched only as far as the largest batch goes. */
	c->subject = malloc(SG_FLEET_BATCH_MAX * sizeof(*c->subject));
	c->msgid = malloc(SG_FLEET_BATCH_MAX * sizeof(*c->msgid));
	c->data = malloc(SG_FLEET_BATCH_MAX * sizeof(*c->data));
	if (!c->due || !c->acked || !c->cursor || !c->subject || !c->msgid || !c->data) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	sg_fleet_pace_init(&c->pace);
	c->bus = sg_fleet_bus_open(&bc, err, errlen);
	return c->bus ? 0 : -EIO;
}

static void conn_free(struct conn *c)
{
	sg_fleet_bus_close(c->bus);
	free(c->due);
	free(c->acked);
	free(c->cursor);
	free(c->subject);
	free(c->msgid);
	free(c->data);
}

static void print_hist(const char *name, struct hist *h)
{
	printf("\"%s\":{\"n\":%" PRIu64 ",\"p50\":%.2f,\"p99\":%.2f,\"max\":%.2f},", name,
	       atomic_load(&h->n), hist_ms(h, 0.5), hist_ms(h, 0.99),
	       (double)atomic_load(&h->max_us) / 1000.0);
}

static void print_rounds(const char *name, const struct reach_result *v, unsigned n)
{
	unsigned i;

	printf("\"%s\":[", name);
	for (i = 0; i < n; i++)
		printf("%s{\"seen\":%u,\"put_ms\":%.2f,\"p50\":%.2f,\"p99\":%.2f,\"max\":%.2f,"
		       "\"all\":%.2f}", i ? "," : "", v[i].seen, v[i].put_ms, v[i].p50_ms,
		       v[i].p99_ms, v[i].max_ms, v[i].all_ms);
	printf("],");
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* The middle second of the schedule's second half: the rate once the start is over. */
static uint64_t steady_rate(struct run *r)
{
	unsigned from = r->o.duration / 2, n = r->o.duration - from, i;
	uint64_t v[MAX_SECONDS];

	for (i = 0; i < n; i++)
		v[i] = atomic_load(&r->per_sec[from + i]);
	qsort(v, n, sizeof(v[0]), cmp_u64);
	return v[n / 2];
}

static void print_result(struct run *r, struct conn *conns, unsigned nconn, unsigned threads,
			 const struct usage_snap *u0, const struct usage_snap *u1,
			 const struct reach_result *idle, const struct reach_result *load)
{
	uint64_t sched = 0, win = 0, bwin = 0, tot = 0, errors = 0, rej = 0, late = 0, batches = 0;
	uint64_t not_ready = 0;
	const char *first_err = "";
	double wall = (double)(u1->mono_ns - u0->mono_ns) / 1e9;
	unsigned i;

	for (i = 0; i < nconn; i++) {
		sched += conns[i].scheduled;
		win += conns[i].acked_window;
		bwin += conns[i].bytes_window;
		tot += conns[i].acked_total;
		errors += conns[i].errors;
		rej += conns[i].rejected;
		late += conns[i].late;
		batches += conns[i].batches;
		not_ready += conns[i].not_ready;
		if (!*first_err && conns[i].first_err[0])
			first_err = conns[i].first_err;
	}
	printf("{\"nodes\":%u,\"rate\":%u,\"duration\":%u,\"per_conn\":%u,\"connections\":%u,"
	       "\"bench_threads\":%u,\"bench_rss_kb\":%" PRIu64 ",\"bench_cpu_pct\":%.0f,",
	       r->o.nodes, r->o.rate, r->o.duration, r->o.per_conn, nconn, threads, proc_rss_kb(0),
	       (u1->cpu_s - u0->cpu_s) / wall * 100);
	printf("\"servers\":[");
	for (i = 0; i < r->o.npids; i++)
		printf("%s{\"pid\":%d,\"cpu_pct\":%.0f,\"rss_kb\":%" PRIu64 "}", i ? "," : "",
		       r->o.pids[i], (u1->server_cpu_s[i] - u0->server_cpu_s[i]) / wall * 100,
		       proc_rss_kb(r->o.pids[i]));
	printf("],");
	printf("\"offered_msgs_s\":%u,\"scheduled\":%" PRIu64 ",\"acked_window\":%" PRIu64 ","
	       "\"acked_msgs_s\":%.0f,\"acked_mb_s\":%.2f,\"steady_msgs_s\":%" PRIu64 ","
	       "\"acked_total\":%" PRIu64 ",\"backlog_end\":%" PRIu64 ",\"mean_record_bytes\":%.0f,",
	       r->o.nodes * r->o.rate, sched, win, (double)win / r->o.duration,
	       (double)bwin / r->o.duration / 1e6, steady_rate(r), tot, sched - tot,
	       win ? (double)bwin / (double)win : 0.0);
	print_hist("ack_ms", &r->ack_lat);
	print_hist("due_to_ack_ms", &r->e2e_lat);
	print_hist("batch_ms", &r->batch_lat);
	printf("\"batches\":%" PRIu64 ",\"errors\":%" PRIu64 ",\"rejected\":%" PRIu64 ","
	       "\"late\":%" PRIu64 ",\"not_ready\":%" PRIu64 ",\"first_error\":\"%s\",",
	       batches, errors, rej, late, not_ready, first_err);
	print_rounds("reach_idle", idle, r->o.reach ? r->o.rounds : 0);
	print_rounds("reach_load", load, r->o.reach ? r->o.rounds : 0);
	printf("\"per_sec\":[");
	for (i = 0; i < r->o.duration + r->o.drain; i++)
		printf("%s%" PRIu64, i ? "," : "", atomic_load(&r->per_sec[i]));
	printf("]}\n");
	fflush(stdout);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: fleet-scale --url nats://127.0.0.1:P[,...] [--nodes N] [--rate R] [--duration S]\n"
		"       [--per-conn G] [--drain S] [--stream NAME] [--replicas K] [--rounds P]\n"
		"       [--no-reach] [--bundle-bytes B] [--ack-wait MS] [--reach-timeout MS]\n"
		"       [--ramp CONNS_PER_S] [--server-pids PID,PID,...]\n");
	exit(2);
}

static void parse_pids(char *list, struct opts *o)
{
	char *p, *save = NULL;

	for (p = strtok_r(list, ",", &save); p && o->npids < SERVERS_MAX; p = strtok_r(NULL, ",", &save))
		o->pids[o->npids++] = atoi(p);
}

static void parse(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "url", 1, 0, 'u' }, { "nodes", 1, 0, 'n' }, { "rate", 1, 0, 'r' },
		{ "duration", 1, 0, 'd' }, { "per-conn", 1, 0, 'g' }, { "drain", 1, 0, 'D' },
		{ "stream", 1, 0, 's' }, { "replicas", 1, 0, 'k' }, { "rounds", 1, 0, 'p' },
		{ "no-reach", 0, 0, 'N' }, { "bundle-bytes", 1, 0, 'b' }, { "ack-wait", 1, 0, 'a' },
		{ "reach-timeout", 1, 0, 't' }, { "ramp", 1, 0, 'R' }, { "server-pids", 1, 0, 'P' },
		{ 0, 0, 0, 0 },
	};
	int ch;

	*o = (struct opts){ .stream = "SYSGUARD_EVENTS", .nodes = 1000, .rate = 100, .duration = 30,
			    .per_conn = 1, .drain = 15, .replicas = 3, .rounds = 5,
			    .bundle_bytes = 4096, .ack_wait_ms = 2000, .reach_timeout_ms = 30000,
			    .ramp = 100,
			    .reach = true };
	while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (ch) {
		case 'u': o->url = optarg; break;
		case 'n': o->nodes = (unsigned)atoi(optarg); break;
		case 'r': o->rate = (unsigned)atoi(optarg); break;
		case 'd': o->duration = (unsigned)atoi(optarg); break;
		case 'g': o->per_conn = (unsigned)atoi(optarg); break;
		case 'D': o->drain = (unsigned)atoi(optarg); break;
		case 's': o->stream = optarg; break;
		case 'k': o->replicas = (unsigned)atoi(optarg); break;
		case 'p': o->rounds = (unsigned)atoi(optarg); break;
		case 'N': o->reach = false; break;
		case 'b': o->bundle_bytes = (unsigned)atoi(optarg); break;
		case 'a': o->ack_wait_ms = (unsigned)atoi(optarg); break;
		case 't': o->reach_timeout_ms = (unsigned)atoi(optarg); break;
		case 'R': o->ramp = (unsigned)atoi(optarg); break;
		case 'P': parse_pids(optarg, o); break;
		default: usage();
		}
	}
	if (!o->url || !o->nodes || !o->rate || !o->duration || !o->per_conn ||
	    o->duration + o->drain + 2 >= MAX_SECONDS || o->bundle_bytes < 64 || !o->ramp)
		usage();
}

int main(int argc, char **argv)
{
	static struct run r;
	struct reach_config rc;
	struct reach *reach = NULL;
	struct reach_result idle[16] = { 0 }, load[16] = { 0 };
	struct usage_snap u0, u1;
	struct conn *conns;
	pthread_attr_t attr;
	unsigned nconn, i, threads_up = 0;
	char err[256];

	parse(argc, argv, &r.o);
	if (r.o.rounds > 16)
		r.o.rounds = 16;
	snprintf(r.run_id, sizeof(r.run_id), "%016" PRIx64, (uint64_t)time(NULL) * (uint64_t)1000000000);
	if (setup_bus(r.o.url, r.o.stream, r.o.replicas, err, sizeof(err))) {
		fprintf(stderr, "fleet-scale: %s\n", err);
		return 1;
	}
	nconn = (r.o.nodes + r.o.per_conn - 1) / r.o.per_conn;
	conns = calloc(nconn, sizeof(*conns));
	if (!conns)
		return 1;
	pthread_mutex_init(&r.lock, NULL);
	pthread_cond_init(&r.go_cond, NULL);
	r.t_launch = mono_ns();
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 256 * 1024);
	for (i = 0; i < nconn; i++) {
		unsigned first = i * r.o.per_conn;
		unsigned n = r.o.nodes - first < r.o.per_conn ? r.o.nodes - first : r.o.per_conn;

		if (conn_init(&r, &conns[i], first, n, err, sizeof(err)) ||
		    pthread_create(&conns[i].th, &attr, conn_main, &conns[i])) {
			fprintf(stderr, "fleet-scale: connection %u: %s\n", i, err);
			return 1;
		}
	}
	if (r.o.reach) {
		rc = (struct reach_config){ .url = r.o.url, .bucket = SG_FLEET_POLICY_BUCKET_DEFAULT,
					    .group = SG_FLEET_GROUP_DEFAULT, .nodes = r.o.nodes,
					    .value_bytes = r.o.bundle_bytes,
					    .timeout_ms = r.o.reach_timeout_ms,
					    .status_ttl_s = SG_FLEET_STATUS_TTL_DEFAULT,
					    .ramp = r.o.ramp };
		reach = reach_start(&rc, err, sizeof(err));
		if (!reach) {
			fprintf(stderr, "fleet-scale: bundle reach: %s\n", err);
			return 1;
		}
	}
	while (atomic_load(&r.ready) + atomic_load(&r.failed) < nconn)
		usleep(100 * 1000);
	if (atomic_load(&r.failed))
		fprintf(stderr, "fleet-scale: %u connections never ready\n", atomic_load(&r.failed));
	threads_up = proc_threads();
	for (i = 0; reach && i < r.o.rounds; i++)
		if (reach_round(reach, &idle[i], err, sizeof(err)))
			fprintf(stderr, "fleet-scale: idle round %u: %s\n", i, err);

	r.t0 = mono_ns() + 200000000ull;
	r.t_end = r.t0 + (uint64_t)r.o.duration * 1000000000ull;
	r.t_stop = r.t_end + (uint64_t)r.o.drain * 1000000000ull;
	usage_take(&u0, r.o.pids, r.o.npids);
	pthread_mutex_lock(&r.lock);
	r.go = true;
	pthread_cond_broadcast(&r.go_cond);
	pthread_mutex_unlock(&r.lock);
	for (i = 0; reach && i < r.o.rounds; i++) {
		sleep_until(r.t0 + (uint64_t)r.o.duration * 1000000000ull * (i + 1) / (r.o.rounds + 1));
		if (reach_round(reach, &load[i], err, sizeof(err)))
			fprintf(stderr, "fleet-scale: round %u under load: %s\n", i, err);
	}
	sleep_until(r.t_end);
	usage_take(&u1, r.o.pids, r.o.npids);
	for (i = 0; i < nconn; i++)
		pthread_join(conns[i].th, NULL);
	print_result(&r, conns, nconn, threads_up, &u0, &u1, idle, load);
	reach_stop(reach);
	for (i = 0; i < nconn; i++)
		conn_free(&conns[i]);
	free(conns);
	return 0;
}
