// SPDX-License-Identifier: Apache-2.0
/*
 * libFuzzer target: signed bundle verification and key-line parsing on
 * arbitrary bytes. The trusted key comes from a fixed seed, so the seed
 * corpus can hold bundles that really verify (fuzz/corpus/bundle_verify/).
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "policy/bundle.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sg_bundle_key key;
	static int ready;
	uint8_t sk[crypto_sign_SECRETKEYBYTES], pk[crypto_sign_PUBLICKEYBYTES], v64[8];
	struct sg_bundle_verified v;
	char msg[256];
	uint64_t n;

	if (!ready) {
		uint8_t seed[crypto_sign_SEEDBYTES];

		if (sodium_init() < 0)
			__builtin_trap();
		memset(seed, 0x5a, sizeof(seed));
		crypto_sign_seed_keypair(key.pk, sk, seed);
		ready = 1;
	}
	if (sg_bundle_verify(&key, 1, data, size, 1, &v, msg, sizeof(msg)) == SG_BUNDLE_OK) {
		/* The policy must lie inside the input. */
		if (v.policy < (const char *)data || v.policy + v.policy_len > (const char *)data + size)
			__builtin_trap();
	}
	(void)sg_key_parse_public((const char *)data, size, pk, msg, sizeof(msg));
	(void)sg_key_parse_secret((const char *)data, size, sk, msg, sizeof(msg));
	if (sg_parse_u64((const char *)data, size, &n) == 0)
		memcpy(v64, &n, sizeof(v64));
	return 0;
}
