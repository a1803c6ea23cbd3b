// SPDX-License-Identifier: Apache-2.0
/* Signed policy bundles: format, every rejection, key files, version file. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy/bundle.h"
#include "store/bundle_files.h"

static const char policy[] = "version: \"7\"\nmode: monitor\ndefault: allow\nrules: []\n";

struct kp {
	uint8_t pk[crypto_sign_PUBLICKEYBYTES];
	uint8_t sk[crypto_sign_SECRETKEYBYTES];
};

static struct kp signer, other;
static uint8_t *bundle;
static size_t bundle_len;

static int setup(void **state)
{
	if (sodium_init() < 0)
		return -1;
	crypto_sign_keypair(signer.pk, signer.sk);
	crypto_sign_keypair(other.pk, other.sk);
	return sg_bundle_sign(signer.sk, policy, strlen(policy), 5, 1700000000, &bundle, &bundle_len);
}

static int teardown(void **state)
{
	free(bundle);
	return 0;
}

static enum sg_bundle_status verify_buf(const void *buf, size_t len, uint64_t last, char *msg,
					size_t msglen)
{
	struct sg_bundle_key k;
	struct sg_bundle_verified v;

	memcpy(k.pk, signer.pk, sizeof(k.pk));
	return sg_bundle_verify(&k, 1, buf, len, last, &v, msg, msglen);
}

/* Copy of the good bundle with `from` replaced by `to` (first occurrence). */
static char *edited(const char *from, const char *to, size_t *len)
{
	char *src = malloc(bundle_len + 1), *hit, *out;
	size_t off;

	memcpy(src, bundle, bundle_len);
	src[bundle_len] = '\0';
	hit = strstr(src, from);
	assert_non_null(hit);
	off = (size_t)(hit - src);
	*len = bundle_len - strlen(from) + strlen(to);
	out = malloc(*len + 1);
	memcpy(out, src, off);
	memcpy(out + off, to, strlen(to));
	memcpy(out + off + strlen(to), src + off + strlen(from), bundle_len - off - strlen(from));
	free(src);
	return out;
}

static void expect_status(const char *from, const char *to, enum sg_bundle_status want,
			  const char *msg_part)
{
	char msg[512];
	size_t len;
	char *b = edited(from, to, &len);

	assert_int_equal(verify_buf(b, len, 0, msg, sizeof(msg)), want);
	if (msg_part && !strstr(msg, msg_part))
		fail_msg("message '%s' does not mention '%s'", msg, msg_part);
	free(b);
}

static void test_round_trip_returns_policy_and_metadata(void **state)
{
	struct sg_bundle_key k;
	struct sg_bundle_verified v;
	char msg[256], id[SG_KEY_ID_HEX];

	memcpy(k.pk, signer.pk, sizeof(k.pk));
	assert_int_equal(sg_bundle_verify(&k, 1, bundle, bundle_len, 4, &v, msg, sizeof(msg)), SG_BUNDLE_OK);
	assert_int_equal(v.policy_len, strlen(policy));
	assert_memory_equal(v.policy, policy, strlen(policy));
	assert_int_equal(v.meta.version, 5);
	assert_int_equal(v.meta.created, 1700000000);
	sg_bundle_key_id(signer.pk, id);
	assert_string_equal(v.meta.key_id, id);
	assert_int_equal(strlen(id), 16);
}

static void test_any_of_several_trusted_keys_verifies(void **state)
{
	struct sg_bundle_key k[2];
	struct sg_bundle_verified v;

	memcpy(k[0].pk, other.pk, sizeof(k[0].pk));
	memcpy(k[1].pk, signer.pk, sizeof(k[1].pk));
	assert_int_equal(sg_bundle_verify(k, 2, bundle, bundle_len, 0, &v, NULL, 0), SG_BUNDLE_OK);
}

static void test_binary_and_empty_policy_round_trip(void **state)
{
	const char bin[] = { 'a', '\0', '\n', '\n', 's', 'i', 'g', '\n' };
	struct sg_bundle_verified v;
	struct sg_bundle_key k;
	uint8_t *b;
	size_t len;

	memcpy(k.pk, signer.pk, sizeof(k.pk));
	assert_int_equal(sg_bundle_sign(signer.sk, bin, sizeof(bin), 1, 0, &b, &len), 0);
	assert_int_equal(sg_bundle_verify(&k, 1, b, len, 0, &v, NULL, 0), SG_BUNDLE_OK);
	assert_int_equal(v.policy_len, sizeof(bin));
	assert_memory_equal(v.policy, bin, sizeof(bin));
	free(b);
	assert_int_equal(sg_bundle_sign(signer.sk, "", 0, 2, 0, &b, &len), 0);
	assert_int_equal(sg_bundle_verify(&k, 1, b, len, 0, &v, NULL, 0), SG_BUNDLE_OK);
	assert_int_equal(v.policy_len, 0);
	free(b);
}

