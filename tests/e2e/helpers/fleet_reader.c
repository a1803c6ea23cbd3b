// SPDX-License-Identifier: Apache-2.0
/*
 * Reads a JetStream stream back for the fleet e2e tests (there is no NATS
 * client for Python on the machine): every message from the first, in
 * stream order, one line each on stdout:
 *
 *     <stream seq> TAB <subject> TAB <Nats-Msg-Id> TAB <data>
 *
 * Usage: fleet_reader nats://host:port[,nats://...] STREAM [make R]
 * With "make R", makes the stream (subjects sysguard.>, R replicas, files)
 * and exits instead.
 */
#include <nats/nats.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

int main(int argc, char **argv)
{
	natsConnection *nc = NULL;
	natsOptions *o = NULL;
	jsCtx *js = NULL;
	const char *servers[16];
	natsStatus s;
	int rc, n = 0;
	char *p;

	if (argc != 3 && !(argc == 5 && !strcmp(argv[3], "make"))) {
		fprintf(stderr, "usage: fleet_reader URLS STREAM [make REPLICAS]\n");
		return 2;
	}
	for (p = strtok(argv[1], ","); p && n < 16; p = strtok(NULL, ","))
		servers[n++] = p;
	s = natsOptions_Create(&o);
	if (s == NATS_OK)
		s = natsOptions_SetServers(o, servers, n);
	if (s == NATS_OK)
		s = natsConnection_Connect(&nc, o);
	if (s == NATS_OK)
		s = natsConnection_JetStream(&js, nc, NULL);
	if (s != NATS_OK)
		return fail("connect", s);
	rc = argc == 5 ? make_stream(js, argv[2], atoi(argv[4])) : dump(js, argv[2]);
	fflush(stdout);
	jsCtx_Destroy(js);
	natsConnection_Destroy(nc);
	natsOptions_Destroy(o);
	return rc;
}
