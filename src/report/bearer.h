/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Bearer tokens for the daemon's HTTP listeners (the API, /metrics): only a
 * hash of the token is kept, and a request's token is compared in constant
 * time through its hash, so neither its length nor its bytes leak by timing.
 */
#ifndef SG_BEARER_H
#define SG_BEARER_H

#include <stdbool.h>
#include <stdint.h>

#include <sodium.h>

#define SG_BEARER_HASH_LEN crypto_generichash_BYTES

void sg_bearer_hash(const char *token, uint8_t out[SG_BEARER_HASH_LEN]);
/* True when an Authorization header value ("Bearer TOKEN") carries the token of hash. */
bool sg_bearer_ok(const char *authorization, const uint8_t hash[SG_BEARER_HASH_LEN]);

#endif
