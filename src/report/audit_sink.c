// SPDX-License-Identifier: Apache-2.0
/*
 * Audit log destinations behind bounded queues (see audit_sink.h).
 *
 * Two buffers per sink: producers append whole lines to `fill` under the
 * sink lock; the writer swaps it with its empty `spare` and writes that
 * with no lock held. Lines keep their order because one writer drains one
 * queue in the order lines were pushed, and pushes happen under the audit
 * lock in event_id order.
 *
 * A record is written whole or not at all: a batch the destination takes
 * only in part (disk full, a reader that went away) leaves at most one
 * partial line, which is truncated away on a regular file and otherwise
 * ended with '\n' before the next line, so it never runs into the next
 * record.
 */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "audit_sink.h"

/*
 * How long the writer lets lines gather after the first one before it
 * writes them: a burst of records (the event loop drains its ring buffers
 * every few milliseconds) becomes one write(2) and one wake-up, not one of
 * each per record. It is also the most a line waits in memory.
 */
#define SG_AUDIT_GATHER_MS 1

static uint64_t count_lines(const char *buf, size_t len)
{
	const char *p = buf, *end = buf + len;
	uint64_t n = 0;

	while (p < end && (p = memchr(p, '\n', (size_t)(end - p)))) {
		n++;
		p++;
	}
	return n;
}

/* Offset just past the last '\n' in buf[0..len), 0 when there is none. */
static size_t last_line_end(const char *buf, size_t len)
{
	const char *nl = memrchr(buf, '\n', len);

	return nl ? (size_t)(nl - buf) + 1 : 0;
}

/*
 * Write as much of buf as the destination takes. A non-blocking fd that is
 * full is waited for with poll: this thread is the one allowed to wait.
 * Returns the bytes written; *err is 0 or a positive errno.
 */
static size_t write_some(int fd, const char *buf, size_t len, int *err)
{
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };
	size_t done = 0;
	ssize_t w;

	*err = 0;
	while (done < len) {
		w = write(fd, buf + done, len - done);
		if (w > 0) {
			done += (size_t)w;
			continue;
		}
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			poll(&pfd, 1, 1000);
			continue;
		}
		*err = w < 0 ? errno : EIO;
		break;
	}
	return done;
}

/* Remove the partial line the destination kept, or remember to end it. */
static void cut_partial_line(struct sg_audit_sink *s, size_t partial)
{
	struct stat st;

	s->st.lines_cut++;
	if (s->regular && fstat(s->fd, &st) == 0 && (uint64_t)st.st_size >= partial &&
	    ftruncate(s->fd, st.st_size - (off_t)partial) == 0)
		return;
	s->need_newline = true;
}

/* Runs with no lock held; the only place the writer may be cancelled. */
static void write_batch(struct sg_audit_sink *s, const char *buf, size_t len)
{
	uint64_t lines = count_lines(buf, len), ok;
	size_t done, keep;
	int err, old;

	pthread_setcancelstate(PTHREAD_CANCEL_ENABLE, &old);
	if (s->need_newline && write_some(s->fd, "\n", 1, &err) == 1)
		s->need_newline = false;
	if (s->need_newline) {
		done = 0;
		err = err ? err : EIO;
	} else {
		done = write_some(s->fd, buf, len, &err);
	}
	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, &old);

	pthread_mutex_lock(&s->lock);
	if (!err) {
		s->st.written += lines;
		pthread_mutex_unlock(&s->lock);
		return;
	}
	keep = last_line_end(buf, done);
	ok = count_lines(buf, keep);
	s->st.write_errors++;
	s->st.written += ok;
	s->st.dropped += lines - ok;
	if (done > keep)
		cut_partial_line(s, done - keep);
	pthread_mutex_unlock(&s->lock);
}

/* Only the writer uses s->fd while it runs: the old file gets every line queued before the switch. */
static void switch_to(struct sg_audit_sink *s, int fd)
{
	struct stat st;

	if (s->own_fd)
		close(s->fd);
	s->fd = fd;
	s->own_fd = true;
	s->regular = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
	s->need_newline = false;
}

static void deadline_in(struct timespec *ts, int timeout_ms)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += timeout_ms / 1000;
	ts->tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

/* Called with the lock held and lines queued; returns with the lock held. */
static void gather(struct sg_audit_sink *s)
{
	struct timespec dl;

	deadline_in(&dl, SG_AUDIT_GATHER_MS);
	while (s->len < s->cap / 2 && !s->stop && !s->flushing && s->next_fd < 0)
		if (pthread_cond_timedwait(&s->cond, &s->lock, &dl))
			break;
}

static void *sink_run(void *arg)
{
	struct sg_audit_sink *s = arg;
	size_t len, switch_at;
	int next_fd;
	char *buf;

	pthread_setcancelstate(PTHREAD_CANCEL_DISABLE, NULL);
	pthread_mutex_lock(&s->lock);
	for (;;) {
		while (!s->len && !s->stop && s->next_fd < 0)
			pthread_cond_wait(&s->cond, &s->lock);
		if (!s->len && s->next_fd < 0)
			break;
		gather(s);
		buf = s->fill;
		len = s->len;
		s->fill = s->spare;
		s->spare = buf;
		s->batch_len = len;
		s->len = 0;
		s->busy = true;
		next_fd = s->next_fd;
		switch_at = next_fd >= 0 ? s->switch_at : len;
		s->next_fd = -1;
		pthread_mutex_unlock(&s->lock);
		if (switch_at)
			write_batch(s, buf, switch_at);
		if (next_fd >= 0) {
			switch_to(s, next_fd);
			if (len > switch_at)
				write_batch(s, buf + switch_at, len - switch_at);
		}
		pthread_mutex_lock(&s->lock);
		s->busy = false;
		pthread_cond_broadcast(&s->cond);
	}
	pthread_mutex_unlock(&s->lock);
	return NULL;
}

