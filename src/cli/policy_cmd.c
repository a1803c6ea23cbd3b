// SPDX-License-Identifier: Apache-2.0
/* sysguardctl policy: key generation, bundle signing and verification. */
#include "cli/policy_cmd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "policy/bundle.h"
#include "policy/policy.h"
#include "store/bundle_files.h"

#define MAX_PUB_KEYS 16

static void policy_usage(FILE *out)
{
	fprintf(out,
		"usage: sysguardctl policy keygen OUT_PREFIX\n"
		"       sysguardctl policy sign --key KEY --version N [--created UNIX_TIME] POLICY.yaml -o BUNDLE\n"
		"       sysguardctl policy verify --pub PUB [--pub PUB...] [--min-version N] BUNDLE\n"
		"Formats: docs/policy-bundles.md\n");
}

static int parse_num(const char *opt, const char *s, uint64_t *out)
{
	if (sg_parse_u64(s, strlen(s), out)) {
		fprintf(stderr, "sysguardctl policy: %s needs a decimal number, got '%s'\n", opt, s);
		return -EINVAL;
	}
	return 0;
}

static int cmd_keygen(int argc, char **argv)
{
	uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
	char keypath[4096], pubpath[4096], err[4200], id[SG_KEY_ID_HEX];
	char *sline = NULL, *pline = NULL;
	int rc = 1;

	if (argc != 2) {
		policy_usage(stderr);
		return 2;
	}
	if (snprintf(keypath, sizeof(keypath), "%s.key", argv[1]) >= (int)sizeof(keypath) ||
	    snprintf(pubpath, sizeof(pubpath), "%s.pub", argv[1]) >= (int)sizeof(pubpath)) {
		fprintf(stderr, "sysguardctl policy keygen: prefix too long\n");
		return 1;
	}
	if (sodium_init() < 0) {
		fprintf(stderr, "sysguardctl policy keygen: libsodium failed to initialise\n");
		return 1;
	}
	crypto_sign_keypair(pk, sk);
	sline = sg_key_format_secret(sk);
	pline = sg_key_format_public(pk);
	if (!sline || !pline) {
		fprintf(stderr, "sysguardctl policy keygen: out of memory\n");
		goto out;
	}
	if (sg_file_create(keypath, sline, strlen(sline), 0600, err, sizeof(err))) {
		fprintf(stderr, "sysguardctl policy keygen: %s\n", err);
		goto out;
	}
	if (sg_file_create(pubpath, pline, strlen(pline), 0644, err, sizeof(err))) {
		fprintf(stderr, "sysguardctl policy keygen: %s\n", err);
		goto out;
	}
	sg_bundle_key_id(pk, id);
	printf("key id %s\nsecret key %s (mode 0600)\npublic key %s\n", id, keypath, pubpath);
	rc = 0;
out:
	if (sline)
		sodium_memzero(sline, strlen(sline));
	free(sline);
	free(pline);
	sodium_memzero(sk, sizeof(sk));
	return rc;
}

static int cmd_sign(int argc, char **argv)
{
	const char *key = NULL, *policy_path = NULL, *out_path = NULL;
	uint64_t version = 0, created = (uint64_t)time(NULL);
	uint8_t sk[crypto_sign_SECRETKEYBYTES], *bundle = NULL;
	struct sg_policy_error perr;
	struct sg_policy *p = NULL;
	char err[4200], *buf = NULL;
	bool have_version = false;
	size_t len, blen;
	int i, rc = 1, e;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--key") && i + 1 < argc) {
			key = argv[++i];
		} else if (!strcmp(argv[i], "--version") && i + 1 < argc) {
			if (parse_num("--version", argv[++i], &version))
				return 2;
			have_version = true;
		} else if (!strcmp(argv[i], "--created") && i + 1 < argc) {
			if (parse_num("--created", argv[++i], &created))
				return 2;
		} else if (!strcmp(argv[i], "-o") && i + 1 < argc) {
			out_path = argv[++i];
		} else if (argv[i][0] != '-' && !policy_path) {
			policy_path = argv[i];
		} else {
			policy_usage(stderr);
			return 2;
		}
	}
	if (!key || !have_version || !policy_path || !out_path) {
		policy_usage(stderr);
		return 2;
	}
	if (version == 0) {
		fprintf(stderr, "sysguardctl policy sign: versions start at 1\n");
		return 2;
	}
	if (sg_file_read_all(policy_path, SG_BUNDLE_POLICY_MAX, &buf, &len, err, sizeof(err))) {
		fprintf(stderr, "sysguardctl policy sign: %s\n", err);
		return 1;
	}
	memset(&perr, 0, sizeof(perr));
	if (sg_policy_parse(buf, len, policy_path, &p, &perr)) {
		fprintf(stderr, "sysguardctl policy sign: %s; refusing to sign an invalid policy\n",
			perr.message);
		goto out;
	}
	sg_policy_free(p);
	if (sg_key_read_secret(key, sk, err, sizeof(err))) {
		fprintf(stderr, "sysguardctl policy sign: %s\n", err);
		goto out;
	}
	e = sg_bundle_sign(sk, buf, len, version, created, &bundle, &blen);
	sodium_memzero(sk, sizeof(sk));
	if (e) {
		fprintf(stderr, "sysguardctl policy sign: %s\n", strerror(-e));
		goto out;
	}
	if (sg_file_create(out_path, bundle, blen, 0644, err, sizeof(err))) {
		fprintf(stderr, "sysguardctl policy sign: %s\n", err);
		goto out;
	}
	printf("signed %s as version %llu -> %s\n", policy_path, (unsigned long long)version, out_path);
	rc = 0;
