// SPDX-License-Identifier: Apache-2.0
/*
 * The fleet export's on-disk spool (spool.h).
 *
 * Layout: <dir>/<seq, 16 hex digits>.seg files, appended to in seq order, and
 * <dir>/cursor ("<seq> <offset>\n"), the first byte of the head segment not
 * yet delivered. A record is a fixed header (magic, payload length, CRC-32
 * of the payload, the lengths of its parts, the keep flag) and a payload of
 * msgid, subject and line, each NUL-terminated. Appends are plain write(2):
 * the page cache keeps them through a kill -9 of the daemon, and the caller
 * fdatasyncs about once a second for a power cut. The cursor is replaced by
 * rename after every delivered batch; a crash between the two re-sends at
 * most one batch, which JetStream's duplicate window drops.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>
#include <zlib.h>

#include "report/spool.h"

#define SPOOL_MAGIC	0x31464753u	/* "SGF1" */
#define SEG_MAX		(4u << 20)
#define SEG_MIN		(64u << 10)

struct hdr {
	uint32_t magic;
	uint32_t len;			/* payload bytes */
	uint32_t crc;			/* CRC-32 of the payload */
	uint16_t idlen;			/* each without its NUL */
	uint16_t subjlen;
	uint8_t keep;
	uint8_t pad[3];
};

struct seg {
	uint64_t seq;
	uint64_t size;
	uint64_t records;
};

struct sg_spool {
	char *dir;
	uint64_t max_bytes;
	uint64_t seg_max;
	struct seg *segs;		/* oldest first; the last is appended to */
	unsigned nsegs, cap;
	uint64_t cursor;		/* in segs[0] */
	uint64_t head_taken;		/* records of segs[0] before the cursor */
	uint64_t records, bytes;	/* not yet delivered */
	uint64_t next_seq;		/* above every segment and cursor ever seen: a stale cursor skips nothing */
	int head_fd, tail_fd;		/* -1: not open */
	bool dirty;
};

static void seg_path(const struct sg_spool *s, uint64_t seq, char *out, size_t len)
{
	snprintf(out, len, "%s/%016" PRIx64 ".seg", s->dir, seq);
}

static int add_seg(struct sg_spool *s, uint64_t seq, uint64_t size, uint64_t records)
{
	struct seg *v;

	if (s->nsegs == s->cap) {
		v = realloc(s->segs, (s->cap ? s->cap * 2 : 8) * sizeof(*v));
		if (!v)
			return -ENOMEM;
		s->segs = v;
		s->cap = s->cap ? s->cap * 2 : 8;
	}
	s->segs[s->nsegs++] = (struct seg){ .seq = seq, .size = size, .records = records };
	return 0;
}

