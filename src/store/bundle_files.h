/* SPDX-License-Identifier: Apache-2.0 */
/*
 * On-disk state of signed policy bundles: Ed25519 key files and the last
 * accepted bundle version. The formats live in policy/bundle.h; this file
 * only does the I/O (modes, atomic replacement), so the policy engine stays
 * free of it. Errors are negative errno with `err` naming the file.
 */
#ifndef SG_BUNDLE_FILES_H
#define SG_BUNDLE_FILES_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "policy/bundle.h"

/* Read a whole file of at most `max` bytes into a malloc'd, NUL-terminated buffer. */
int sg_file_read_all(const char *path, size_t max, char **out, size_t *len, char *err,
		     size_t errlen);

/*
 * Create `path` with `mode` (fails with -EEXIST rather than overwrite) and
 * write `len` bytes, fsync'd. Used for key files (0600 secret, 0644 public).
 */
int sg_file_create(const char *path, const void *buf, size_t len, mode_t mode, char *err,
		   size_t errlen);

/*
 * Replace `path` atomically: write a temporary file beside it with `mode`,
 * fsync, rename over, fsync the directory. 0 or -errno with err set.
 */
int sg_file_replace(const char *path, const void *buf, size_t len, mode_t mode, char *err,
		    size_t errlen);

/* Read a secret key file; refused (-EPERM) when group or others may access it. */
int sg_key_read_secret(const char *path, uint8_t sk[crypto_sign_SECRETKEYBYTES], char *err,
		       size_t errlen);
int sg_key_read_public(const char *path, uint8_t pk[crypto_sign_PUBLICKEYBYTES], char *err,
		       size_t errlen);

/*
 * The last accepted version file holds one line "<decimal>\n". A missing
 * file reads as 0 (no bundle accepted yet) and returns 0; anything else
 * that is not exactly that format is -EINVAL (the daemon must then refuse
 * bundles in strict mode rather than guess).
 */
int sg_bundle_version_read(const char *path, uint64_t *out, char *err, size_t errlen);

/*
 * Replace the file atomically: write "<path>.tmp", fsync, rename over
 * `path`, fsync the directory. After a crash the file holds the old or the
 * new version, never a mix.
 */
int sg_bundle_version_write(const char *path, uint64_t version, char *err, size_t errlen);

#endif