int sg_audit_sink_start(struct sg_audit_sink *s, const char *name, int fd, bool own_fd,
			size_t cap)
{
	sigset_t all, old;
	struct stat st;
	int err;

	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->fd = fd;
	s->next_fd = -1;
	s->own_fd = own_fd;
	s->regular = fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
	s->cap = cap ? cap : SG_AUDIT_QUEUE_BYTES;
	s->fill = malloc(s->cap);
	s->spare = malloc(s->cap);
	if (!s->fill || !s->spare) {
		err = -ENOMEM;
		goto out_free;
	}
	err = -pthread_mutex_init(&s->lock, NULL);
	if (err)
		goto out_free;
	err = -pthread_cond_init(&s->cond, NULL);
	if (err)
		goto out_mutex;
	/*
	 * The writer takes no signals: the daemon's are read from a signalfd,
	 * which only works while no thread leaves them unblocked.
	 */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = -pthread_create(&s->thread, NULL, sink_run, s);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err)
		goto out_cond;
	s->started = true;
	return 0;

out_cond:
	pthread_cond_destroy(&s->cond);
out_mutex:
	pthread_mutex_destroy(&s->lock);
out_free:
	free(s->fill);
	free(s->spare);
	s->fill = s->spare = NULL;
	return err;
}

int sg_audit_sink_push(struct sg_audit_sink *s, const char *line, size_t len)
{
	int err = 0;

	pthread_mutex_lock(&s->lock);
	if (len > s->cap - s->len) {
		s->st.dropped++;
		err = -ENOBUFS;
	} else {
		bool was_empty = !s->len;

		memcpy(s->fill + s->len, line, len);
		s->len += len;
		/* The writer gathers once woken: wake it for the first line, or when half full. */
		if (was_empty || s->len >= s->cap / 2)
			pthread_cond_broadcast(&s->cond);
	}
	pthread_mutex_unlock(&s->lock);
	return err;
}

int sg_audit_sink_flush(struct sg_audit_sink *s, int timeout_ms)
{
	struct timespec dl;
	int err = 0;

	deadline_in(&dl, timeout_ms);
	pthread_mutex_lock(&s->lock);
	s->flushing++;
	pthread_cond_broadcast(&s->cond);
	while ((s->len || s->busy || s->next_fd >= 0) && !err)
		err = pthread_cond_timedwait(&s->cond, &s->lock, &dl);
	if (!s->len && !s->busy && s->next_fd < 0)
		err = 0;
	s->flushing--;
	pthread_mutex_unlock(&s->lock);
	return err ? -ETIMEDOUT : 0;
}

void sg_audit_sink_stop(struct sg_audit_sink *s, int timeout_ms)
{
	struct timespec dl;

	if (!s->started)
		return;
	pthread_mutex_lock(&s->lock);
	s->stop = true;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
	deadline_in(&dl, timeout_ms);
	/* A destination that still blocks the writer must not hold up shutdown. */
	if (pthread_timedjoin_np(s->thread, NULL, &dl)) {
		pthread_cancel(s->thread);
		pthread_join(s->thread, NULL);
		if (s->busy)
			s->st.dropped += count_lines(s->spare, s->batch_len);
	}
	s->st.dropped += count_lines(s->fill, s->len);
	s->len = 0;
	s->started = false;
	if (s->own_fd)
		close(s->fd);
	s->fd = -1;
	if (s->next_fd >= 0)
		close(s->next_fd);
	s->next_fd = -1;
	pthread_cond_destroy(&s->cond);
	pthread_mutex_destroy(&s->lock);
	free(s->fill);
	free(s->spare);
	s->fill = s->spare = NULL;
}

void sg_audit_sink_switch_fd(struct sg_audit_sink *s, int fd)
{
	pthread_mutex_lock(&s->lock);
	/* Two reopens before the writer woke: the later file takes everything after the first. */
	if (s->next_fd >= 0)
		close(s->next_fd);
	else
		s->switch_at = s->len;
	s->next_fd = fd;
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
}

uint64_t sg_audit_sink_take_drops(struct sg_audit_sink *s, uint64_t *total)
{
	uint64_t n;

	pthread_mutex_lock(&s->lock);
	n = s->st.dropped - s->drops_reported;
	s->drops_reported = s->st.dropped;
	*total = s->st.dropped;
	pthread_mutex_unlock(&s->lock);
	return n;
}

void sg_audit_sink_stats(struct sg_audit_sink *s, struct sg_audit_sink_stats *out)
{
	if (!s->started) {
		*out = s->st;
		return;
	}
	pthread_mutex_lock(&s->lock);
	*out = s->st;
	out->queued_bytes = s->len;
	pthread_mutex_unlock(&s->lock);
}