static void test_plain_policy_is_unsigned(void **state)
{
	char msg[256];

	assert_int_equal(verify_buf(policy, strlen(policy), 0, msg, sizeof(msg)), SG_BUNDLE_UNSIGNED);
	assert_non_null(strstr(msg, SG_BUNDLE_MAGIC));
}

static void test_bundle_without_signature_line_is_unsigned(void **state)
{
	char msg[256];
	size_t siglen = strlen("signature: ") + 88 + 1;

	assert_int_equal(verify_buf(bundle, bundle_len - siglen, 0, msg, sizeof(msg)), SG_BUNDLE_UNSIGNED);
	assert_non_null(strstr(msg, "no signature"));
}

static void test_every_truncation_is_refused(void **state)
{
	size_t len;

	for (len = 0; len < bundle_len; len++) {
		enum sg_bundle_status s = verify_buf(bundle, len, 0, NULL, 0);

		assert_true(s == SG_BUNDLE_MALFORMED || s == SG_BUNDLE_UNSIGNED);
	}
}

static void test_every_flipped_bit_is_refused(void **state)
{
	uint8_t *b = malloc(bundle_len);
	size_t i;
	int bit;

	for (i = 0; i < bundle_len; i++) {
		for (bit = 0; bit < 8; bit++) {
			memcpy(b, bundle, bundle_len);
			b[i] ^= (uint8_t)(1u << bit);
			assert_int_not_equal(verify_buf(b, bundle_len, 0, NULL, 0), SG_BUNDLE_OK);
		}
	}
	free(b);
}

static void test_flipped_bit_in_policy_is_bad_signature(void **state)
{
	expect_status("mode: monitor", "mode: monitos", SG_BUNDLE_BAD_SIGNATURE, "does not verify");
}

static void test_flipped_bit_in_header_is_bad_signature(void **state)
{
	expect_status("version: 5", "version: 7", SG_BUNDLE_BAD_SIGNATURE, "does not verify");
	expect_status("created: 1700000000", "created: 1700000001", SG_BUNDLE_BAD_SIGNATURE, NULL);
}

static void test_flipped_bit_in_signature_is_bad_signature(void **state)
{
	uint8_t *b = malloc(bundle_len);
	char msg[256];
	size_t pos = bundle_len - 1 - 88 + 10;	/* a character well inside the base64 */

	memcpy(b, bundle, bundle_len);
	b[pos] = b[pos] == 'A' ? 'B' : 'A';
	assert_int_equal(verify_buf(b, bundle_len, 0, msg, sizeof(msg)), SG_BUNDLE_BAD_SIGNATURE);
	free(b);
}

static void test_unknown_key_is_refused_with_its_id(void **state)
{
	struct sg_bundle_key k;
	struct sg_bundle_verified v;
	char msg[256], id[SG_KEY_ID_HEX];

	memcpy(k.pk, other.pk, sizeof(k.pk));
	assert_int_equal(sg_bundle_verify(&k, 1, bundle, bundle_len, 0, &v, msg, sizeof(msg)),
			 SG_BUNDLE_UNKNOWN_KEY);
	sg_bundle_key_id(signer.pk, id);
	assert_non_null(strstr(msg, id));
	assert_int_equal(sg_bundle_verify(NULL, 0, bundle, bundle_len, 0, &v, msg, sizeof(msg)),
			 SG_BUNDLE_UNKNOWN_KEY);
}

static void test_other_key_claiming_signer_id_is_bad_signature(void **state)
{
	uint8_t *b;
	size_t len;
	char sid[SG_KEY_ID_HEX], oid[SG_KEY_ID_HEX], msg[256];
	char *forged, *hit;

	sg_bundle_key_id(signer.pk, sid);
	sg_bundle_key_id(other.pk, oid);
	assert_int_equal(sg_bundle_sign(other.sk, policy, strlen(policy), 9, 0, &b, &len), 0);
	forged = malloc(len + 1);
	memcpy(forged, b, len);
	forged[len] = '\0';
	hit = strstr(forged, oid);
	assert_non_null(hit);
	memcpy(hit, sid, 16);
	assert_int_equal(verify_buf(forged, len, 0, msg, sizeof(msg)), SG_BUNDLE_BAD_SIGNATURE);
	free(forged);
	free(b);
}

