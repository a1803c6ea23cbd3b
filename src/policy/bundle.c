// SPDX-License-Identifier: Apache-2.0
/* Signed policy bundles: format, Ed25519 sign/verify, key lines. No I/O. */
#include "policy/bundle.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SIG_PREFIX "signature: "
#define SIG_B64_LEN (sodium_base64_ENCODED_LEN(crypto_sign_BYTES, sodium_base64_VARIANT_ORIGINAL) - 1)

enum { F_KEY_ID, F_VERSION, F_CREATED, F_POLICY_LENGTH, F_MAX };

static const char *const field_names[F_MAX] = {
	[F_KEY_ID] = "key-id",
	[F_VERSION] = "version",
	[F_CREATED] = "created",
	[F_POLICY_LENGTH] = "policy-length",
};

const char *sg_bundle_status_name(enum sg_bundle_status s)
{
	switch (s) {
	case SG_BUNDLE_OK: return "ok";
	case SG_BUNDLE_UNSIGNED: return "unsigned";
	case SG_BUNDLE_MALFORMED: return "malformed";
	case SG_BUNDLE_UNKNOWN_KEY: return "unknown key";
	case SG_BUNDLE_BAD_SIGNATURE: return "bad signature";
	case SG_BUNDLE_ROLLBACK: return "rollback";
	}
	return "unknown status";
}

__attribute__((format(printf, 4, 5)))
static enum sg_bundle_status fail(char *msg, size_t msglen, enum sg_bundle_status s,
				  const char *fmt, ...)
{
	va_list ap;

	if (msg && msglen) {
		va_start(ap, fmt);
		vsnprintf(msg, msglen, fmt, ap);
		va_end(ap);
	}
	return s;
}

