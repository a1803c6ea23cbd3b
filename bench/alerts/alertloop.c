/* SPDX-License-Identifier: Apache-2.0 */
/*
 * What the event loop pays for alerts (ALERT-2): the daemon's per-deny
 * reporting work -- sg_record_exec(), which builds and writes the audit
 * record and, when alerts are on, calls sg_alerts_submit() -- in a tight
 * loop, with alerts off (no dispatcher at all) against alerts on.
 *
 * The loop does only the reporting part of an event, not the fanotify
 * read/response, /proc lookups and policy evaluation around it, so the
 * submit is a larger share here than in the daemon: the ratio is a lower
 * bound on the daemon's.
 *
 * Modes (alerts on), each compared with "off" in ABBA pairs (off on | on off | ...):
 *   gated   the daemon's defaults: dedup 60 s, 30 a minute. In a deny storm
 *           nearly every submit ends in the dedup or rate-limit check.
 *   queued  dedup off, cap 1,000,000 a minute: every submit copies the event
 *           into the queue (overflowing it), and the worker posts without
 *           pause to the URL; the worst case for the loop.
 *
 * Usage: alertloop [-t SLOT_SECONDS] [-p PAIRS] [-x EXES] [-m MODE] [-l LOGFILE] [URL]
 * Without URL the dispatcher posts to a loopback port that refuses
 * connections, so in "queued" mode the worker spins as fast as it can.
 * Prints one JSON line per mode on stdout, progress on stderr.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bench_common.h"
#include "report/alert.h"
#include "report/exec_record.h"

#define MAX_PAIRS 100

struct mode {
	const char *name;
	unsigned dedup_window_s;
	unsigned per_minute;
};

static const struct mode modes[] = {
	{ "gated", 60, 30 },
	{ "queued", 0, 1000000 },
};

struct loop {
	struct sg_audit audit;
	struct sg_exec_facts facts;
	struct sg_rule rule;
	struct sg_verdict verdict;
	unsigned exes;
	uint64_t n;
};

static void usage(void)
{
	fprintf(stderr,
		"usage: alertloop [-t SLOT_SECONDS] [-p PAIRS] [-x EXES] [-m MODE] [-l LOGFILE] [URL]\n"
		"  -t SECONDS  length of one slot (default 0.5)\n"
		"  -p PAIRS    off/on pairs per mode, in ABBA order (default 20)\n"
		"  -x EXES     distinct executables the denies rotate over (default 1000)\n"
		"  -m MODE     run only this mode: gated or queued (default both)\n"
		"  -l LOGFILE  audit log (default /var/tmp/sg-alertloop.log, truncated per slot)\n"
		"  URL         webhook to post to (default: a loopback port that refuses connections)\n");
	exit(2);
}

/* Run the reporting loop for `ns`; returns events per second. */
static double slot(struct loop *l, struct sg_alerts *alerts, uint64_t ns)
{
	static const char args[] = "tool\0--flag\0/some/file";
	uint64_t t0, t, done = 0;

	if (ftruncate(l->audit.fd, 0))
		perror("ftruncate");
	l->facts.args = args;
	l->facts.args_len = sizeof(args) - 1;
	t0 = bench_now_ns();
	do {
		for (unsigned i = 0; i < 64; i++, l->n++) {
			l->facts.path_len = (size_t)snprintf(l->facts.path, sizeof(l->facts.path),
							     "/usr/lib/bench/tool-%04u",
							     (unsigned)(l->n % l->exes));
			l->facts.pid = 1000 + (pid_t)(l->n % 30000);
			sg_record_exec(&l->audit, alerts, &l->facts, &l->verdict, SG_MODE_ENFORCE,
				       "fanotify");
		}
		done += 64;
		t = bench_now_ns();
	} while (t - t0 < ns);
	return (double)done * 1e9 / (double)(t - t0);
}

static struct sg_alerts *start(const struct mode *m, const char *url)
{
	struct sg_alert_config cfg = {
		.url = url,
		.format = SG_ALERT_SLACK,
		.dedup_window_s = m->dedup_window_s,
		.per_minute = m->per_minute,
		.timeout_ms = 2000,
	};
	char err[256];
	struct sg_alerts *a = sg_alerts_start(&cfg, err, sizeof(err));

	if (!a) {
		fprintf(stderr, "alertloop: %s\n", err);
		exit(3);
	}
	return a;
}

