// SPDX-License-Identifier: Apache-2.0
/*
 * Reads a JetStream stream back for the fleet e2e tests (there is no NATS
 * client for Python on the machine): every message from the first, in
 * stream order, one line each on stdout:
 *
 *     <stream seq> TAB <subject> TAB <Nats-Msg-Id> TAB <data>
 *
 * Usage: fleet_reader URLS STREAM [make R]
 *        fleet_reader URLS - pub SUBJECT DATA | kv-get BUCKET KEY |
 *                            kv-put BUCKET KEY DATA | kv-watch BUCKET KEY
 * With "make R", makes the stream (subjects sysguard.>, R replicas, files)
 * and exits instead. The other modes are for the permission tests
 * (test_fleet_auth.py): each does one thing as the user given, prints what
 * the server said, and exits 0 when it was allowed, 3 when refused.
 *
 * Who connects comes from the environment: FLEET_USER and FLEET_PASSWORD,
 * FLEET_TLS_CA (TLS, verified), FLEET_INBOX (an inbox prefix: a node's
 * permissions allow replies on its own only).
 */
#include <nats/nats.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define REFUSED 3

static int fail(const char *what, natsStatus s)
{
	const char *last = nats_GetLastError(NULL);

	fprintf(stderr, "fleet_reader: %s: %s (%s)\n", what, natsStatus_GetText(s), last ? last : "");
	return 1;
}

static int make_stream(jsCtx *js, const char *name, int replicas)
{
	const char *subjects[] = { "sysguard.>" };
	jsStreamInfo *si = NULL;
	jsStreamConfig c;
	jsErrCode jerr = 0;
	natsStatus s;

	jsStreamConfig_Init(&c);
	c.Name = name;
	c.Subjects = subjects;
	c.SubjectsLen = 1;
	c.Storage = js_FileStorage;
	c.Replicas = replicas;
	c.Duplicates = 120LL * 1000000000LL;
	s = js_AddStream(&si, js, &c, NULL, &jerr);
	jsStreamInfo_Destroy(si);
	if (s != NATS_OK && jerr != JSStreamNameExistErr)
		return fail("add stream", s);
	return 0;
}

static int dump(jsCtx *js, const char *stream)
{
	natsSubscription *sub = NULL;
	jsStreamInfo *si = NULL;
	jsSubOptions so;
	jsErrCode jerr = 0;
	uint64_t last, n = 0;
	const char *id;
	natsStatus s;
	natsMsg *m;
	jsMsgMetaData *meta;
	char subject[256];

	s = js_GetStreamInfo(&si, js, stream, NULL, &jerr);
	if (s != NATS_OK)
		return fail("stream info", s);
	last = si->State.LastSeq;
	n = si->State.Msgs;
	snprintf(subject, sizeof(subject), "%s", si->Config->SubjectsLen ? si->Config->Subjects[0] : ">");
	jsStreamInfo_Destroy(si);
	fprintf(stderr, "fleet_reader: %llu messages, last seq %llu\n", (unsigned long long)n,
		(unsigned long long)last);
	if (!n)
		return 0;
	jsSubOptions_Init(&so);
	so.Stream = stream;
	so.Ordered = true;
	so.Config.DeliverPolicy = js_DeliverAll;
	s = js_SubscribeSync(&sub, js, subject, NULL, &so, &jerr);
	if (s != NATS_OK)
		return fail("subscribe", s);
	for (;;) {
		s = natsSubscription_NextMsg(&m, sub, 10000);
		if (s != NATS_OK)
			return fail("next message", s);
		meta = NULL;
		if (natsMsg_GetMetaData(&meta, m) != NATS_OK)
			return fail("metadata", NATS_ERR);
		id = NULL;
		natsMsgHeader_Get(m, "Nats-Msg-Id", &id);
		printf("%llu\t%s\t%s\t%.*s\n", (unsigned long long)meta->Sequence.Stream,
		       natsMsg_GetSubject(m), id ? id : "", natsMsg_GetDataLength(m), natsMsg_GetData(m));
		if (meta->Sequence.Stream >= last) {
			jsMsgMetaData_Destroy(meta);
			natsMsg_Destroy(m);
			break;
		}
		jsMsgMetaData_Destroy(meta);
		natsMsg_Destroy(m);
	}
	natsSubscription_Destroy(sub);
	return 0;
}

/* A core publish: the server answers a denied subject with a permissions violation, asynchronously. */
static int publish(natsConnection *nc, const char *subject, const char *data)
{
	natsStatus s = natsConnection_PublishString(nc, subject, data);
	const char *last = NULL;

	if (s == NATS_OK)
		s = natsConnection_FlushTimeout(nc, 2000);
	usleep(300 * 1000);	/* the -ERR comes after the flush's PONG at worst */
	if (s == NATS_OK)
		s = natsConnection_GetLastError(nc, &last);
	if (s == NATS_OK) {
		printf("published\n");
		return 0;
	}
	printf("refused: %s\n", last ? last : natsStatus_GetText(s));
	return REFUSED;
}

static int kv_open(jsCtx *js, const char *bucket, kvStore **kv)
{
	natsStatus s = js_KeyValue(kv, js, bucket);

	if (s == NATS_OK)
		return 0;
	printf("refused: bucket %s: %s\n", bucket, natsStatus_GetText(s));
	return REFUSED;
}

