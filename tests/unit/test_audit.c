// SPDX-License-Identifier: Apache-2.0
/*
 * The audit log (LOG-1, LOG-2, EXEC-5): one valid JSON object per line, the
 * common fields in every record, event ids strictly increasing in file order
 * across threads, severity mapping, and no record lost silently.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "report/audit.h"
#include "json_check.h"

struct fixture {
	char dir[64];
	char path[96];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/sg_audit_XXXXXX");
	if (!mkdtemp(f->dir)) {
		free(f);
		return -1;
	}
	snprintf(f->path, sizeof(f->path), "%s/audit.log", f->dir);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	unlink(f->path);
	rmdir(f->dir);
	free(f);
	return 0;
}

static char *slurp(const char *path, size_t *len)
{
	struct stat st;
	char *buf;
	ssize_t r;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	buf = malloc((size_t)st.st_size + 1);
	assert_non_null(buf);
	r = read(fd, buf, (size_t)st.st_size);
	assert_int_equal(r, st.st_size);
	buf[r] = '\0';
	close(fd);
	*len = (size_t)r;
	return buf;
}

static bool is_lower_hex(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strchr("0123456789abcdef", s[i]) || !s[i])
			return false;
	return true;
}

/* "2026-11-23T16:40:01.123456789Z" */
static void assert_rfc3339_utc_ns(const struct jc_member *m)
{
	static const char shape[] = "dddd-dd-ddTdd:dd:dd.dddddddddZ";
	size_t i;

	assert_int_equal(m->kind, JC_STRING);
	assert_int_equal(m->str_len, sizeof(shape) - 1);
	for (i = 0; i < m->str_len; i++) {
		if (shape[i] == 'd')
			assert_true(m->str[i] >= '0' && m->str[i] <= '9');
		else
			assert_int_equal(m->str[i], shape[i]);
	}
}

/*
 * Parse one line (without its '\n') as a record and check the fields every
 * record carries, in the order sg_audit_begin writes them. Returns the id.
 */
static uint64_t check_record(const char *line, size_t len, struct jc_doc *d)
{
	static const char *const common[] = {
		"event_id", "ts", "node_id", "policy_version", "type", "severity",
	};
	const struct jc_member *m;
	size_t i;

	assert_non_null(memchr(line, '{', len));
	assert_null(memchr(line, '\n', len));
	assert_true(jc_parse(line, len, d));
	assert_false(d->dup_keys);
	assert_true(d->n >= 6);
	for (i = 0; i < 6; i++)
		assert_string_equal(d->m[i].key, common[i]);

	m = jc_get(d, "event_id");
	assert_int_equal(m->kind, JC_STRING);
	assert_int_equal(m->str_len, 16);
	assert_true(is_lower_hex(m->str, 16));
	assert_rfc3339_utc_ns(jc_get(d, "ts"));
	assert_int_equal(jc_get(d, "node_id")->kind, JC_STRING);
	m = jc_get(d, "policy_version");
	assert_true(m->kind == JC_STRING || m->kind == JC_NULL);
	assert_int_equal(jc_get(d, "type")->kind, JC_STRING);
	m = jc_get(d, "severity");
	assert_int_equal(m->kind, JC_STRING);
	assert_true(!strcmp(m->str, "info") || !strcmp(m->str, "warning") ||
		    !strcmp(m->str, "critical"));
	return strtoull(jc_get(d, "event_id")->str, NULL, 16);
}

/* The file holds exactly `want` lines; parse line `idx` into d. */
static void get_line(const char *buf, size_t len, size_t idx, size_t want,
		     struct jc_doc *d)
{
	const char *p = buf, *nl;
	size_t i;

	assert_true(len > 0);
	assert_int_equal(buf[len - 1], '\n');
	for (i = 0; i < want; i++) {
		nl = memchr(p, '\n', (size_t)(buf + len - p));
		assert_non_null(nl);
		if (i == idx)
			check_record(p, (size_t)(nl - p), d);
		p = nl + 1;
	}
	assert_ptr_equal(p, buf + len);
}

