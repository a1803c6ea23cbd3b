// SPDX-License-Identifier: Apache-2.0
/*
 * Start-up of the outputs besides the audit log: monitoring API, SIEM export,
 * events to JetStream, alert webhooks.
 */
#include <errno.h>

#include "daemon/daemon.h"
#include "report/fleet_record.h"
#include "report/syslog5424.h"

/* Every committed audit line goes to the API's event feed and the exports, when they run. */
static void audit_line(void *ctx, const char *line, size_t len)
{
	struct daemon *d = ctx;

	if (d->feed)
		sg_feed_push(d->feed, line, len);
	if (d->siem)
		sg_siem_submit(d->siem, line, len);
	if (d->fleet)
		sg_fleet_submit(d->fleet, line, len);
}

void daemon_outputs_on(struct daemon *d)
{
	d->audit.on_line = audit_line;
	d->audit.on_line_ctx = d;
}

/* A token file's content without the line end editors and `echo` leave; NULL with a message. */
char *daemon_read_token(const char *what, const char *path, size_t *len)
{
	char *token = NULL;
	int rc = daemon_read_file(path, &token, len);

	if (rc) {
		fprintf(stderr, "sysguardd: %s %s: %s\n", what, path, strerror(-rc));
		return NULL;
	}
	while (*len && (token[*len - 1] == '\n' || token[*len - 1] == '\r' || token[*len - 1] == ' '))
		token[--*len] = '\0';
	return token;
}

/* Off unless an address is given; a listener that cannot start as asked stops the start. */
static int start_metrics(struct daemon *d)
{
	struct options *o = &d->opt;
	struct sg_metrics_http_config cfg = { .address = o->metrics_address };
	char *token = NULL, *cert = NULL, *key = NULL, err[512];
	size_t tlen = 0, klen = 0, clen = 0;
	int rc = 2;

	if (!o->metrics_address) {
		if (o->metrics_token_file || o->metrics_tls_cert || o->metrics_tls_key) {
			fprintf(stderr, "sysguardd: the metrics token and TLS settings need "
				"--metrics-address (metrics.address)\n");
			return 2;
		}
		return 0;
	}
	if (!o->metrics_tls_cert != !o->metrics_tls_key) {
		fprintf(stderr, "sysguardd: metrics TLS needs both --metrics-tls-cert and --metrics-tls-key\n");
		return 2;
	}
	if (o->metrics_token_file && !(token = daemon_read_token("metrics token", o->metrics_token_file, &tlen)))
		goto out;
	if (o->metrics_tls_cert) {
		if ((rc = daemon_read_file(o->metrics_tls_cert, &cert, &clen)) ||
		    (rc = daemon_read_file(o->metrics_tls_key, &key, &klen))) {
			fprintf(stderr, "sysguardd: metrics TLS %s: %s\n",
				cert ? o->metrics_tls_key : o->metrics_tls_cert, strerror(-rc));
			rc = 2;
			goto out;
		}
	}
	cfg.token = token;
	cfg.tls_cert_pem = cert;
	cfg.tls_key_pem = key;
	rc = sg_metrics_http_start(&d->metrics, &cfg, err, sizeof(err));
	if (rc) {
		fprintf(stderr, "sysguardd: %s\n", err);
		rc = 2;
		goto out;
	}
	daemon_note(d, "metrics_start", SG_SEV_INFO, "address", o->metrics_address);
out:
	if (token)
		sodium_memzero(token, tlen);
	if (key)
		sodium_memzero(key, klen);
	free(token);
	free(cert);
	free(key);
	return rc;
}

/*
 * The records the API and the gRPC service read, made by whichever starts
 * first: as many as the gRPC buffer says, and at least what /events returns.
 */
int daemon_make_feed(struct daemon *d)
{
	unsigned records = SG_FEED_RECORDS_DEFAULT;

	if (d->feed)
		return 0;
	if (d->opt.grpc_buffer &&
	    sg_config_uint(d->opt.grpc_buffer, 1, SG_FEED_RECORDS_MAX, &records)) {
		fprintf(stderr, "sysguardd: grpc buffer must be a number of records, 1-%u, not '%s'\n",
			SG_FEED_RECORDS_MAX, d->opt.grpc_buffer);
		return -EINVAL;
	}
	if (records < SG_API_EVENTS && d->opt.api_token_file)
		records = SG_API_EVENTS;
	d->feed = sg_feed_new(records);
	if (!d->feed) {
		fprintf(stderr, "sysguardd: out of memory for %u records in memory\n", records);
		return -ENOMEM;
	}
	daemon_outputs_on(d);
	return 0;
}