static void test_older_version_is_rollback_naming_both(void **state)
{
	char msg[256];

	assert_int_equal(verify_buf(bundle, bundle_len, 9, msg, sizeof(msg)), SG_BUNDLE_ROLLBACK);
	assert_non_null(strstr(msg, "version 5"));
	assert_non_null(strstr(msg, "version 9"));
}

static void test_equal_version_is_rollback(void **state)
{
	char msg[256];

	assert_int_equal(verify_buf(bundle, bundle_len, 5, msg, sizeof(msg)), SG_BUNDLE_ROLLBACK);
	assert_non_null(strstr(msg, "equals"));
}

static void test_garbage_and_empty_input_are_refused(void **state)
{
	uint8_t junk[512];
	char msg[256];

	assert_int_equal(verify_buf("", 0, 0, msg, sizeof(msg)), SG_BUNDLE_MALFORMED);
	assert_int_equal(verify_buf(NULL, 0, 0, msg, sizeof(msg)), SG_BUNDLE_MALFORMED);
	randombytes_buf(junk, sizeof(junk));
	junk[0] = 0;
	assert_int_equal(verify_buf(junk, sizeof(junk), 0, msg, sizeof(msg)), SG_BUNDLE_UNSIGNED);
	assert_int_equal(verify_buf(SG_BUNDLE_MAGIC "\n", strlen(SG_BUNDLE_MAGIC) + 1, 0, msg, sizeof(msg)),
			 SG_BUNDLE_MALFORMED);
}

static void test_huge_header_is_malformed(void **state)
{
	size_t len = SG_BUNDLE_HEADER_MAX * 4;
	char *b = malloc(len), msg[256];

	memset(b, 'x', len);
	memcpy(b, SG_BUNDLE_MAGIC "\nkey-id: ", strlen(SG_BUNDLE_MAGIC "\nkey-id: "));
	assert_int_equal(verify_buf(b, len, 0, msg, sizeof(msg)), SG_BUNDLE_MALFORMED);
	assert_non_null(strstr(msg, "longer than"));
	free(b);
}

static void test_missing_fields_are_malformed(void **state)
{
	expect_status("version: 5\n", "", SG_BUNDLE_MALFORMED, "missing field 'version'");
	expect_status("policy-length: ", "policy-lengthX ", SG_BUNDLE_MALFORMED, "not 'key: value'");
	expect_status("created: 1700000000\npolicy-length: 52\n", "", SG_BUNDLE_MALFORMED,
		      "missing field 'created'");
}

static void test_duplicate_fields_are_malformed(void **state)
{
	expect_status("version: 5\n", "version: 5\nversion: 6\n", SG_BUNDLE_MALFORMED,
		      "duplicate field 'version'");
	expect_status("policy-length: 52\n", "policy-length: 52\nkey-id: 0000000000000000\n",
		      SG_BUNDLE_MALFORMED, "duplicate field 'key-id'");
}

static void test_bad_field_values_are_malformed(void **state)
{
	expect_status("version: 5", "version: 05", SG_BUNDLE_MALFORMED, "version");
	expect_status("version: 5", "version: -5", SG_BUNDLE_MALFORMED, "version");
	expect_status("version: 5", "version: 99999999999999999999", SG_BUNDLE_MALFORMED, "version");
	expect_status("key-id: ", "key-id: Z", SG_BUNDLE_MALFORMED, "key-id");
	expect_status("policy-length: 52", "policy-length: 53", SG_BUNDLE_MALFORMED, NULL);
	expect_status("policy-length: 52", "policy-length: 99999999", SG_BUNDLE_MALFORMED, "policy-length");
	expect_status("policy-length: 52\n", "policy-length: 52\nextra: 1\n", SG_BUNDLE_MALFORMED,
		      "unknown field 'extra'");
}

static void test_bytes_after_signature_are_malformed(void **state)
{
	uint8_t *b = malloc(bundle_len + 1);

	memcpy(b, bundle, bundle_len);
	b[bundle_len] = '\n';
	assert_int_equal(verify_buf(b, bundle_len + 1, 0, NULL, 0), SG_BUNDLE_MALFORMED);
	free(b);
}