int sg_parse_u64(const char *s, size_t len, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (len == 0 || len > 20 || (len > 1 && s[0] == '0'))
		return -EINVAL;
	for (i = 0; i < len; i++) {
		unsigned d;

		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return -EINVAL;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

void sg_bundle_key_id(const uint8_t pk[crypto_sign_PUBLICKEYBYTES], char out[SG_KEY_ID_HEX])
{
	uint8_t h[crypto_generichash_BYTES];

	crypto_generichash(h, sizeof(h), pk, crypto_sign_PUBLICKEYBYTES, NULL, 0);
	sodium_bin2hex(out, SG_KEY_ID_HEX, h, SG_KEY_ID_LEN);
}

int sg_bundle_sign(const uint8_t sk[crypto_sign_SECRETKEYBYTES], const void *policy,
		   size_t policy_len, uint64_t version, uint64_t created, uint8_t **out,
		   size_t *out_len)
{
	uint8_t pk[crypto_sign_PUBLICKEYBYTES], sig[crypto_sign_BYTES];
	char id[SG_KEY_ID_HEX], hdr[512], b64[SIG_B64_LEN + 1];
	size_t hlen, total;
	uint8_t *b;
	int n;

	if (policy_len > SG_BUNDLE_POLICY_MAX || sodium_init() < 0)
		return -EINVAL;
	crypto_sign_ed25519_sk_to_pk(pk, sk);
	sg_bundle_key_id(pk, id);
	n = snprintf(hdr, sizeof(hdr),
		     SG_BUNDLE_MAGIC "\nkey-id: %s\nversion: %llu\ncreated: %llu\npolicy-length: %zu\n\n",
		     id, (unsigned long long)version, (unsigned long long)created, policy_len);
	if (n < 0 || (size_t)n >= sizeof(hdr))
		return -EINVAL;
	hlen = (size_t)n;
	total = hlen + policy_len + strlen(SIG_PREFIX) + SIG_B64_LEN + 1;
	b = malloc(total);
	if (!b)
		return -ENOMEM;
	memcpy(b, hdr, hlen);
	if (policy_len)
		memcpy(b + hlen, policy, policy_len);
	crypto_sign_detached(sig, NULL, b, hlen + policy_len, sk);
	sodium_bin2base64(b64, sizeof(b64), sig, sizeof(sig), sodium_base64_VARIANT_ORIGINAL);
	memcpy(b + hlen + policy_len, SIG_PREFIX, strlen(SIG_PREFIX));
	memcpy(b + hlen + policy_len + strlen(SIG_PREFIX), b64, SIG_B64_LEN);
	b[total - 1] = '\n';
	*out = b;
	*out_len = total;
	return 0;
}

static bool is_hex_id(const char *s, size_t len)
{
	size_t i;

	if (len != 2 * SG_KEY_ID_LEN)
		return false;
	for (i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/* Parse the header lines after the magic line; *hdr_len covers the blank line. */
static enum sg_bundle_status parse_header(const char *buf, size_t len, struct sg_bundle_meta *m,
					  uint64_t *plen, size_t *hdr_len, char *msg, size_t msglen)
{
	size_t pos = strlen(SG_BUNDLE_MAGIC) + 1, limit = len < SG_BUNDLE_HEADER_MAX ? len : SG_BUNDLE_HEADER_MAX;
	unsigned line = 1, next = 0;

	for (;;) {
		const char *l = buf + pos, *nl, *sep;
		size_t llen, klen, vlen;
		const char *v;
		unsigned f;

		line++;
		nl = memchr(l, '\n', limit - pos);
		if (!nl) {
			if (limit < len)
				return fail(msg, msglen, SG_BUNDLE_MALFORMED,
					    "header is longer than %d bytes", SG_BUNDLE_HEADER_MAX);
			return fail(msg, msglen, SG_BUNDLE_MALFORMED,
				    "truncated header: line %u has no end", line);
		}
		llen = (size_t)(nl - l);
		pos += llen + 1;
		if (llen == 0) {
			if (next < F_MAX)
				return fail(msg, msglen, SG_BUNDLE_MALFORMED,
					    "missing field '%s' in the header", field_names[next]);
			*hdr_len = pos;
			return SG_BUNDLE_OK;
		}
		sep = memchr(l, ':', llen);
		if (!sep || (size_t)(sep - l) + 2 > llen || sep[1] != ' ')
			return fail(msg, msglen, SG_BUNDLE_MALFORMED,
				    "header line %u is not 'key: value'", line);
		klen = (size_t)(sep - l);
		v = sep + 2;
		vlen = llen - klen - 2;
		for (f = 0; f < F_MAX; f++)
			if (strlen(field_names[f]) == klen && !memcmp(field_names[f], l, klen))
				break;
		if (f == F_MAX)
			return fail(msg, msglen, SG_BUNDLE_MALFORMED,
				    "unknown field '%.*s' on header line %u", (int)(klen > 64 ? 64 : klen), l, line);
		if (f < next)
			return fail(msg, msglen, SG_BUNDLE_MALFORMED,
				    "duplicate field '%s' on header line %u", field_names[f], line);
		if (f > next)
			return fail(msg, msglen, SG_BUNDLE_MALFORMED,
				    "missing field '%s' before '%s' on header line %u",
				    field_names[next], field_names[f], line);
		next++;
		switch (f) {
		case F_KEY_ID:
			if (!is_hex_id(v, vlen))
				return fail(msg, msglen, SG_BUNDLE_MALFORMED,
					    "key-id on header line %u is not %d lowercase hex digits",
					    line, 2 * SG_KEY_ID_LEN);
			memcpy(m->key_id, v, vlen);
			m->key_id[vlen] = '\0';
			break;
		case F_VERSION:
		case F_CREATED:
		case F_POLICY_LENGTH: {
			uint64_t *dst = f == F_VERSION ? &m->version : f == F_CREATED ? &m->created : plen;

			if (sg_parse_u64(v, vlen, dst))
				return fail(msg, msglen, SG_BUNDLE_MALFORMED,
					    "%s on header line %u is not a decimal number", field_names[f], line);
			break;
		}
		}
	}
}

enum sg_bundle_status sg_bundle_verify(const struct sg_bundle_key *keys, size_t nkeys,
				       const void *data, size_t len, uint64_t last_version,
				       struct sg_bundle_verified *out, char *msg, size_t msglen)
{
	const char *buf = data, *sigl;
	const size_t mlen = strlen(SG_BUNDLE_MAGIC), plen_sig = strlen(SIG_PREFIX);
	struct sg_bundle_meta m;
	uint8_t sig[crypto_sign_BYTES];
	char canon[SIG_B64_LEN + 1];
	uint64_t plen = 0;
	size_t hdr_len = 0, signed_len, rest, bin_len = 0, i, known = 0;
	const char *b64_end = NULL;
	enum sg_bundle_status s;
	bool verified = false;

	memset(&m, 0, sizeof(m));
	if (!buf || len == 0)
		return fail(msg, msglen, SG_BUNDLE_MALFORMED, "empty input");
	if (len < mlen + 1 || memcmp(buf, SG_BUNDLE_MAGIC, mlen) || buf[mlen] != '\n')
		return fail(msg, msglen, SG_BUNDLE_UNSIGNED,
			    "not a signed bundle: it does not start with the line '%s'", SG_BUNDLE_MAGIC);
	s = parse_header(buf, len, &m, &plen, &hdr_len, msg, msglen);
	if (s != SG_BUNDLE_OK)
		return s;
	if (plen > SG_BUNDLE_POLICY_MAX)
		return fail(msg, msglen, SG_BUNDLE_MALFORMED, "policy-length %llu is over the limit of %u bytes",
			    (unsigned long long)plen, SG_BUNDLE_POLICY_MAX);
	if (plen > len - hdr_len)
		return fail(msg, msglen, SG_BUNDLE_MALFORMED,
			    "truncated: policy-length says %llu bytes, only %zu follow the header",
			    (unsigned long long)plen, len - hdr_len);
	signed_len = hdr_len + (size_t)plen;
	rest = len - signed_len;
	sigl = buf + signed_len;
	if (rest == 0)
		return fail(msg, msglen, SG_BUNDLE_UNSIGNED, "no signature line after the policy");
	if (rest < plen_sig || memcmp(sigl, SIG_PREFIX, plen_sig))
		return fail(msg, msglen, SG_BUNDLE_MALFORMED,
			    "the policy (%llu bytes) is not followed by a '%s' line",
			    (unsigned long long)plen, "signature:");
	if (rest != plen_sig + SIG_B64_LEN + 1 || sigl[rest - 1] != '\n')
		return fail(msg, msglen, SG_BUNDLE_MALFORMED,
			    "signature line must be %zu base64 characters and a newline, ending the bundle",
			    (size_t)SIG_B64_LEN);
	if (sodium_base642bin(sig, sizeof(sig), sigl + plen_sig, SIG_B64_LEN, NULL, &bin_len, &b64_end,
			      sodium_base64_VARIANT_ORIGINAL) ||
	    bin_len != sizeof(sig) || b64_end != sigl + plen_sig + SIG_B64_LEN)
		return fail(msg, msglen, SG_BUNDLE_MALFORMED, "signature is not valid base64 of %d bytes",
			    crypto_sign_BYTES);
	/* Only the canonical encoding: unused low bits of the last character must be zero. */
	sodium_bin2base64(canon, sizeof(canon), sig, sizeof(sig), sodium_base64_VARIANT_ORIGINAL);
	if (memcmp(canon, sigl + plen_sig, SIG_B64_LEN))
		return fail(msg, msglen, SG_BUNDLE_MALFORMED, "signature is not canonical base64");
	if (sodium_init() < 0)
		return fail(msg, msglen, SG_BUNDLE_BAD_SIGNATURE, "libsodium failed to initialise");
	for (i = 0; i < nkeys && !verified; i++) {
		char id[SG_KEY_ID_HEX];

		sg_bundle_key_id(keys[i].pk, id);
		if (strcmp(id, m.key_id))
			continue;
		known++;
		verified = crypto_sign_verify_detached(sig, (const unsigned char *)buf, signed_len,
						       keys[i].pk) == 0;
	}
	if (!known)
		return fail(msg, msglen, SG_BUNDLE_UNKNOWN_KEY,
			    "signed by key %s, which is not among the %zu trusted key(s)", m.key_id, nkeys);
	if (!verified)
		return fail(msg, msglen, SG_BUNDLE_BAD_SIGNATURE,
			    "signature does not verify with trusted key %s", m.key_id);
	out->meta = m;
	if (m.version <= last_version)
		return fail(msg, msglen, SG_BUNDLE_ROLLBACK,
			    "bundle version %llu %s the last accepted version %llu: rollback refused",
			    (unsigned long long)m.version, m.version == last_version ? "equals" : "is older than",
			    (unsigned long long)last_version);
	out->policy = buf + hdr_len;
	out->policy_len = (size_t)plen;
	if (msg && msglen)
		msg[0] = '\0';
	return SG_BUNDLE_OK;
}

static char *format_key(const char *tag, const uint8_t *key, size_t keylen)
{
	size_t b64len = sodium_base64_ENCODED_LEN(keylen, sodium_base64_VARIANT_ORIGINAL);
	size_t n = strlen(tag) + 1 + b64len + 1;
	char *s = malloc(n);

	if (!s)
		return NULL;
	memcpy(s, tag, strlen(tag));
	s[strlen(tag)] = ' ';
	sodium_bin2base64(s + strlen(tag) + 1, b64len, key, keylen, sodium_base64_VARIANT_ORIGINAL);
	s[n - 2] = '\n';
	s[n - 1] = '\0';
	return s;
}

char *sg_key_format_secret(const uint8_t sk[crypto_sign_SECRETKEYBYTES])
{
	return format_key(SG_KEY_SECRET_TAG, sk, crypto_sign_SECRETKEYBYTES);
}

char *sg_key_format_public(const uint8_t pk[crypto_sign_PUBLICKEYBYTES])
{
	return format_key(SG_KEY_PUBLIC_TAG, pk, crypto_sign_PUBLICKEYBYTES);
}

static int parse_key(const char *tag, const char *buf, size_t len, uint8_t *key, size_t keylen,
		     char *msg, size_t msglen)
{
	size_t tlen = strlen(tag), b64len, bin_len = 0;
	const char *b64, *end = NULL;

	if (len > 0 && buf[len - 1] == '\n')
		len--;
	if (len < tlen + 1 || memcmp(buf, tag, tlen) || buf[tlen] != ' ') {
		fail(msg, msglen, SG_BUNDLE_MALFORMED, "not a key file: expected one line '%s <base64>'", tag);
		return -EINVAL;
	}
	b64 = buf + tlen + 1;
	b64len = len - tlen - 1;
	if (sodium_base642bin(key, keylen, b64, b64len, NULL, &bin_len, &end,
			      sodium_base64_VARIANT_ORIGINAL) ||
	    bin_len != keylen || end != b64 + b64len) {
		sodium_memzero(key, keylen);
		fail(msg, msglen, SG_BUNDLE_MALFORMED, "key is not base64 of %zu bytes", keylen);
		return -EINVAL;
	}
	return 0;
}

int sg_key_parse_secret(const char *buf, size_t len, uint8_t sk[crypto_sign_SECRETKEYBYTES],
			char *msg, size_t msglen)
{
	uint8_t pk[crypto_sign_PUBLICKEYBYTES], seed[crypto_sign_SEEDBYTES];
	uint8_t check[crypto_sign_SECRETKEYBYTES];
	int e = parse_key(SG_KEY_SECRET_TAG, buf, len, sk, crypto_sign_SECRETKEYBYTES, msg, msglen);

	if (e)
		return e;
	/* A libsodium secret key is seed || public key: the halves must agree. */
	crypto_sign_ed25519_sk_to_seed(seed, sk);
	crypto_sign_seed_keypair(pk, check, seed);
	e = sodium_memcmp(check, sk, sizeof(check)) ? -EINVAL : 0;
	sodium_memzero(seed, sizeof(seed));
	sodium_memzero(check, sizeof(check));
	if (e) {
		sodium_memzero(sk, crypto_sign_SECRETKEYBYTES);
		fail(msg, msglen, SG_BUNDLE_MALFORMED, "secret key is inconsistent (public half does not match)");
	}
	return e;
}

int sg_key_parse_public(const char *buf, size_t len, uint8_t pk[crypto_sign_PUBLICKEYBYTES],
			char *msg, size_t msglen)
{
	return parse_key(SG_KEY_PUBLIC_TAG, buf, len, pk, crypto_sign_PUBLICKEYBYTES, msg, msglen);
}
