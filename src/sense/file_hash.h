/* SPDX-License-Identifier: Apache-2.0 */
/* SHA-256 of an executable's content, cached per identity until the file changes. */
#ifndef SG_FILE_HASH_H
#define SG_FILE_HASH_H

#include <stdint.h>
#include <sys/stat.h>

#include "policy/hash_cache.h"
#include "policy/policy.h"

/* The identity and change stamp of an open file. */
void sg_stat_identity(const struct stat *st, struct sg_file_id *id, struct sg_file_stamp *stamp);

/*
 * Hash the file behind fd (read from offset 0 with pread, so the caller's
 * offset is untouched). Uses and fills `cache` when non-NULL. 0 or -errno.
 */
int sg_file_sha256(int fd, struct sg_hash_cache *cache, uint8_t out[SG_SHA256_LEN]);

#endif
