// SPDX-License-Identifier: Apache-2.0
#include "report/bearer.h"

#include <string.h>

void sg_bearer_hash(const char *token, uint8_t out[SG_BEARER_HASH_LEN])
{
	crypto_generichash(out, SG_BEARER_HASH_LEN, (const unsigned char *)token, strlen(token),
			   NULL, 0);
}

bool sg_bearer_ok(const char *authorization, const uint8_t hash[SG_BEARER_HASH_LEN])
{
	uint8_t got[SG_BEARER_HASH_LEN];

	if (!authorization || strncmp(authorization, "Bearer ", 7))
		return false;
	sg_bearer_hash(authorization + 7, got);
	return sodium_memcmp(got, hash, sizeof(got)) == 0;
}
