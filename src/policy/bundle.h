/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Signed policy bundles (SPEC POL-2): a policy document plus a monotonic
 * version, a creation time and the signer's key id, signed with Ed25519
 * (libsodium crypto_sign_*). No I/O here: the caller reads and writes files
 * (src/config/bundle_files.c), so this is unit-tested and fuzzed alone.
 *
 * Bundle format (text header, binary-safe body; docs/policy-bundles.md):
 *
 *	sysguard-policy-bundle-v1\n
 *	key-id: <16 lowercase hex>\n
 *	version: <decimal u64, no sign, no leading zero>\n
 *	created: <decimal u64, Unix seconds>\n
 *	policy-length: <decimal, bytes of policy>\n
 *	\n
 *	<exactly policy-length bytes of policy>
 *	signature: <base64 of the 64-byte Ed25519 signature>\n
 *
 * Each field appears exactly once, in this order. The signature covers
 * every byte before "signature: ", and the signature line must end the
 * input, so nothing can be spliced before, inside or after the policy.
 */
#ifndef SG_BUNDLE_H
#define SG_BUNDLE_H

#include <stddef.h>
#include <stdint.h>

#include <sodium.h>

#define SG_BUNDLE_MAGIC "sysguard-policy-bundle-v1"
#define SG_BUNDLE_HEADER_MAX 4096		/* bytes up to and including the blank line */
#define SG_BUNDLE_POLICY_MAX (16u << 20)	/* policy bytes */
#define SG_KEY_ID_LEN 8				/* bytes; shown as 16 hex characters */
#define SG_KEY_ID_HEX (2 * SG_KEY_ID_LEN + 1)

#define SG_KEY_SECRET_TAG "sysguard-ed25519-secret-v1"
#define SG_KEY_PUBLIC_TAG "sysguard-ed25519-public-v1"

enum sg_bundle_status {
	SG_BUNDLE_OK = 0,
	SG_BUNDLE_UNSIGNED,		/* no bundle header, or no signature after the policy */
	SG_BUNDLE_MALFORMED,		/* header or signature line does not follow the format */
	SG_BUNDLE_UNKNOWN_KEY,		/* key id not among the trusted keys */
	SG_BUNDLE_BAD_SIGNATURE,	/* signature does not verify with the trusted key */
	SG_BUNDLE_ROLLBACK,		/* version <= last accepted version */
};

struct sg_bundle_key {
	uint8_t pk[crypto_sign_PUBLICKEYBYTES];
};

struct sg_bundle_meta {
	uint64_t version;
	uint64_t created;		/* Unix seconds, as the signer claimed */
	char key_id[SG_KEY_ID_HEX];
};

struct sg_bundle_verified {
	struct sg_bundle_meta meta;
	const char *policy;		/* points into the verified input; not NUL terminated */
	size_t policy_len;
};

/* "ok", "unsigned", "malformed", "unknown key", "bad signature", "rollback". */
const char *sg_bundle_status_name(enum sg_bundle_status s);

/* Key id of a public key: hex of the first 8 bytes of BLAKE2b-256(pk). Always succeeds. */
void sg_bundle_key_id(const uint8_t pk[crypto_sign_PUBLICKEYBYTES], char out[SG_KEY_ID_HEX]);

/*
 * Sign `policy` as bundle `version` created at `created`. On success returns
 * 0 and *out (malloc'd, caller frees) / *out_len; -EINVAL for a policy over
 * SG_BUNDLE_POLICY_MAX, -ENOMEM.
 */
int sg_bundle_sign(const uint8_t sk[crypto_sign_SECRETKEYBYTES], const void *policy,
		   size_t policy_len, uint64_t version, uint64_t created, uint8_t **out,
		   size_t *out_len);

/*
 * Verify `buf` against `keys[0..nkeys)` and require version > `last_version`
 * (pass 0 when none was accepted yet; version 0 is then still refused).
 * Checks run in order: format, key, signature (crypto_sign_verify_detached),
 * version. On SG_BUNDLE_OK fills *out; otherwise `msg` says exactly why, and
 * on SG_BUNDLE_ROLLBACK out->meta holds the (verified) header.
 */
enum sg_bundle_status sg_bundle_verify(const struct sg_bundle_key *keys, size_t nkeys,
				       const void *buf, size_t len, uint64_t last_version,
				       struct sg_bundle_verified *out, char *msg, size_t msglen);

/*
 * Key files are one line: "<tag> <base64>\n" with the secret tag and the
 * 64-byte libsodium secret key, or the public tag and the 32-byte public
 * key. Formatting returns a malloc'd NUL-terminated line (NULL on ENOMEM);
 * parsing returns 0 or -EINVAL with `msg` saying what is wrong.
 */
char *sg_key_format_secret(const uint8_t sk[crypto_sign_SECRETKEYBYTES]);
char *sg_key_format_public(const uint8_t pk[crypto_sign_PUBLICKEYBYTES]);
int sg_key_parse_secret(const char *buf, size_t len, uint8_t sk[crypto_sign_SECRETKEYBYTES],
			char *msg, size_t msglen);
int sg_key_parse_public(const char *buf, size_t len, uint8_t pk[crypto_sign_PUBLICKEYBYTES],
			char *msg, size_t msglen);

/*
 * Parse a decimal u64 with no sign, no spaces and no leading zero (except
 * "0"). 0 or -EINVAL. Shared by the bundle header and the version file.
 */
int sg_parse_u64(const char *s, size_t len, uint64_t *out);

#endif