/* OPS-2: off unless a token file is given; a misconfigured API stops the start (2). */
int daemon_start_api(struct daemon *d)
{
	char sock[4200], err[256], *token = NULL, *end;
	unsigned long port = 0;
	size_t len = 0;
	int rc;

	if (start_metrics(d))
		return 2;
	if (!d->opt.api_token_file)
		return 0;
	token = daemon_read_token("api token", d->opt.api_token_file, &len);
	if (!token)
		return 2;
	if (d->opt.api_port) {
		errno = 0;
		port = strtoul(d->opt.api_port, &end, 10);
		if (errno || *end || port == 0 || port > 65535) {
			fprintf(stderr, "sysguardd: --api-port must be 1-65535\n");
			sodium_memzero(token, len);
			free(token);
			return 2;
		}
	}
	if (daemon_make_feed(d)) {
		sodium_memzero(token, len);
		free(token);
		return 2;
	}
	snprintf(sock, sizeof(sock), "%s/api.sock", d->opt.state_dir);
	rc = sg_api_start(&d->api, d->opt.api_socket ? d->opt.api_socket : sock, (unsigned)port,
			  token, d->feed, err, sizeof(err));
	sodium_memzero(token, len);
	free(token);
	if (rc) {
		fprintf(stderr, "sysguardd: api: %s\n", err);
		return 2;
	}
	daemon_outputs_on(d);
	daemon_note(d, "api_start", SG_SEV_INFO, "socket", d->opt.api_socket ? d->opt.api_socket : sock);
	return 0;
}

/* OPS-4: nothing is created unless the export is enabled; a bad setting stops the start. */
int daemon_start_siem(struct daemon *d)
{
	struct options *o = &d->opt;
	struct sg_siem_config cfg = {
		.address = o->siem_address,
		.transport = SG_SIEM_TLS,
		.queue = SG_SIEM_QUEUE_DEFAULT,
		.facility = 10,		/* authpriv: security records, kept from general readers */
		.ca_file = o->siem_ca_file,
		.server_name = o->siem_server_name,
		.cert_file = o->siem_cert_file,
		.key_file = o->siem_key_file,
		.hostname = d->audit.node_id,
	};
	char err[512];
	int v;

	if (!o->siem_enabled)
		return 0;
	if (!o->siem_address) {
		fprintf(stderr, "sysguardd: the SIEM export is enabled but no receiver is set "
			"(--siem-address or siem.address, host:port)\n");
		return -EINVAL;
	}
	if (o->siem_transport) {
		v = sg_siem_transport_parse(o->siem_transport);
		if (v < 0) {
			fprintf(stderr, "sysguardd: siem transport must be tcp or tls, not '%s'\n",
				o->siem_transport);
			return -EINVAL;
		}
		cfg.transport = v;
	}
	if (o->siem_facility) {
		v = sg_syslog_facility_parse(o->siem_facility);
		if (v < 0) {
			fprintf(stderr, "sysguardd: siem facility must be one of kern, user, mail, daemon, "
				"auth, syslog, lpr, news, uucp, cron, authpriv, ftp, ntp, audit, alert, "
				"clock, local0..local7; not '%s'\n", o->siem_facility);
			return -EINVAL;
		}
		cfg.facility = (unsigned)v;
	}
	if (o->siem_queue && sg_config_uint(o->siem_queue, 1, SG_SIEM_QUEUE_MAX, &cfg.queue)) {
		fprintf(stderr, "sysguardd: siem queue must be a whole number of records, 1-%u, not '%s'\n",
			SG_SIEM_QUEUE_MAX, o->siem_queue);
		return -EINVAL;
	}
	d->siem = sg_siem_start(&cfg, err, sizeof(err));
	if (!d->siem) {
		fprintf(stderr, "sysguardd: %s (the SIEM export does not start)\n", err);
		return -EINVAL;
	}
	daemon_outputs_on(d);
	return 0;
}

/* A byte count: a whole number, optionally with K, M or G (powers of 1024). */
static int parse_bytes(const char *s, uint64_t min, uint64_t *out)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *s == '-')
		return -EINVAL;
	switch (*end) {
	case 'K': v <<= 10; end++; break;
	case 'M': v <<= 20; end++; break;
	case 'G': v <<= 30; end++; break;
	}
	if (*end || v < min || v > (1ull << 50))
		return -EINVAL;
	*out = v;
	return 0;
}