static void test_policy_length_matches_exactly(void **state)
{
	/* The policy length is in the header, so no bytes can be spliced into the body. */
	expect_status("rules: []\n", "rules: []\n#", SG_BUNDLE_MALFORMED, NULL);
}

static void test_key_lines_round_trip(void **state)
{
	uint8_t sk[crypto_sign_SECRETKEYBYTES], pk[crypto_sign_PUBLICKEYBYTES];
	char *s = sg_key_format_secret(signer.sk), *p = sg_key_format_public(signer.pk), msg[160];

	assert_non_null(strstr(s, SG_KEY_SECRET_TAG " "));
	assert_int_equal(sg_key_parse_secret(s, strlen(s), sk, msg, sizeof(msg)), 0);
	assert_memory_equal(sk, signer.sk, sizeof(sk));
	assert_int_equal(sg_key_parse_public(p, strlen(p), pk, msg, sizeof(msg)), 0);
	assert_memory_equal(pk, signer.pk, sizeof(pk));
	/* Without the trailing newline too. */
	assert_int_equal(sg_key_parse_public(p, strlen(p) - 1, pk, msg, sizeof(msg)), 0);
	/* A public key is not a secret key and the other way round. */
	assert_int_equal(sg_key_parse_secret(p, strlen(p), sk, msg, sizeof(msg)), -EINVAL);
	assert_int_equal(sg_key_parse_public(s, strlen(s), pk, msg, sizeof(msg)), -EINVAL);
	free(s);
	free(p);
}

static void test_bad_key_lines_are_refused(void **state)
{
	uint8_t sk[crypto_sign_SECRETKEYBYTES], pk[crypto_sign_PUBLICKEYBYTES];
	char *s = sg_key_format_secret(signer.sk), msg[160];
	static const char *const bad_pub[] = {
		"", "\n", SG_KEY_PUBLIC_TAG, SG_KEY_PUBLIC_TAG " ", SG_KEY_PUBLIC_TAG " !!!!\n",
		SG_KEY_PUBLIC_TAG " AAAA\n", SG_KEY_PUBLIC_TAG "  AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
		SG_KEY_PUBLIC_TAG " AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n",
		"sysguard-ed25519-public-v2 AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
	};
	size_t i;

	for (i = 0; i < sizeof(bad_pub) / sizeof(bad_pub[0]); i++)
		assert_int_equal(sg_key_parse_public(bad_pub[i], strlen(bad_pub[i]), pk, msg, sizeof(msg)),
				 -EINVAL);
	/* A secret key whose public half was swapped is refused. */
	{
		uint8_t mixed[crypto_sign_SECRETKEYBYTES];
		char *line;

		memcpy(mixed, signer.sk, 32);
		memcpy(mixed + 32, other.pk, 32);
		line = sg_key_format_secret(mixed);
		assert_int_equal(sg_key_parse_secret(line, strlen(line), sk, msg, sizeof(msg)), -EINVAL);
		assert_non_null(strstr(msg, "inconsistent"));
		free(line);
	}
	s[strlen(s) - 3] ^= 1;
	assert_int_equal(sg_key_parse_secret(s, strlen(s), sk, msg, sizeof(msg)), -EINVAL);
	free(s);
}

static void tmp_path(char *out, size_t len, const char *name)
{
	snprintf(out, len, "/tmp/sg-test-bundle-%d-%s", (int)getpid(), name);
	unlink(out);
}