out:
	free(bundle);
	free(buf);
	return rc;
}

static int cmd_verify(int argc, char **argv)
{
	struct sg_bundle_key keys[MAX_PUB_KEYS];
	const char *bundle_path = NULL;
	struct sg_bundle_verified v;
	enum sg_bundle_status s;
	uint64_t min_version = 1;
	char err[4200], msg[512], *buf = NULL;
	size_t nkeys = 0, len;
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--pub") && i + 1 < argc) {
			if (nkeys == MAX_PUB_KEYS) {
				fprintf(stderr, "sysguardctl policy verify: at most %d --pub\n", MAX_PUB_KEYS);
				return 2;
			}
			if (sg_key_read_public(argv[++i], keys[nkeys].pk, err, sizeof(err))) {
				fprintf(stderr, "sysguardctl policy verify: %s\n", err);
				return 1;
			}
			nkeys++;
		} else if (!strcmp(argv[i], "--min-version") && i + 1 < argc) {
			if (parse_num("--min-version", argv[++i], &min_version))
				return 2;
		} else if (argv[i][0] != '-' && !bundle_path) {
			bundle_path = argv[i];
		} else {
			policy_usage(stderr);
			return 2;
		}
	}
	if (!nkeys || !bundle_path) {
		policy_usage(stderr);
		return 2;
	}
	if (sg_file_read_all(bundle_path, SG_BUNDLE_HEADER_MAX + SG_BUNDLE_POLICY_MAX + 256, &buf, &len,
			     err, sizeof(err))) {
		fprintf(stderr, "sysguardctl policy verify: %s\n", err);
		return 1;
	}
	/* --min-version N accepts versions >= N: the "last accepted" is N - 1. */
	s = sg_bundle_verify(keys, nkeys, buf, len, min_version ? min_version - 1 : 0, &v, msg,
			     sizeof(msg));
	if (s == SG_BUNDLE_ROLLBACK)
		snprintf(msg, sizeof(msg), "bundle version %llu is below --min-version %llu",
			 (unsigned long long)v.meta.version, (unsigned long long)min_version);
	if (s != SG_BUNDLE_OK) {
		fprintf(stderr, "%s: refused (%s): %s\n", bundle_path, sg_bundle_status_name(s), msg);
		free(buf);
		return 1;
	}
	printf("%s: ok: version %llu, created %llu, key %s, policy %zu bytes\n", bundle_path,
	       (unsigned long long)v.meta.version, (unsigned long long)v.meta.created, v.meta.key_id,
	       v.policy_len);
	free(buf);
	return 0;
}

int sg_cmd_policy(int argc, char **argv)
{
	if (argc < 2) {
		policy_usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "keygen"))
		return cmd_keygen(argc - 1, argv + 1);
	if (!strcmp(argv[1], "sign"))
		return cmd_sign(argc - 1, argv + 1);
	if (!strcmp(argv[1], "verify"))
		return cmd_verify(argc - 1, argv + 1);
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		policy_usage(stdout);
		return 0;
	}
	fprintf(stderr, "sysguardctl policy: unknown command '%s'\n", argv[1]);
	policy_usage(stderr);
	return 2;
}