static int cmp_seg(const void *a, const void *b)
{
	const struct seg *x = a, *y = b;

	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static bool hdr_ok(const struct hdr *h, uint64_t room)
{
	return h->magic == SPOOL_MAGIC && h->len <= room && h->len <= SG_SPOOL_RECORD_MAX + 2 * 65536u &&
	       (uint64_t)h->idlen + h->subjlen + 3 <= h->len;
}

/*
 * Read the record at off into a new buffer; 0, -ENODATA at the end, -EBADMSG
 * when what is there is not a whole record.
 */
static int read_rec(int fd, uint64_t off, uint64_t size, struct sg_spool_rec *r)
{
	struct hdr h;
	char *buf;
	ssize_t n;

	if (off == size)
		return -ENODATA;
	if (size - off < sizeof(h) || pread(fd, &h, sizeof(h), (off_t)off) != (ssize_t)sizeof(h))
		return -EBADMSG;
	if (!hdr_ok(&h, size - off - sizeof(h)))
		return -EBADMSG;
	buf = malloc(h.len);
	if (!buf)
		return -ENOMEM;
	n = pread(fd, buf, h.len, (off_t)(off + sizeof(h)));
	if (n != (ssize_t)h.len || crc32(0, (const Bytef *)buf, h.len) != h.crc ||
	    buf[h.idlen] || buf[h.idlen + 1 + h.subjlen] || buf[h.len - 1]) {
		free(buf);
		return -EBADMSG;
	}
	r->buf = buf;
	r->msgid = buf;
	r->subject = buf + h.idlen + 1;
	r->line = buf + h.idlen + 1 + h.subjlen + 1;
	r->len = h.len - h.idlen - h.subjlen - 3;
	r->keep = h.keep;
	r->end = off + sizeof(h) + h.len;
	return 0;
}

/* Count a segment's whole records from off; a damaged tail is cut off (a crash mid-append). */
static int scan_seg(struct sg_spool *s, struct seg *g, uint64_t off)
{
	struct sg_spool_rec r;
	char path[4200];
	int fd, err;

	seg_path(s, g->seq, path, sizeof(path));
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	g->records = 0;
	while ((err = read_rec(fd, off, g->size, &r)) == 0) {
		free(r.buf);
		off = r.end;
		g->records++;
	}
	if (err == -EBADMSG) {
		fprintf(stderr, "sysguardd: fleet spool %s: damaged after byte %" PRIu64
			" (cut off there)\n", path, off);
		if (ftruncate(fd, (off_t)off))
			err = -errno;
		else
			err = 0;
		g->size = off;
	} else if (err == -ENODATA) {
		err = 0;
	}
	close(fd);
	return err;
}

static int read_cursor(struct sg_spool *s, uint64_t *seq, uint64_t *off)
{
	char path[4200], buf[64];
	ssize_t n;
	int fd;

	*seq = 0;
	*off = 0;
	snprintf(path, sizeof(path), "%s/cursor", s->dir);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	if (sscanf(buf, "%" SCNx64 " %" SCNu64, seq, off) != 2)
		*seq = *off = 0;
	return 0;
}

static int write_cursor(struct sg_spool *s)
{
	char path[4200], tmp[4210], buf[64];
	int fd, n, err = 0;

	snprintf(path, sizeof(path), "%s/cursor", s->dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (!s->nsegs) {
		if (unlink(path) && errno != ENOENT)
			return -errno;
		return 0;
	}
	n = snprintf(buf, sizeof(buf), "%016" PRIx64 " %" PRIu64 "\n", s->segs[0].seq, s->cursor);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (write(fd, buf, (size_t)n) != n)
		err = -EIO;
	close(fd);
	if (!err && rename(tmp, path))
		err = -errno;
	return err;
}

static int list_segs(struct sg_spool *s)
{
	struct dirent *e;
	struct stat st;
	char path[4200], tail[8];
	uint64_t seq;
	DIR *d;
	int err = 0;

	d = opendir(s->dir);
	if (!d)
		return -errno;
	while (!err && (e = readdir(d))) {
		if (strlen(e->d_name) != 20 ||
		    sscanf(e->d_name, "%16" SCNx64 "%7s", &seq, tail) != 2 || strcmp(tail, ".seg"))
			continue;
		seg_path(s, seq, path, sizeof(path));
		if (stat(path, &st))
			continue;
		err = add_seg(s, seq, (uint64_t)st.st_size, 0);
	}
	closedir(d);
	if (!err && s->nsegs)
		qsort(s->segs, s->nsegs, sizeof(*s->segs), cmp_seg);
	return err;
}

static void drop_head(struct sg_spool *s)
{
	char path[4200];

	seg_path(s, s->segs[0].seq, path, sizeof(path));
	unlink(path);
	if (s->head_fd >= 0)
		close(s->head_fd);
	s->head_fd = -1;
	if (s->nsegs == 1 && s->tail_fd >= 0) {
		close(s->tail_fd);
		s->tail_fd = -1;
	}
	memmove(s->segs, s->segs + 1, (s->nsegs - 1) * sizeof(*s->segs));
	s->nsegs--;
	s->cursor = 0;
	s->head_taken = 0;
}

/* Load what a previous run left: segments before the cursor's are done, the rest is checked. */
static int load(struct sg_spool *s)
{
	uint64_t cseq, coff;
	unsigned i;
	int err;

	err = list_segs(s);
	if (!err)
		err = read_cursor(s, &cseq, &coff);
	if (err)
		return err;
	s->next_seq = cseq + 1;
	if (s->nsegs && s->segs[s->nsegs - 1].seq >= cseq)
		s->next_seq = s->segs[s->nsegs - 1].seq + 1;
	while (s->nsegs && s->segs[0].seq < cseq)
		drop_head(s);
	if (s->nsegs && s->segs[0].seq == cseq && coff <= s->segs[0].size)
		s->cursor = coff;
	for (i = 0; i < s->nsegs; i++) {
		err = scan_seg(s, &s->segs[i], i ? 0 : s->cursor);
		if (err)
			return err;
		s->records += s->segs[i].records;
		s->bytes += s->segs[i].size - (i ? 0 : s->cursor);
	}
	/* The head's records count from the cursor on; none before it are left. */
	s->head_taken = 0;
	return 0;
}

int sg_spool_open(struct sg_spool **out, const char *dir, uint64_t max_bytes, char *err,
		  size_t errlen)
{
	struct sg_spool *s;
	int rc;

	*out = NULL;
	if (mkdir(dir, 0700) && errno != EEXIST) {
		rc = -errno;
		snprintf(err, errlen, "cannot create the spool directory %s: %s", dir, strerror(-rc));
		return rc;
	}
	s = calloc(1, sizeof(*s));
	if (!s || !(s->dir = strdup(dir))) {
		free(s);
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	s->max_bytes = max_bytes;
	s->seg_max = max_bytes / 8 < SEG_MIN ? SEG_MIN : max_bytes / 8 > SEG_MAX ? SEG_MAX : max_bytes / 8;
	s->head_fd = s->tail_fd = -1;
	rc = load(s);
	if (rc) {
		snprintf(err, errlen, "cannot read the spool directory %s: %s", dir, strerror(-rc));
		sg_spool_close(s);
		return rc;
	}
	*out = s;
	return 0;
}

static int open_tail(struct sg_spool *s, uint64_t need)
{
	struct seg *t = s->nsegs ? &s->segs[s->nsegs - 1] : NULL;
	char path[4200];
	uint64_t seq;
	int err;

	if (t && s->tail_fd >= 0 && (t->size + need <= s->seg_max || !t->size))
		return 0;
	if (t && t->size + need <= s->seg_max) {
		seq = t->seq;
	} else {
		if (s->tail_fd >= 0) {
			if (s->dirty)
				fdatasync(s->tail_fd);
			close(s->tail_fd);
			s->tail_fd = -1;
			s->dirty = false;
		}
		seq = s->next_seq++;
		err = add_seg(s, seq, 0, 0);
		if (err)
			return err;
	}
	seg_path(s, seq, path, sizeof(path));
	s->tail_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (s->tail_fd < 0) {
		err = -errno;
		if (!s->segs[s->nsegs - 1].size)
			s->nsegs--;
		return err;
	}
	return 0;
}

static bool fits(const struct sg_spool *s, uint64_t need, bool keep)
{
	uint64_t limit = keep ? s->max_bytes : s->max_bytes - s->max_bytes / 4;

	return s->bytes + need <= limit;
}

int sg_spool_append(struct sg_spool *s, const char *msgid, const char *subject,
		    const char *line, size_t len, bool keep)
{
	size_t idlen = strlen(msgid), subjlen = strlen(subject);
	struct hdr h = { .magic = SPOOL_MAGIC, .keep = keep };
	struct seg *t;
	struct iovec iov[5];
	char nul = '\0';
	ssize_t n;
	uint32_t crc;
	int err;

	if (len > SG_SPOOL_RECORD_MAX || idlen > 65535 || subjlen > 65535 ||
	    sizeof(h) + idlen + subjlen + len + 3 > s->max_bytes)
		return -EFBIG;
	h.idlen = (uint16_t)idlen;
	h.subjlen = (uint16_t)subjlen;
	h.len = (uint32_t)(idlen + subjlen + len + 3);
	if (!fits(s, sizeof(h) + h.len, keep))
		return -ENOSPC;
	err = open_tail(s, sizeof(h) + h.len);
	if (err)
		return err;
	crc = crc32(0, (const Bytef *)msgid, (uInt)idlen + 1);
	crc = crc32(crc, (const Bytef *)subject, (uInt)subjlen + 1);
	crc = crc32(crc, (const Bytef *)line, (uInt)len);
	h.crc = crc32(crc, (const Bytef *)&nul, 1);
	iov[0] = (struct iovec){ &h, sizeof(h) };
	iov[1] = (struct iovec){ (void *)msgid, idlen + 1 };
	iov[2] = (struct iovec){ (void *)subject, subjlen + 1 };
	iov[3] = (struct iovec){ (void *)line, len };
	iov[4] = (struct iovec){ &nul, 1 };
	t = &s->segs[s->nsegs - 1];
	n = writev(s->tail_fd, iov, 5);
	if (n != (ssize_t)(sizeof(h) + h.len)) {
		err = n < 0 ? -errno : -EIO;
		/* A short write must not leave half a record for the next one to follow. */
		if (n > 0 && ftruncate(s->tail_fd, (off_t)t->size))
			err = -errno;
		return err;
	}
	t->size += (uint64_t)n;
	t->records++;
	s->records++;
	s->bytes += (uint64_t)n;
	s->dirty = true;
	return 0;
}

int sg_spool_sync(struct sg_spool *s)
{
	if (!s->dirty || s->tail_fd < 0)
		return 0;
	s->dirty = false;
	return fdatasync(s->tail_fd) ? -errno : 0;
}

/* A head segment delivered to its end goes, unless it is still being appended to. */
static void advance_head(struct sg_spool *s)
{
	while (s->nsegs && s->cursor >= s->segs[0].size &&
	       (s->nsegs > 1 || s->head_taken >= s->segs[0].records))
		drop_head(s);
}

/* The rest of a head segment that cannot be read is given up: its records are lost. */
static void skip_head(struct sg_spool *s)
{
	uint64_t left = s->segs[0].records - s->head_taken;

	fprintf(stderr, "sysguardd: fleet spool: segment %016" PRIx64 " damaged at byte %" PRIu64
		", %" PRIu64 " record(s) in it lost\n", s->segs[0].seq, s->cursor, left);
	s->records -= left;
	s->bytes -= s->segs[0].size - s->cursor;
	s->head_taken = s->segs[0].records;
	s->cursor = s->segs[0].size;
}

int sg_spool_peek(struct sg_spool *s, struct sg_spool_rec *v, unsigned max, unsigned *n)
{
	char path[4200];
	uint64_t off;
	int err = 0;

	*n = 0;
	advance_head(s);
	if (!s->nsegs || !s->records)
		return 0;
	if (s->head_fd < 0) {
		seg_path(s, s->segs[0].seq, path, sizeof(path));
		s->head_fd = open(path, O_RDONLY | O_CLOEXEC);
		if (s->head_fd < 0) {
			err = -errno;
			/* Removed behind the daemon's back: what it held is gone, the rest goes on. */
			if (err == -ENOENT)
				skip_head(s);
			return err;
		}
	}
	off = s->cursor;
	while (*n < max && !(err = read_rec(s->head_fd, off, s->segs[0].size, &v[*n]))) {
		off = v[*n].end;
		(*n)++;
	}
	if (err == -EBADMSG && !*n) {
		skip_head(s);
		return -EBADMSG;
	}
	return err == -ENOMEM && !*n ? err : 0;
}

int sg_spool_consume(struct sg_spool *s, unsigned n, uint64_t end)
{
	if (!n)
		return 0;
	s->records -= n;
	s->head_taken += n;
	s->bytes -= end - s->cursor;
	s->cursor = end;
	advance_head(s);
	return write_cursor(s);
}

void sg_spool_rec_free(struct sg_spool_rec *v, unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++) {
		free(v[i].buf);
		v[i].buf = NULL;
	}
}

uint64_t sg_spool_records(const struct sg_spool *s)
{
	return s ? s->records : 0;
}

uint64_t sg_spool_bytes(const struct sg_spool *s)
{
	return s ? s->bytes : 0;
}

void sg_spool_close(struct sg_spool *s)
{
	if (!s)
		return;
	sg_spool_sync(s);
	if (s->tail_fd >= 0)
		close(s->tail_fd);
	if (s->head_fd >= 0)
		close(s->head_fd);
	free(s->segs);
	free(s->dir);
	free(s);
}