static void test_open_creates_file_mode_0600(void **state)
{
	struct fixture *f = *state;
	struct sg_audit a;
	struct stat st;
	mode_t old = umask(0);

	assert_int_equal(sg_audit_open(&a, f->path, false, "n1"), 0);
	umask(old);
	assert_int_equal(stat(f->path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_true(fcntl(a.sinks[0].fd, F_GETFD) & FD_CLOEXEC);
	assert_true(fcntl(a.sinks[0].fd, F_GETFL) & O_APPEND);
	sg_audit_close(&a);
}

static void test_open_missing_dir_returns_negative_errno(void **state)
{
	struct fixture *f = *state;
	struct sg_audit a;
	char path[160];

	snprintf(path, sizeof(path), "%s/no/such/dir/audit.log", f->dir);
	assert_int_equal(sg_audit_open(&a, path, false, "n1"), -ENOENT);
}

static void test_open_appends_to_existing_log(void **state)
{
	struct fixture *f = *state;
	struct sg_audit a;
	struct sg_json j;
	struct jc_doc d;
	size_t len;
	char *buf;
	int fd;

	fd = open(f->path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "{\"old\":1}\n", 10), 10);
	close(fd);

	assert_int_equal(sg_audit_open(&a, f->path, false, "n1"), 0);
	sg_json_init(&j);
	sg_audit_begin(&a, &j, "test", SG_SEV_INFO);
	assert_int_equal(sg_audit_commit(&a, &j), 0);
	sg_json_free(&j);
	sg_audit_close(&a);

	buf = slurp(f->path, &len);
	assert_memory_equal(buf, "{\"old\":1}\n", 10);
	get_line(buf + 10, len - 10, 0, 1, &d);
	jc_doc_free(&d);
	free(buf);
}

static void test_record_has_common_fields(void **state)
{
	struct fixture *f = *state;
	const struct jc_member *m;
	struct sg_audit a;
	struct sg_json j;
	struct jc_doc d;
	size_t len;
	char *buf;

	assert_int_equal(sg_audit_open(&a, f->path, false, "node-7"), 0);
	sg_json_init(&j);
	assert_int_equal(sg_audit_begin(&a, &j, "exec", SG_SEV_WARNING), 1);
	sg_json_kv_str(&j, "decision", "deny");
	assert_int_equal(sg_audit_commit(&a, &j), 0);
	sg_audit_set_policy_version(&a, "v42");
	assert_int_equal(sg_audit_begin(&a, &j, "exec", SG_SEV_INFO), 2);
	assert_int_equal(sg_audit_commit(&a, &j), 0);
	sg_json_free(&j);
	sg_audit_close(&a);

	buf = slurp(f->path, &len);
	get_line(buf, len, 0, 2, &d);
	assert_string_equal(jc_get(&d, "event_id")->str, "0000000000000001");
	assert_string_equal(jc_get(&d, "node_id")->str, "node-7");
	assert_int_equal(jc_get(&d, "policy_version")->kind, JC_NULL);
	assert_string_equal(jc_get(&d, "type")->str, "exec");
	assert_string_equal(jc_get(&d, "severity")->str, "warning");
	m = jc_get(&d, "decision");
	assert_non_null(m);
	assert_string_equal(m->str, "deny");
	assert_int_equal(d.n, 7);
	jc_doc_free(&d);

	get_line(buf, len, 1, 2, &d);
	assert_string_equal(jc_get(&d, "event_id")->str, "0000000000000002");
	assert_string_equal(jc_get(&d, "policy_version")->str, "v42");
	assert_string_equal(jc_get(&d, "severity")->str, "info");
	jc_doc_free(&d);
	free(buf);
}

static void test_ts_is_rfc3339_utc_with_nanoseconds(void **state)
{
	struct fixture *f = *state;
	struct sg_audit a;
	struct sg_json j;
	struct jc_doc d;
	struct tm tm;
	time_t before, after, t;
	size_t len;
	char *buf;

	assert_int_equal(sg_audit_open(&a, f->path, false, "n1"), 0);
	sg_json_init(&j);
	before = time(NULL);
	sg_audit_begin(&a, &j, "test", SG_SEV_INFO);
	assert_int_equal(sg_audit_commit(&a, &j), 0);
	after = time(NULL);
	sg_json_free(&j);
	sg_audit_close(&a);

	buf = slurp(f->path, &len);
	get_line(buf, len, 0, 1, &d);
	memset(&tm, 0, sizeof(tm));
	assert_non_null(strptime(jc_get(&d, "ts")->str, "%Y-%m-%dT%H:%M:%S", &tm));
	t = timegm(&tm);
	assert_true(t >= before && t <= after);
	jc_doc_free(&d);
	free(buf);
}

/*
 * The date and time of day are formatted once a second: records made
 * across several second boundaries still carry their own second, in order,
 * with nanoseconds that belong to it.
 */
static void test_ts_follows_the_clock_across_seconds(void **state)
{
	struct fixture *f = *state;
	time_t lo[2000], hi[2000], t;
	char prev[32] = "", *buf, *p, *nl;
	struct timespec now, start;
	struct sg_audit a;
	struct sg_json j;
	struct jc_doc d;
	struct tm tm;
	size_t len, n = 0, i = 0;

	assert_int_equal(sg_audit_open(&a, f->path, false, "n1"), 0);
	sg_json_init(&j);
	clock_gettime(CLOCK_REALTIME, &start);
	do {
		clock_gettime(CLOCK_REALTIME, &now);
		lo[n] = now.tv_sec;
		sg_audit_begin(&a, &j, "test", SG_SEV_INFO);
		assert_int_equal(sg_audit_commit(&a, &j), 0);
		clock_gettime(CLOCK_REALTIME, &now);
		hi[n++] = now.tv_sec;
		usleep(2000);
	} while (now.tv_sec < start.tv_sec + 2 && n < 2000);
	sg_json_free(&j);
	sg_audit_close(&a);
	assert_true(hi[n - 1] >= lo[0] + 2);

	buf = slurp(f->path, &len);
	for (p = buf; p < buf + len; p = nl + 1, i++) {
		nl = memchr(p, '\n', (size_t)(buf + len - p));
		assert_non_null(nl);
		assert_true(i < n);
		check_record(p, (size_t)(nl - p), &d);
		assert_rfc3339_utc_ns(jc_get(&d, "ts"));
		/* Fixed width: string order is time order. */
		assert_true(strcmp(jc_get(&d, "ts")->str, prev) > 0);
		snprintf(prev, sizeof(prev), "%s", jc_get(&d, "ts")->str);
		memset(&tm, 0, sizeof(tm));
		assert_non_null(strptime(prev, "%Y-%m-%dT%H:%M:%S", &tm));
		t = timegm(&tm);
		assert_true(t >= lo[i] && t <= hi[i]);
		jc_doc_free(&d);
	}
	assert_int_equal(i, n);
	free(buf);
}

/* A committed line reaches the file by itself, soon, without a flush. */
static void test_line_is_written_without_a_flush(void **state)
{
	struct fixture *f = *state;
	struct sg_audit a;
	struct sg_json j;
	struct stat st;
	int i;

	assert_int_equal(sg_audit_open(&a, f->path, false, "n1"), 0);
	sg_json_init(&j);
	sg_audit_begin(&a, &j, "test", SG_SEV_INFO);
	assert_int_equal(sg_audit_commit(&a, &j), 0);
	for (i = 0; i < 500; i++) {
		assert_int_equal(stat(f->path, &st), 0);
		if (st.st_size > 0)
			break;
		usleep(1000);
	}
	/* Gathered for about a millisecond; half a second is the bound asserted. */
	assert_true(st.st_size > 0);
	sg_json_free(&j);
	sg_audit_close(&a);
}

static void test_severity_for_table(void **state)
{
	static const struct {
		bool denied, enforce, failed;
		enum sg_severity want;
	} cases[] = {
		{ false, false, false, SG_SEV_INFO },
		{ false, true, false, SG_SEV_INFO },
		{ true, false, false, SG_SEV_WARNING },
		{ true, true, false, SG_SEV_CRITICAL },
		{ false, false, true, SG_SEV_CRITICAL },
		{ false, true, true, SG_SEV_CRITICAL },
		{ true, false, true, SG_SEV_CRITICAL },
		{ true, true, true, SG_SEV_CRITICAL },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(sg_severity_for(cases[i].denied, cases[i].enforce,
						 cases[i].failed), cases[i].want);
}

static void test_severity_names(void **state)
{
	assert_string_equal(sg_severity_name(SG_SEV_INFO), "info");
	assert_string_equal(sg_severity_name(SG_SEV_WARNING), "warning");
	assert_string_equal(sg_severity_name(SG_SEV_CRITICAL), "critical");
	assert_string_equal(sg_severity_name((enum sg_severity)42), "critical");
}

static void test_node_id_override_wins(void **state)
{
	char buf[64];

	sg_node_id_default(buf, sizeof(buf), "k8s-node-3");
	assert_string_equal(buf, "k8s-node-3");
}

static void test_node_id_defaults_to_hostname(void **state)
{
	char buf[256], host[256];

	assert_int_equal(gethostname(host, sizeof(host)), 0);
	host[sizeof(host) - 1] = '\0';
	sg_node_id_default(buf, sizeof(buf), NULL);
	assert_string_equal(buf, host[0] ? host : "unknown");
	sg_node_id_default(buf, sizeof(buf), "");
	assert_string_equal(buf, host[0] ? host : "unknown");
}

static void test_node_id_truncates_within_buffer(void **state)
{
	char buf[5];

	memset(buf, 'x', sizeof(buf));
	sg_node_id_default(buf, sizeof(buf), "abcdefgh");
	assert_string_equal(buf, "abcd");
	sg_node_id_default(buf, 0, "ignored");
	assert_string_equal(buf, "abcd");
}

static void test_hostile_node_id_cannot_forge_fields(void **state)
{
	static const char evil[] = "n\",\"severity\":\"info\"}\n{\"x\":\"";
	struct fixture *f = *state;
	struct sg_audit a;
	struct sg_json j;
	struct jc_doc d;
	size_t len;
	char *buf;

	assert_int_equal(sg_audit_open(&a, f->path, false, evil), 0);
	sg_audit_set_policy_version(&a, "v1\n\xff");
	sg_json_init(&j);
	sg_audit_begin(&a, &j, "t\"ype", SG_SEV_CRITICAL);
	assert_int_equal(sg_audit_commit(&a, &j), 0);
	sg_json_free(&j);
	sg_audit_close(&a);

	buf = slurp(f->path, &len);
	get_line(buf, len, 0, 1, &d);
	assert_string_equal(jc_get(&d, "node_id")->str, evil);
	assert_string_equal(jc_get(&d, "policy_version")->str, "v1\n\xef\xbf\xbd");
	assert_string_equal(jc_get(&d, "type")->str, "t\"ype");
	assert_string_equal(jc_get(&d, "severity")->str, "critical");
	jc_doc_free(&d);
	free(buf);
}

static void check_fallback(struct fixture *f, const char *reason,
			   const char *node, const char *version)
{
	const struct jc_member *m;
	struct jc_doc d;
	size_t len;
	char *buf;

	buf = slurp(f->path, &len);
	get_line(buf, len, 0, 2, &d);
	assert_string_equal(jc_get(&d, "event_id")->str, "0000000000000001");
	assert_string_equal(jc_get(&d, "type")->str, "audit_error");
	assert_string_equal(jc_get(&d, "severity")->str, "critical");
	assert_string_equal(jc_get(&d, "node_id")->str, node);
	assert_string_equal(jc_get(&d, "policy_version")->str, version);
	m = jc_get(&d, "error");
	assert_non_null(m);
	assert_string_equal(m->str, reason);
	jc_doc_free(&d);
	/* The next record is whole again and its id follows on. */
	get_line(buf, len, 1, 2, &d);
	assert_string_equal(jc_get(&d, "event_id")->str, "0000000000000002");
	assert_string_equal(jc_get(&d, "type")->str, "exec");
	jc_doc_free(&d);
	free(buf);
}

static void test_oom_record_is_written_as_audit_error(void **state)
{
	struct fixture *f = *state;
	struct sg_audit a;
	struct sg_json j;

	/* Hostile node_id: the stack-built fallback must stay valid JSON. */
	assert_int_equal(sg_audit_open(&a, f->path, false, "n\"de"), 0);
	sg_audit_set_policy_version(&a, "p\n");
	sg_json_init(&j);
	sg_audit_begin(&a, &j, "exec", SG_SEV_INFO);
	sg_json_kv_str(&j, "path", "/bin/true");
	j.oom = true;	/* what a failed realloc leaves behind */
	assert_int_equal(sg_audit_commit(&a, &j), 0);
	sg_audit_begin(&a, &j, "exec", SG_SEV_INFO);
	assert_int_equal(sg_audit_commit(&a, &j), 0);
	sg_json_free(&j);
	sg_audit_close(&a);
	check_fallback(f, "record_oom", "n?de", "p?");
}

static void test_unclosed_record_is_written_as_audit_error(void **state)
{
	struct fixture *f = *state;
	struct sg_audit a;
	struct sg_json j;

	assert_int_equal(sg_audit_open(&a, f->path, false, "n\xc3\xa9" "de"), 0);
	sg_audit_set_policy_version(&a, "p\xff");
	sg_json_init(&j);
	sg_audit_begin(&a, &j, "exec", SG_SEV_INFO);
	sg_json_key(&j, "argv");
	sg_json_begin_array(&j);
	sg_json_str(&j, "sh");
	assert_int_equal(sg_audit_commit(&a, &j), 0);
	sg_audit_begin(&a, &j, "exec", SG_SEV_INFO);
	assert_int_equal(sg_audit_commit(&a, &j), 0);
	sg_json_free(&j);
	sg_audit_close(&a);
	/* The fallback keeps ASCII only: each other byte becomes '?'. */
	check_fallback(f, "record_malformed", "n??de", "p?");
}

static void test_write_error_is_counted_and_returned(void **state)
{
	struct sg_audit_stats st;
	uint64_t errors;
	struct sg_audit a;
	struct sg_json j;
	int fd;

	assert_int_equal(sg_audit_open(&a, NULL, false, "n1"), 0);
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(sg_audit_add_sink(&a, "bad", fd, true, 0), 0);
	sg_json_init(&j);
	sg_audit_begin(&a, &j, "exec", SG_SEV_INFO);
	/* Queued: the failure is the writer's, counted there. */
	assert_int_equal(sg_audit_commit(&a, &j), 0);
	assert_int_equal(sg_audit_flush(&a, 5000), 0);
	sg_audit_stats(&a, &st);
	assert_int_equal(st.write_errors, 1);
	assert_int_equal(st.dropped, 1);
	errors = st.write_errors;
	/* The lock was released: the next record does not deadlock. */
	assert_int_equal(sg_audit_begin(&a, &j, "exec", SG_SEV_INFO), 2);
	assert_int_equal(sg_audit_commit(&a, &j), 0);
	assert_int_equal(sg_audit_flush(&a, 5000), 0);
	sg_audit_stats(&a, &st);
	assert_true(st.write_errors > errors);
	sg_json_free(&j);
	sg_audit_close(&a);
}

static void test_stdout_only_log(void **state)
{
	struct fixture *f = *state;
	struct sg_audit a;
	struct sg_json j;
	struct jc_doc d;
	int fd, saved;
	size_t len;
	char *buf;

	fd = open(f->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	fflush(stdout);
	saved = dup(STDOUT_FILENO);
	assert_true(saved >= 0);
	assert_int_equal(dup2(fd, STDOUT_FILENO), STDOUT_FILENO);

	assert_int_equal(sg_audit_open(&a, NULL, true, "n1"), 0);
	assert_int_equal(a.nsinks, 1);
	assert_string_equal(a.sinks[0].name, "stdout");
	sg_json_init(&j);
	sg_audit_begin(&a, &j, "exec", SG_SEV_INFO);
	assert_int_equal(sg_audit_commit(&a, &j), 0);
	sg_json_free(&j);
	sg_audit_close(&a);

	dup2(saved, STDOUT_FILENO);
	close(saved);
	close(fd);
	buf = slurp(f->path, &len);
	get_line(buf, len, 0, 1, &d);
	assert_string_equal(jc_get(&d, "node_id")->str, "n1");
	jc_doc_free(&d);
	free(buf);
}

/* Short writes and EINTR: a slow pipe reader and a stream of signals. */
struct pipe_reader {
	int fd;
	char *buf;
	size_t len, cap;
};

static void *pipe_reader_run(void *arg)
{
	struct pipe_reader *r = arg;
	struct timespec pause = { 0, 50 * 1000 };
	ssize_t n;

	nanosleep(&(struct timespec){ 0, 20 * 1000 * 1000 }, NULL);
	for (;;) {
		if (r->len + 1000 > r->cap) {
			r->cap = r->cap * 2 + 4096;
			r->buf = realloc(r->buf, r->cap);
			if (!r->buf)
				abort();
		}
		n = read(r->fd, r->buf + r->len, 1000);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		r->len += (size_t)n;
		nanosleep(&pause, NULL);
	}
	return NULL;
}

struct signaller {
	pthread_t target;
	volatile int done;
	unsigned long sent;
};

static void *signaller_run(void *arg)
{
	struct signaller *s = arg;
	struct timespec pause = { 0, 100 * 1000 };

	while (!__atomic_load_n(&s->done, __ATOMIC_ACQUIRE)) {
		pthread_kill(s->target, SIGUSR1);
		s->sent++;
		nanosleep(&pause, NULL);
	}
	return NULL;
}

static void on_sigusr1(int sig)
{
}

static void test_commit_survives_short_writes_and_eintr(void **state)
{
	const size_t big = 256 * 1024;
	struct pipe_reader r = { 0 };
	struct signaller s = { 0 };
	struct sigaction sa = { 0 }, old;
	struct sg_audit_stats ast;
	pthread_t rt, st;
	struct sg_audit a;
	struct sg_json j;
	struct jc_doc d;
	char *name;
	int p[2];

	sa.sa_handler = on_sigusr1;	/* no SA_RESTART: write(2) sees EINTR */
	sigemptyset(&sa.sa_mask);
	assert_int_equal(sigaction(SIGUSR1, &sa, &old), 0);
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	fcntl(p[1], F_SETPIPE_SZ, 4096);

	name = malloc(big);
	assert_non_null(name);
	memset(name, 'a', big);
	assert_int_equal(sg_audit_open(&a, NULL, false, "n1"), 0);
	assert_int_equal(sg_audit_add_sink(&a, "pipe", p[1], true, 0), 0);
	r.fd = p[0];
	/* The writer blocks signals; the committing thread never sees write(2). */
	s.target = pthread_self();
	assert_int_equal(pthread_create(&rt, NULL, pipe_reader_run, &r), 0);
	assert_int_equal(pthread_create(&st, NULL, signaller_run, &s), 0);

	sg_json_init(&j);
	sg_audit_begin(&a, &j, "exec", SG_SEV_INFO);
	sg_json_kv_strn(&j, "name", name, big);
	assert_int_equal(sg_audit_commit(&a, &j), 0);
	assert_int_equal(sg_audit_flush(&a, 20000), 0);
	sg_audit_stats(&a, &ast);
	assert_int_equal(ast.write_errors, 0);

	__atomic_store_n(&s.done, 1, __ATOMIC_RELEASE);
	pthread_join(st, NULL);
	sg_audit_close(&a);	/* closes p[1]: the reader sees EOF */
	pthread_join(rt, NULL);
	close(p[0]);
	sigaction(SIGUSR1, &old, NULL);

	assert_int_equal(r.len, j.len);
	assert_memory_equal(r.buf, j.buf, j.len);
	get_line(r.buf, r.len, 0, 1, &d);
	assert_int_equal(jc_get(&d, "name")->str_len, big);
	jc_doc_free(&d);
	sg_json_free(&j);
	free(r.buf);
	free(name);
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/*
 * A reader that stops reading (a stalled log shipper, a paused `kubectl
 * logs`) must not hold up the thread that commits: it answers fanotify
 * permission events. What does not fit is dropped whole, counted and
 * reported once the reader is back.
 */
static void test_unread_pipe_never_blocks_commit(void **state)
{
	const unsigned n = 20000;
	struct pipe_reader r = { 0 };
	const char *p, *nl, *end;
	struct sg_audit_stats st;
	uint64_t t0, id, last = 0, enobufs = 0;
	unsigned i, lines = 0, reports = 0;
	struct sg_audit a;
	struct sg_json j;
	struct jc_doc d;
	pthread_t rt;
	int fds[2], err;

	assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
	fcntl(fds[1], F_SETPIPE_SZ, 4096);
	assert_int_equal(sg_audit_open(&a, NULL, false, "n1"), 0);
	assert_int_equal(sg_audit_add_sink(&a, "pipe", fds[1], true, 64 * 1024), 0);

	sg_json_init(&j);
	t0 = now_ms();
	for (i = 0; i < n; i++) {
		sg_audit_begin(&a, &j, "exec", SG_SEV_INFO);
		sg_json_kv_u64(&j, "seq", i);
		err = sg_audit_commit(&a, &j);
		assert_true(err == 0 || err == -ENOBUFS);
		enobufs += err == -ENOBUFS;
	}
	/* The old writer blocked in write(2) on the first full pipe, forever. */
	assert_true(now_ms() - t0 < 3000);
	sg_json_free(&j);
	assert_true(enobufs > 0);
	assert_int_equal(sg_audit_flush(&a, 100), -ETIMEDOUT);
	sg_audit_stats(&a, &st);
	assert_int_equal(st.dropped, enobufs);

	r.fd = fds[0];
	assert_int_equal(pthread_create(&rt, NULL, pipe_reader_run, &r), 0);
	assert_int_equal(sg_audit_flush(&a, 20000), 0);
	sg_audit_report_drops(&a);
	sg_audit_report_drops(&a);	/* nothing new: no second record */
	sg_audit_close(&a);
	pthread_join(rt, NULL);
	close(fds[0]);

	/* Whole lines only, in id order, and one record saying what was lost. */
	assert_true(r.len > 0);
	assert_int_equal(r.buf[r.len - 1], '\n');
	end = r.buf + r.len;
	for (p = r.buf; p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		assert_non_null(nl);
		id = check_record(p, (size_t)(nl - p), &d);
		assert_true(id > last);
		last = id;
		lines++;
		if (!strcmp(jc_get(&d, "type")->str, "audit_dropped")) {
			reports++;
			assert_string_equal(jc_get(&d, "severity")->str, "warning");
			assert_string_equal(jc_get(&d, "sink")->str, "pipe");
			assert_int_equal(strtoull(jc_get(&d, "dropped_total")->str, NULL, 10),
					 enobufs);
		}
		jc_doc_free(&d);
	}
	assert_int_equal(reports, 1);
	assert_int_equal(lines, n - enobufs + 1);
	free(r.buf);
}

/*
 * A destination that takes only part of a batch (here the file size
 * limit; a full disk behaves the same) must not leave a partial line that
 * the next record would run into: it is truncated away.
 */
static void test_short_write_to_file_never_splits_a_line(void **state)
{
	struct fixture *f = *state;
	struct sg_audit_stats st;
	struct rlimit old, lim;
	void (*prev)(int);
	char pad[200];
	struct sg_audit a;
	struct sg_json j;
	struct jc_doc d;
	const char *p, *nl, *end;
	unsigned i, lines = 0;
	size_t len;
	char *buf;
	int fd;

	memset(pad, 'x', sizeof(pad));
	prev = signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	assert_int_equal(sg_audit_open(&a, NULL, false, "n1"), 0);
	fd = open(f->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(sg_audit_add_sink(&a, "file", fd, true, 0), 0);

	lim = old;
	lim.rlim_cur = 1000;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	sg_json_init(&j);
	for (i = 0; i < 10; i++) {
		sg_audit_begin(&a, &j, "exec", SG_SEV_INFO);
		sg_json_kv_strn(&j, "pad", pad, sizeof(pad));
		assert_int_equal(sg_audit_commit(&a, &j), 0);
		/* One line a batch, so the limit falls inside a line. */
		assert_int_equal(sg_audit_flush(&a, 5000), 0);
	}
	sg_json_free(&j);
	sg_audit_stats(&a, &st);
	setrlimit(RLIMIT_FSIZE, &old);
	signal(SIGXFSZ, prev);
	assert_true(st.write_errors >= 1);
	assert_true(st.lines_cut >= 1);
	assert_true(st.dropped >= 1);
	sg_audit_close(&a);

	buf = slurp(f->path, &len);
	assert_true(len > 0 && len <= 1000);
	assert_int_equal(buf[len - 1], '\n');
	end = buf + len;
	for (p = buf; p < end; p = nl + 1) {
		nl = memchr(p, '\n', (size_t)(end - p));
		assert_non_null(nl);
		check_record(p, (size_t)(nl - p), &d);
		jc_doc_free(&d);
		lines++;
	}
	assert_int_equal(lines, a.sinks[0].st.written);
	free(buf);
}

#define WRITERS 4
#define PER_WRITER 10000

struct writer {
	struct sg_audit *a;
	unsigned idx;
	uint64_t ids[PER_WRITER];
	int errors;
};

static void *writer_run(void *arg)
{
	struct writer *w = arg;
	struct sg_json j;
	unsigned i;

	sg_json_init(&j);
	for (i = 0; i < PER_WRITER; i++) {
		w->ids[i] = sg_audit_begin(w->a, &j, "exec",
					   sg_severity_for(i & 1, i & 2, false));
		sg_json_kv_u64(&j, "writer", w->idx);
		sg_json_kv_u64(&j, "seq", i);
		sg_json_kv_bytes(&j, "path", "/tmp/\n}{\"event_id\":\"x\"\xff", 23);
		if (sg_audit_commit(w->a, &j))
			w->errors++;
	}
	sg_json_free(&j);
	return NULL;
}

static void test_concurrent_writers_ids_unique_and_lines_in_order(void **state)
{
	struct fixture *f = *state;
	static struct writer w[WRITERS];
	pthread_t t[WRITERS];
	unsigned next_seq[WRITERS] = { 0 };
	const char *p, *nl, *end;
	uint64_t id, want = 1;
	struct sg_audit a;
	struct jc_doc d;
	size_t len;
	char *buf;
	unsigned i;
	int fd;

	/* A queue that holds the whole burst: this test is about order, not drops. */
	assert_int_equal(sg_audit_open(&a, NULL, false, "n1"), 0);
	fd = open(f->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(sg_audit_add_sink(&a, "file", fd, true, 32u << 20), 0);
	for (i = 0; i < WRITERS; i++) {
		w[i].a = &a;
		w[i].idx = i;
		w[i].errors = 0;
		assert_int_equal(pthread_create(&t[i], NULL, writer_run, &w[i]), 0);
	}
	for (i = 0; i < WRITERS; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(w[i].errors, 0);
	}
	sg_audit_close(&a);
	assert_int_equal(a.sinks[0].st.write_errors, 0);
	assert_int_equal(a.sinks[0].st.dropped, 0);

	buf = slurp(f->path, &len);
	end = buf + len;
	for (p = buf; p < end; p = nl + 1) {
		unsigned long long wi, seq;

		nl = memchr(p, '\n', (size_t)(end - p));
		assert_non_null(nl);
		id = check_record(p, (size_t)(nl - p), &d);
		/* In file order, without gaps or repeats. */
		assert_int_equal(id, want);
		want++;
		wi = strtoull(jc_get(&d, "writer")->str, NULL, 10);
		seq = strtoull(jc_get(&d, "seq")->str, NULL, 10);
		assert_true(wi < WRITERS);
		assert_int_equal(seq, next_seq[wi]);
		assert_int_equal(w[wi].ids[seq], id);
		next_seq[wi]++;
		assert_string_equal(jc_get(&d, "severity")->str,
				    sg_severity_name(sg_severity_for(seq & 1, seq & 2, false)));
		assert_non_null(jc_get(&d, "path_hex"));
		jc_doc_free(&d);
	}
	assert_int_equal(want, WRITERS * PER_WRITER + 1);
	for (i = 0; i < WRITERS; i++)
		assert_int_equal(next_seq[i], PER_WRITER);
	free(buf);
}

/*
 * logrotate moves the file and asks for a reopen while records are being
 * written: every record is in exactly one file, whole, and the files
 * together hold ids 1..N in order (old files first).
 */
#define ROTATIONS 20
static void test_reopen_while_writing_loses_and_splits_nothing(void **state)
{
	struct fixture *f = *state;
	static struct writer w[WRITERS];
	char rotated[ROTATIONS + 1][4200];
	pthread_t t[WRITERS];
	uint64_t id, want = 1, read = 0;
	const char *p, *nl, *end;
	struct sg_audit a;
	struct jc_doc d;
	unsigned i, r, nonempty = 0;
	size_t len;
	char *buf;

	assert_int_equal(sg_audit_open(&a, f->path, false, "n1"), 0);
	for (i = 0; i < WRITERS; i++) {
		w[i].a = &a;
		w[i].idx = i;
		w[i].errors = 0;
		assert_int_equal(pthread_create(&t[i], NULL, writer_run, &w[i]), 0);
	}
	for (r = 0; r < ROTATIONS; r++) {
		usleep(2000);
		snprintf(rotated[r], sizeof(rotated[r]), "%s.%u", f->path, r);
		assert_int_equal(rename(f->path, rotated[r]), 0);
		assert_int_equal(sg_audit_reopen(&a), 0);
	}
	for (i = 0; i < WRITERS; i++)
		pthread_join(t[i], NULL);
	sg_audit_close(&a);
	snprintf(rotated[ROTATIONS], sizeof(rotated[ROTATIONS]), "%s", f->path);
	for (r = 0; r <= ROTATIONS; r++) {
		buf = slurp(rotated[r], &len);
		end = buf + len;
		nonempty += len > 0;
		for (p = buf; p < end; p = nl + 1) {
			nl = memchr(p, '\n', (size_t)(end - p));
			assert_non_null(nl);
			id = check_record(p, (size_t)(nl - p), &d);
			jc_doc_free(&d);
			/* In order across the files; a gap only where the queue was full. */
			assert_true(id >= want);
			want = id + 1;
			read++;
		}
		free(buf);
		if (r < ROTATIONS)
			unlink(rotated[r]);
	}
	/*
	 * A full queue drops (a starved writer thread on a loaded machine), and
	 * counts every drop: what was read and what was counted add up.
	 */
	assert_int_equal(read + a.sinks[0].st.dropped, WRITERS * PER_WRITER);
	assert_true(nonempty > 1);
}

/* A log that cannot be reopened (its directory gone) keeps the old file: nothing is lost. */
static void test_failed_reopen_keeps_writing_the_old_file(void **state)
{
	struct fixture *f = *state;
	char moved[4200], sub[4200], path[4300];
	struct sg_audit a;
	struct sg_json j;
	size_t len;
	char *buf;
	int i;

	snprintf(sub, sizeof(sub), "%s/logs", f->dir);
	assert_int_equal(mkdir(sub, 0700), 0);
	snprintf(path, sizeof(path), "%s/audit.log", sub);
	assert_int_equal(sg_audit_open(&a, path, false, "n1"), 0);
	snprintf(moved, sizeof(moved), "%s/moved.log", f->dir);
	assert_int_equal(rename(path, moved), 0);
	assert_int_equal(rmdir(sub), 0);
	assert_int_equal(sg_audit_reopen(&a), -ENOENT);
	sg_json_init(&j);
	for (i = 0; i < 3; i++) {
		sg_audit_begin(&a, &j, "exec", SG_SEV_INFO);
		assert_int_equal(sg_audit_commit(&a, &j), 0);
	}
	sg_json_free(&j);
	sg_audit_close(&a);
	buf = slurp(moved, &len);
	assert_int_equal(len > 0 && buf[len - 1] == '\n', 1);
	assert_non_null(strstr(buf, "\"event_id\":\"0000000000000003\""));
	free(buf);
	unlink(moved);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open_creates_file_mode_0600, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_missing_dir_returns_negative_errno, setup, teardown),
		cmocka_unit_test_setup_teardown(test_open_appends_to_existing_log, setup, teardown),
		cmocka_unit_test_setup_teardown(test_record_has_common_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ts_is_rfc3339_utc_with_nanoseconds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ts_follows_the_clock_across_seconds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_line_is_written_without_a_flush, setup, teardown),
		cmocka_unit_test(test_severity_for_table),
		cmocka_unit_test(test_severity_names),
		cmocka_unit_test(test_node_id_override_wins),
		cmocka_unit_test(test_node_id_defaults_to_hostname),
		cmocka_unit_test(test_node_id_truncates_within_buffer),
		cmocka_unit_test_setup_teardown(test_hostile_node_id_cannot_forge_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(test_oom_record_is_written_as_audit_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unclosed_record_is_written_as_audit_error, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_error_is_counted_and_returned, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stdout_only_log, setup, teardown),
		cmocka_unit_test(test_commit_survives_short_writes_and_eintr),
		cmocka_unit_test(test_unread_pipe_never_blocks_commit),
		cmocka_unit_test_setup_teardown(test_short_write_to_file_never_splits_a_line, setup, teardown),
		cmocka_unit_test_setup_teardown(test_concurrent_writers_ids_unique_and_lines_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reopen_while_writing_loses_and_splits_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failed_reopen_keeps_writing_the_old_file, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