static void test_key_files_round_trip_with_modes(void **state)
{
	uint8_t sk[crypto_sign_SECRETKEYBYTES], pk[crypto_sign_PUBLICKEYBYTES];
	char kpath[128], ppath[128], err[256];
	char *s = sg_key_format_secret(signer.sk), *p = sg_key_format_public(signer.pk);
	struct stat st;

	tmp_path(kpath, sizeof(kpath), "k.key");
	tmp_path(ppath, sizeof(ppath), "k.pub");
	assert_int_equal(sg_file_create(kpath, s, strlen(s), 0600, err, sizeof(err)), 0);
	assert_int_equal(sg_file_create(ppath, p, strlen(p), 0644, err, sizeof(err)), 0);
	assert_int_equal(sg_file_create(kpath, s, strlen(s), 0600, err, sizeof(err)), -EEXIST);
	assert_int_equal(stat(kpath, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(sg_key_read_secret(kpath, sk, err, sizeof(err)), 0);
	assert_memory_equal(sk, signer.sk, sizeof(sk));
	assert_int_equal(sg_key_read_public(ppath, pk, err, sizeof(err)), 0);
	assert_memory_equal(pk, signer.pk, sizeof(pk));
	/* A secret key others can read is refused. */
	assert_int_equal(chmod(kpath, 0640), 0);
	assert_int_equal(sg_key_read_secret(kpath, sk, err, sizeof(err)), -EPERM);
	assert_non_null(strstr(err, "chmod 600"));
	/* A public key file given as the secret key is refused. */
	assert_int_equal(chmod(ppath, 0600), 0);
	assert_int_equal(sg_key_read_secret(ppath, sk, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, ppath));
	unlink(kpath);
	assert_int_equal(sg_key_read_secret(kpath, sk, err, sizeof(err)), -ENOENT);
	unlink(ppath);
	free(s);
	free(p);
}

static void test_version_file_round_trip_and_missing_is_zero(void **state)
{
	char path[128], tmp[160], err[256];
	uint64_t v = 77;
	FILE *f;

	tmp_path(path, sizeof(path), "version");
	assert_int_equal(sg_bundle_version_read(path, &v, err, sizeof(err)), 0);
	assert_int_equal(v, 0);
	assert_int_equal(sg_bundle_version_write(path, 41, err, sizeof(err)), 0);
	assert_int_equal(sg_bundle_version_read(path, &v, err, sizeof(err)), 0);
	assert_int_equal(v, 41);
	assert_int_equal(sg_bundle_version_write(path, UINT64_MAX, err, sizeof(err)), 0);
	assert_int_equal(sg_bundle_version_read(path, &v, err, sizeof(err)), 0);
	assert_true(v == UINT64_MAX);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	assert_int_not_equal(access(tmp, F_OK), 0);	/* no temp file left behind */
	f = fopen(path, "w");
	fputs("12", f);	/* no newline: a torn write, refused */
	fclose(f);
	assert_int_equal(sg_bundle_version_read(path, &v, err, sizeof(err)), -EINVAL);
	f = fopen(path, "w");
	fputs("x12\n", f);
	fclose(f);
	assert_int_equal(sg_bundle_version_read(path, &v, err, sizeof(err)), -EINVAL);
	unlink(path);
}

static void test_status_names(void **state)
{
	assert_string_equal(sg_bundle_status_name(SG_BUNDLE_ROLLBACK), "rollback");
	assert_string_equal(sg_bundle_status_name(SG_BUNDLE_UNSIGNED), "unsigned");
	assert_string_equal(sg_bundle_status_name(SG_BUNDLE_BAD_SIGNATURE), "bad signature");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_returns_policy_and_metadata),
		cmocka_unit_test(test_any_of_several_trusted_keys_verifies),
		cmocka_unit_test(test_binary_and_empty_policy_round_trip),
		cmocka_unit_test(test_plain_policy_is_unsigned),
		cmocka_unit_test(test_bundle_without_signature_line_is_unsigned),
		cmocka_unit_test(test_every_truncation_is_refused),
		cmocka_unit_test(test_every_flipped_bit_is_refused),
		cmocka_unit_test(test_flipped_bit_in_policy_is_bad_signature),
		cmocka_unit_test(test_flipped_bit_in_header_is_bad_signature),
		cmocka_unit_test(test_flipped_bit_in_signature_is_bad_signature),
		cmocka_unit_test(test_unknown_key_is_refused_with_its_id),
		cmocka_unit_test(test_other_key_claiming_signer_id_is_bad_signature),
		cmocka_unit_test(test_older_version_is_rollback_naming_both),
		cmocka_unit_test(test_equal_version_is_rollback),
		cmocka_unit_test(test_garbage_and_empty_input_are_refused),
		cmocka_unit_test(test_huge_header_is_malformed),
		cmocka_unit_test(test_missing_fields_are_malformed),
		cmocka_unit_test(test_duplicate_fields_are_malformed),
		cmocka_unit_test(test_bad_field_values_are_malformed),
		cmocka_unit_test(test_bytes_after_signature_are_malformed),
		cmocka_unit_test(test_policy_length_matches_exactly),
		cmocka_unit_test(test_key_lines_round_trip),
		cmocka_unit_test(test_bad_key_lines_are_refused),
		cmocka_unit_test(test_key_files_round_trip_with_modes),
		cmocka_unit_test(test_version_file_round_trip_and_missing_is_zero),
		cmocka_unit_test(test_status_names),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
