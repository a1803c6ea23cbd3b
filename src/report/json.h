/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Minimal JSON line builder for audit records. Whatever bytes a string holds,
 * the output is one line of valid JSON: control characters, quotes and
 * backslashes are escaped, and invalid UTF-8 never reaches the output.
 */
#ifndef SG_JSON_H
#define SG_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sg_json {
	char *buf;
	size_t len;
	size_t cap;
	unsigned depth;
	bool need_comma;
	bool oom;		/* an allocation failed; the record is unusable */
};

void sg_json_init(struct sg_json *j);
void sg_json_free(struct sg_json *j);
/* Forget the content, keep the buffer. */
void sg_json_reset(struct sg_json *j);

void sg_json_begin_object(struct sg_json *j);
void sg_json_end_object(struct sg_json *j);
void sg_json_begin_array(struct sg_json *j);
void sg_json_end_array(struct sg_json *j);

/* Inside an object: emit a key; the next value call supplies its value. */
void sg_json_key(struct sg_json *j, const char *key);

/*
 * String value from arbitrary bytes. Valid UTF-8 is kept (escaped as JSON
 * requires; U+2028/U+2029 as \u2028/\u2029); each maximal invalid subpart
 * (Unicode 3.9) becomes U+FFFD. Use sg_json_kv_bytes when the exact bytes
 * must survive.
 */
void sg_json_strn(struct sg_json *j, const char *s, size_t n);
void sg_json_str(struct sg_json *j, const char *s);	/* NULL -> null */
void sg_json_u64(struct sg_json *j, uint64_t v);
void sg_json_i64(struct sg_json *j, int64_t v);
void sg_json_bool(struct sg_json *j, bool v);
void sg_json_null(struct sg_json *j);

/* key + value shorthands */
void sg_json_kv_str(struct sg_json *j, const char *key, const char *s);
void sg_json_kv_strn(struct sg_json *j, const char *key, const char *s, size_t n);
void sg_json_kv_u64(struct sg_json *j, const char *key, uint64_t v);
void sg_json_kv_i64(struct sg_json *j, const char *key, int64_t v);
void sg_json_kv_bool(struct sg_json *j, const char *key, bool v);
void sg_json_kv_hex(struct sg_json *j, const char *key, const uint8_t *b, size_t n);

/*
 * Lossless string field: writes `key` as with sg_json_kv_strn and, only when
 * the bytes are not valid UTF-8, also `key`_hex with every byte in hex, so the
 * exact name can be recovered.
 */
void sg_json_kv_bytes(struct sg_json *j, const char *key, const char *s, size_t n);

/*
 * Terminate a complete top-level value with '\n', the only raw newline the
 * builder ever writes; does nothing while an object or array is open.
 */
void sg_json_end_line(struct sg_json *j);

/* True when s[0..n) is valid UTF-8 (no overlongs, no surrogates). */
bool sg_utf8_valid(const char *s, size_t n);

#endif