static int kv_get(jsCtx *js, const char *bucket, const char *key)
{
	kvStore *kv = NULL;
	kvEntry *e = NULL;
	natsStatus s;
	int rc = kv_open(js, bucket, &kv);

	if (rc)
		return rc;
	s = kvStore_Get(&e, kv, key);
	if (s == NATS_OK)
		printf("value: %.*s\n", kvEntry_ValueLen(e), kvEntry_ValueString(e));
	else
		printf("refused: %s\n", natsStatus_GetText(s));
	kvEntry_Destroy(e);
	kvStore_Destroy(kv);
	return s == NATS_OK ? 0 : REFUSED;
}

static int kv_put(jsCtx *js, const char *bucket, const char *key, const char *data)
{
	kvStore *kv = NULL;
	uint64_t rev = 0;
	natsStatus s;
	int rc = kv_open(js, bucket, &kv);

	if (rc)
		return rc;
	s = kvStore_PutString(&rev, kv, key, data);
	if (s == NATS_OK)
		printf("put: revision %llu\n", (unsigned long long)rev);
	else
		printf("refused: %s\n", natsStatus_GetText(s));
	kvStore_Destroy(kv);
	return s == NATS_OK ? 0 : REFUSED;
}

/* The first value a watch gives (the key's current one), or nothing within 3 s. */
static int kv_watch(jsCtx *js, const char *bucket, const char *key)
{
	kvWatcher *w = NULL;
	kvStore *kv = NULL;
	kvEntry *e = NULL;
	natsStatus s;
	int rc = kv_open(js, bucket, &kv);

	if (rc)
		return rc;
	s = kvStore_Watch(&w, kv, key, NULL);
	if (s == NATS_OK)
		s = kvWatcher_Next(&e, w, 3000);
	if (s == NATS_OK && e)
		printf("value: %.*s\n", kvEntry_ValueLen(e), kvEntry_ValueString(e));
	else if (s == NATS_OK)
		printf("no value\n");
	else
		printf("refused: %s\n", natsStatus_GetText(s));
	kvEntry_Destroy(e);
	kvWatcher_Destroy(w);
	kvStore_Destroy(kv);
	return s == NATS_OK && e ? 0 : REFUSED;
}

static int run_mode(jsCtx *js, natsConnection *nc, int argc, char **argv)
{
	const char *m = argv[3];

	if (!strcmp(m, "pub") && argc == 6)
		return publish(nc, argv[4], argv[5]);
	if (!strcmp(m, "kv-get") && argc == 6)
		return kv_get(js, argv[4], argv[5]);
	if (!strcmp(m, "kv-put") && argc == 7)
		return kv_put(js, argv[4], argv[5], argv[6]);
	if (!strcmp(m, "kv-watch") && argc == 6)
		return kv_watch(js, argv[4], argv[5]);
	if (!strcmp(m, "make") && argc == 5)
		return make_stream(js, argv[2], atoi(argv[4]));
	fprintf(stderr, "fleet_reader: unknown mode or arguments\n");
	return 2;
}

/* Who connects: FLEET_USER/FLEET_PASSWORD, FLEET_TLS_CA, FLEET_INBOX. */
static natsStatus set_auth(natsOptions *o)
{
	const char *user = getenv("FLEET_USER"), *ca = getenv("FLEET_TLS_CA");
	const char *inbox = getenv("FLEET_INBOX");
	natsStatus s = NATS_OK;

	if (user)
		s = natsOptions_SetUserInfo(o, user, getenv("FLEET_PASSWORD"));
	if (s == NATS_OK && ca)
		s = natsOptions_SetSecure(o, true);
	if (s == NATS_OK && ca)
		s = natsOptions_LoadCATrustedCertificates(o, ca);
	if (s == NATS_OK && inbox)
		s = natsOptions_SetCustomInboxPrefix(o, inbox);
	return s;
}

int main(int argc, char **argv)
{
	natsConnection *nc = NULL;
	natsOptions *o = NULL;
	jsCtx *js = NULL;
	const char *servers[16];
	natsStatus s;
	int rc, n = 0;
	char *p;

	if (argc < 3) {
		fprintf(stderr, "usage: fleet_reader URLS STREAM [make REPLICAS | MODE ARGS...]\n");
		return 2;
	}
	for (p = strtok(argv[1], ","); p && n < 16; p = strtok(NULL, ","))
		servers[n++] = p;
	s = natsOptions_Create(&o);
	if (s == NATS_OK)
		s = natsOptions_SetServers(o, servers, n);
	if (s == NATS_OK)
		s = set_auth(o);
	if (s == NATS_OK)
		s = natsConnection_Connect(&nc, o);
	if (s == NATS_OK)
		s = natsConnection_JetStream(&js, nc, NULL);
	if (s != NATS_OK)
		return fail("connect", s);
	rc = argc > 3 ? run_mode(js, nc, argc, argv) : dump(js, argv[2]);
	fflush(stdout);
	jsCtx_Destroy(js);
	natsConnection_Destroy(nc);
	natsOptions_Destroy(o);
	return rc;
}