/* A loopback port bound but not listening: every connect is refused at once. */
static void dead_url(char *url, size_t len)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sin);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) ||
	    getsockname(fd, (struct sockaddr *)&sin, &sl)) {
		perror("alertloop: loopback socket");
		exit(3);
	}
	snprintf(url, len, "http://127.0.0.1:%u/hook", ntohs(sin.sin_port));
}

static double median(double *v, unsigned n)
{
	qsort(v, n, sizeof(v[0]), bench_cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int main(int argc, char **argv)
{
	const char *log = "/var/tmp/sg-alertloop.log", *only = NULL;
	double off[MAX_PAIRS], on[MAX_PAIRS], ratio[MAX_PAIRS];
	uint64_t slot_ns = 500000000ull;
	char url[64];
	unsigned pairs = 20, p;
	struct sg_alert_stats st;
	struct sg_alerts *a;
	struct loop l = { .exes = 1000 };
	int opt;

	while ((opt = getopt(argc, argv, "t:p:x:m:l:h")) != -1) {
		switch (opt) {
		case 't': slot_ns = bench_parse_secs("-t", optarg); break;
		case 'p': pairs = (unsigned)bench_parse_u64("-p", optarg); break;
		case 'x': l.exes = (unsigned)bench_parse_u64("-x", optarg); break;
		case 'm': only = optarg; break;
		case 'l': log = optarg; break;
		default: usage();
		}
	}
	if (optind < argc - 1 || pairs > MAX_PAIRS)
		usage();
	if (optind == argc - 1)
		snprintf(url, sizeof(url), "%s", argv[optind]);
	else
		dead_url(url, sizeof(url));
	if (sg_audit_open(&l.audit, log, false, "bench-node")) {
		perror(log);
		return 3;
	}
	sg_audit_set_policy_version(&l.audit, "bench-1");
	snprintf(l.rule.name, sizeof(l.rule.name), "deny-tools");
	l.rule.id = 1;
	l.rule.action = SG_ACTION_DENY;
	l.rule.kind = SG_MATCH_GLOB;
	l.rule.line = 5;
	l.verdict = (struct sg_verdict){ .action = SG_ACTION_DENY, .rule = &l.rule, .file_only = true };
	l.facts = (struct sg_exec_facts){ .sensor = SG_SENSOR_FANOTIFY, .ppid = 1, .has_path = true };
	strcpy(l.facts.comm, "tool");

	/* Warm up: page cache, allocator, CPU frequency. */
	slot(&l, NULL, slot_ns);
	for (size_t m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
		if (only && strcmp(only, modes[m].name))
			continue;
		memset(&st, 0, sizeof(st));
		for (p = 0; p < pairs; p++) {
			/* ABBA: linear drift cancels out over a pair of pairs. */
			if (p % 2 == 0)
				off[p] = slot(&l, NULL, slot_ns);
			a = start(&modes[m], url);
			on[p] = slot(&l, a, slot_ns);
			sg_alerts_stats(a, &st);
			sg_alerts_stop(a);
			if (p % 2 == 1)
				off[p] = slot(&l, NULL, slot_ns);
			ratio[p] = on[p] / off[p];
			fprintf(stderr, "[alertloop] %s pair %u: off %.0f/s on %.0f/s ratio %.4f\n",
				modes[m].name, p, off[p], on[p], ratio[p]);
		}
		printf("{\"bench\":\"alert_submit\",\"mode\":\"%s\",\"pairs\":%u,\"slot_s\":%.3f,"
		       "\"exes\":%u,\"median_off_per_s\":%.0f,\"median_on_per_s\":%.0f,"
		       "\"median_ratio\":%.4f,\"last_on_slot\":{\"queued\":%llu,\"deduplicated\":%llu,"
		       "\"rate_limited\":%llu,\"overflow_dropped\":%llu,\"sent\":%llu,\"failed\":%llu}}\n",
		       modes[m].name, pairs, (double)slot_ns / 1e9, l.exes, median(off, pairs),
		       median(on, pairs), median(ratio, pairs),
		       (unsigned long long)st.queued, (unsigned long long)st.deduplicated,
		       (unsigned long long)st.rate_limited, (unsigned long long)st.overflow_dropped,
		       (unsigned long long)st.sent, (unsigned long long)st.failed);
		fflush(stdout);
	}
	sg_audit_close(&l.audit);
	unlink(log);
	return 0;
}
