// SPDX-License-Identifier: Apache-2.0
#include "sense/file_hash.h"

#include <errno.h>
#include <unistd.h>

#include <sodium.h>

void sg_stat_identity(const struct stat *st, struct sg_file_id *id, struct sg_file_stamp *stamp)
{
	id->dev = st->st_dev;
	id->ino = st->st_ino;
	if (stamp) {
		stamp->ctime_ns = (uint64_t)st->st_ctim.tv_sec * 1000000000ull + st->st_ctim.tv_nsec;
		stamp->mtime_ns = (uint64_t)st->st_mtim.tv_sec * 1000000000ull + st->st_mtim.tv_nsec;
		stamp->size = st->st_size;
	}
}

int sg_file_sha256(int fd, struct sg_hash_cache *cache, uint8_t out[SG_SHA256_LEN])
{
	crypto_hash_sha256_state h;
	struct sg_file_stamp stamp;
	struct sg_file_id id;
	unsigned char buf[65536];
	struct stat st;
	off_t off = 0;
	ssize_t n;

	if (fstat(fd, &st))
		return -errno;
	sg_stat_identity(&st, &id, &stamp);
	if (cache && sg_hash_cache_get(cache, &id, &stamp, out))
		return 0;
	crypto_hash_sha256_init(&h);
	for (;;) {
		n = pread(fd, buf, sizeof(buf), off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (n == 0)
			break;
		crypto_hash_sha256_update(&h, buf, n);
		off += n;
	}
	crypto_hash_sha256_final(&h, out);
	/* A file that changed while we read it must not be cached under the old stamp. */
	if (cache && fstat(fd, &st) == 0) {
		struct sg_file_stamp after;

		sg_stat_identity(&st, &id, &after);
		if (after.ctime_ns == stamp.ctime_ns && after.size == stamp.size)
			sg_hash_cache_put(cache, &id, &stamp, out);
	}
	return 0;
}
