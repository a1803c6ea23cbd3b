// SPDX-License-Identifier: Apache-2.0
/* sysguardctl policy: key generation, bundle signing and verification, and which policy command runs. */
#include "cli/commands.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "policy/bundle.h"
#include "policy/policy.h"
#include "store/bundle_files.h"

#define MAX_PUB_KEYS 16

enum { OPT_KEY = 256, OPT_VERSION, OPT_CREATED, OPT_PUB, OPT_MIN_VERSION };

static const struct sg_cli_cmd policy_cmd = { "policy",
	"sysguardctl policy COMMAND ...\n"
	"\n"
	"Signed policy bundles (docs/policy-bundles.md) and policy updates:\n"
	"  keygen OUT_PREFIX      a signing key pair: OUT_PREFIX.key (0600) and OUT_PREFIX.pub\n"
	"  sign --key KEY --version N [--created UNIX_TIME] POLICY.yaml -o BUNDLE\n"
	"                         checks the policy and signs it as bundle version N\n"
	"  verify --pub PUB [--pub PUB...] [--min-version N] BUNDLE\n"
	"                         checks a bundle as the daemon would\n"
	"  apply FILE             hands a policy (or a signed bundle) to the running daemon\n"
	"\n"
	"Writing and trying a policy (docs/policy.md), no key or daemon needed:\n"
	"  check FILE...          every error and warning, as FILE:LINE:COL\n"
	"  test FILE --exe PATH   the decision the daemon would take, and the rule\n"
	"  learn --from LOG       an allow-list of what ran, from an audit log\n"
	"  trust dpkg             allow rules for every program the package manager installed\n"
	"  diff OLD NEW --log LOG what NEW decides differently from OLD on a recorded history\n"
	"\n"
	"'sysguardctl policy COMMAND --help' tells more.\n" };

static const struct sg_cli_cmd keygen_cmd = { "policy keygen",
	"sysguardctl policy keygen OUT_PREFIX\n"
	"\n"
	"Creates an Ed25519 key pair: OUT_PREFIX.key (secret, mode 0600) and OUT_PREFIX.pub\n"
	"(give it to sysguardd --trusted-key). Never overwrites an existing file.\n"
	"\n"
	"  -h, --help            this help\n" };

static const struct sg_cli_cmd sign_cmd = { "policy sign",
	"sysguardctl policy sign --key KEY --version N [--created UNIX_TIME] POLICY.yaml -o BUNDLE\n"
	"\n"
	"Checks POLICY.yaml and writes it, signed with KEY as bundle version N, to BUNDLE\n"
	"(never over an existing file). The daemon takes only versions above the last it took.\n"
	"\n"
	"      --key=KEY         the secret key (policy keygen)\n"
	"      --version=N       the bundle's version, from 1\n"
	"      --created=TIME    its creation time, seconds since 1970 (default: now)\n"
	"  -o, --output=BUNDLE   where to write the bundle\n"
	"  -h, --help            this help\n" };

static const struct sg_cli_cmd verify_cmd = { "policy verify",
	"sysguardctl policy verify --pub PUB [--pub PUB...] [--min-version N] BUNDLE\n"
	"\n"
	"Checks BUNDLE's signature against the public keys, as the daemon does; says its\n"
	"version, key and size (exit 0) or why it is refused (exit 1).\n"
	"\n"
	"      --pub=PUB         a trusted public key (up to 16)\n"
	"      --min-version=N   refuse versions below N (default 1)\n"
	"  -h, --help            this help\n" };

static int parse_num(const struct sg_cli_cmd *cmd, const char *opt, const char *s, uint64_t *out)
{
	if (sg_parse_u64(s, strlen(s), out)) {
		sg_cli_usage_error(cmd, "%s needs a decimal number, got '%s'", opt, s);
		return -EINVAL;
	}
	return 0;
}