/* FLEET-1: nothing is created unless a URL is given; a bad setting stops the start. */
int daemon_start_fleet(struct daemon *d)
{
	struct options *o = &d->opt;
	struct sg_fleet_config cfg = {
		.conn = &o->fleet_conn,
		.stream = o->fleet_stream,
		.node_id = d->audit.node_id,
		.spool_dir = o->fleet_spool_dir,
	};
	char spool[4200], err[512];

	if (daemon_check_fleet_node(d))
		return -EINVAL;
	if (!o->fleet_conn.url) {
		if (o->fleet_stream || o->fleet_replicas || o->fleet_spool_dir || o->fleet_spool_max_bytes ||
		    o->fleet_queue || o->fleet_conn.creds || o->fleet_conn.nkey_seed || o->fleet_conn.user ||
		    o->fleet_conn.password_file || o->fleet_conn.tls_ca || o->fleet_conn.tls_cert ||
		    o->fleet_conn.tls_key) {
			fprintf(stderr, "sysguardd: the fleet settings need --fleet-url (fleet.url)\n");
			return -EINVAL;
		}
		return 0;
	}
	if (o->fleet_queue && sg_config_uint(o->fleet_queue, 1, SG_FLEET_QUEUE_MAX, &cfg.queue)) {
		fprintf(stderr, "sysguardd: fleet queue must be a whole number of records, 1-%u, not '%s'\n",
			SG_FLEET_QUEUE_MAX, o->fleet_queue);
		return -EINVAL;
	}
	if (o->fleet_replicas && sg_config_uint(o->fleet_replicas, 1, 5, &cfg.replicas)) {
		fprintf(stderr, "sysguardd: fleet replicas must be 1-5, not '%s'\n", o->fleet_replicas);
		return -EINVAL;
	}
	if (o->fleet_spool_max_bytes && parse_bytes(o->fleet_spool_max_bytes, 4096, &cfg.spool_max_bytes)) {
		fprintf(stderr, "sysguardd: fleet spool max bytes must be a size of at least 4096 "
			"(e.g. 268435456, 256M, 1G), not '%s'\n", o->fleet_spool_max_bytes);
		return -EINVAL;
	}
	/* Replies on an inbox of the node's own: its permissions can allow that one only. */
	memcpy(o->fleet_inbox, "_INBOX.", 7);
	sg_fleet_token(o->fleet_inbox + 7, sizeof(o->fleet_inbox) - 7, d->audit.node_id,
		       strlen(d->audit.node_id));
	o->fleet_conn.inbox_prefix = o->fleet_inbox;
	if (sg_fleet_conn_check(&o->fleet_conn, err, sizeof(err))) {
		fprintf(stderr, "sysguardd: %s (the fleet export does not start)\n", err);
		return -EINVAL;
	}
	if (!cfg.spool_dir) {
		snprintf(spool, sizeof(spool), "%s/fleet-spool", o->state_dir);
		cfg.spool_dir = spool;
	}
	d->fleet = sg_fleet_start(&cfg, err, sizeof(err));
	if (!d->fleet) {
		fprintf(stderr, "sysguardd: %s (the fleet export does not start)\n", err);
		return -EINVAL;
	}
	daemon_outputs_on(d);
	return 0;
}

int daemon_start_alerts(struct daemon *d)
{
	struct options *o = &d->opt;
	struct sg_alert_config cfg = {
		.url = o->alert_url,
		.ca_bundle = o->alert_ca_bundle,
		.dedup_window_s = 60,
		.per_minute = 30,
		.timeout_ms = 5000,
	};
	char err[256];
	int fmt = o->alert_format ? sg_alert_format_parse(o->alert_format) : SG_ALERT_SLACK;

	if (!o->alert_enabled)
		return 0;
	if (!o->alert_url) {
		fprintf(stderr, "sysguardd: alerts are enabled but no URL is set (--alert-url or alerts.url)\n");
		return -EINVAL;
	}
	if (fmt < 0) {
		fprintf(stderr, "sysguardd: alert format must be slack or teams, not '%s'\n", o->alert_format);
		return -EINVAL;
	}
	cfg.format = fmt;
	if ((o->alert_dedup_window && sg_config_uint(o->alert_dedup_window, 0, 86400, &cfg.dedup_window_s)) ||
	    (o->alert_per_minute && sg_config_uint(o->alert_per_minute, 1, 100000, &cfg.per_minute)) ||
	    (o->alert_timeout_ms && sg_config_uint(o->alert_timeout_ms, 1, 600000, &cfg.timeout_ms))) {
		fprintf(stderr, "sysguardd: alert dedup window (0-86400 s), per-minute cap (1-100000) "
			"and timeout (1-600000 ms) must be whole numbers in range\n");
		return -EINVAL;
	}
	d->alerts = sg_alerts_start(&cfg, err, sizeof(err));
	if (!d->alerts) {
		fprintf(stderr, "sysguardd: cannot start alerts: %s\n", err);
		return -EINVAL;
	}
	d->engine.alerts = d->alerts;
	return 0;
}