static int cmd_keygen(const struct sg_cli *cli, int argc, char **argv)
{
	uint8_t pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
	char keypath[4096], pubpath[4096], err[4200], id[SG_KEY_ID_HEX];
	char *sline = NULL, *pline = NULL;
	const char *prefix;
	int rc = sg_cli_help_only(&keygen_cmd, argc, argv);

	if (rc >= 0)
		return rc;
	if (optind != argc - 1)
		return sg_cli_usage_error(&keygen_cmd, "give one OUT_PREFIX");
	prefix = argv[optind];
	rc = 1;
	if (snprintf(keypath, sizeof(keypath), "%s.key", prefix) >= (int)sizeof(keypath) ||
	    snprintf(pubpath, sizeof(pubpath), "%s.pub", prefix) >= (int)sizeof(pubpath)) {
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

static int cmd_sign(const struct sg_cli *cli, int argc, char **argv)
{
	const char *key = NULL, *policy_path = NULL, *out_path = NULL;
	uint64_t version = 0, created = (uint64_t)time(NULL);
	uint8_t sk[crypto_sign_SECRETKEYBYTES], *bundle = NULL;
	struct sg_policy_error perr;
	struct sg_policy *p = NULL;
	char err[4200], *buf = NULL;
	bool have_version = false;
	size_t len, blen;
	static const struct option longs[] = {
		SG_CLI_OPT_HELP,
		{ "key", required_argument, NULL, OPT_KEY },
		{ "version", required_argument, NULL, OPT_VERSION },
		{ "created", required_argument, NULL, OPT_CREATED },
		{ "output", required_argument, NULL, 'o' },
		{ 0 },
	};
	int c, rc = 1, e;

	if (sg_cli_wants_help(argc, argv, ":ho:", longs))
		return sg_cli_help(&sign_cmd);
	while ((c = sg_cli_next(argc, argv, ":ho:", longs)) != -1) {
		switch (c) {
		case OPT_KEY:
			key = optarg;
			break;
		case OPT_VERSION:
			if (parse_num(&sign_cmd, "--version", optarg, &version))
				return SG_EXIT_USAGE;
			have_version = true;
			break;
		case OPT_CREATED:
			if (parse_num(&sign_cmd, "--created", optarg, &created))
				return SG_EXIT_USAGE;
			break;
		case 'o':
			out_path = optarg;
			break;
		default:
			return sg_cli_bad_option(&sign_cmd, argc, argv, c);
		}
	}
	if (optind == argc - 1)
		policy_path = argv[optind];
	if (!key || !have_version || !policy_path || !out_path)
		return sg_cli_usage_error(&sign_cmd, "needs --key, --version, one POLICY.yaml and -o BUNDLE");
	if (version == 0)
		return sg_cli_usage_error(&sign_cmd, "versions start at 1");
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

static int cmd_verify(const struct sg_cli *cli, int argc, char **argv)
{
	struct sg_bundle_key keys[MAX_PUB_KEYS];
	const char *bundle_path = NULL;
	struct sg_bundle_verified v;
	enum sg_bundle_status s;
	uint64_t min_version = 1;
	char err[4200], msg[512], *buf = NULL;
	size_t nkeys = 0, len;
	static const struct option longs[] = {
		SG_CLI_OPT_HELP,
		{ "pub", required_argument, NULL, OPT_PUB },
		{ "min-version", required_argument, NULL, OPT_MIN_VERSION },
		{ 0 },
	};
	int c;

	if (sg_cli_wants_help(argc, argv, ":h", longs))
		return sg_cli_help(&verify_cmd);
	while ((c = sg_cli_next(argc, argv, ":h", longs)) != -1) {
		switch (c) {
		case OPT_PUB:
			if (nkeys == MAX_PUB_KEYS)
				return sg_cli_usage_error(&verify_cmd, "at most %d --pub", MAX_PUB_KEYS);
			if (sg_key_read_public(optarg, keys[nkeys].pk, err, sizeof(err))) {
				fprintf(stderr, "sysguardctl policy verify: %s\n", err);
				return SG_EXIT_FAILED;
			}
			nkeys++;
			break;
		case OPT_MIN_VERSION:
			if (parse_num(&verify_cmd, "--min-version", optarg, &min_version))
				return SG_EXIT_USAGE;
			break;
		default:
			return sg_cli_bad_option(&verify_cmd, argc, argv, c);
		}
	}
	if (optind == argc - 1)
		bundle_path = argv[optind];
	if (!nkeys || !bundle_path)
		return sg_cli_usage_error(&verify_cmd, "needs at least one --pub and one BUNDLE");
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

int sg_cmd_policy(const struct sg_cli *cli, int argc, char **argv)
{
	static const struct {
		const char *name;
		int (*fn)(const struct sg_cli *cli, int argc, char **argv);
	} subs[] = {
		{ "keygen", cmd_keygen }, { "sign", cmd_sign }, { "verify", cmd_verify },
		{ "apply", sg_cmd_policy_apply },
		{ "check", sg_cmd_policy_check }, { "test", sg_cmd_policy_test },
		{ "learn", sg_cmd_policy_learn }, { "trust", sg_cmd_policy_trust },
		{ "diff", sg_cmd_policy_diff },
	};
	static const struct option longs[] = { SG_CLI_OPT_HELP, { 0 } };
	size_t i;
	int c;

	/* '+': options before the subcommand are policy's own; the rest is the subcommand's. */
	sg_cli_getopt_start();
	while ((c = sg_cli_next(argc, argv, "+:h", longs)) != -1) {
		if (c == 'h')
			return sg_cli_help(&policy_cmd);
		return sg_cli_bad_option(&policy_cmd, argc, argv, c);
	}
	if (optind >= argc)
		return sg_cli_usage_error(&policy_cmd, "which command? keygen, sign, verify, apply, "
					  "check, test, learn, trust or diff");
	for (i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
		if (!strcmp(argv[optind], subs[i].name))
			return subs[i].fn(cli, argc - optind, argv + optind);
	return sg_cli_usage_error(&policy_cmd, "unknown command '%s'", argv[optind]);
}
