// SPDX-License-Identifier: Apache-2.0
/*
 * The gRPC service: GetEvents streams the feed's records through the
 * caller's filters, GetStatus answers from the status documents the event
 * loop last wrote. Every call is authorized before it reads anything.
 */
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <grpcpp/grpcpp.h>
#include <grpcpp/resource_quota.h>
#include <grpcpp/security/server_credentials.h>

#include "sysguard/v1/sysguard.grpc.pb.h"

extern "C" {
#include "report/bearer.h"
#include "report/feed.h"
#include "report/json_read.h"
#include "report/grpc/grpc_server.h"
}

namespace {

using grpc::ServerContext;
using grpc::ServerWriter;
using grpc::Status;
using grpc::StatusCode;
namespace pb = sysguard::v1;

// How long a stream waits for a record before it looks whether its client is gone.
constexpr int kPollMs = 500;
constexpr unsigned kBatch = 256;
constexpr size_t kUnixPathMax = 107;	// sun_path less its NUL

class EventsService final : public pb::Events::Service {
public:
	EventsService(struct sg_feed *feed, const struct sg_grpc_config *cfg)
		: feed_(feed), node_id_(cfg->node_id ? cfg->node_id : ""),
		  max_streams_(cfg->max_streams ? cfg->max_streams : 64), has_token_(cfg->token_hash != nullptr)
	{
		if (has_token_)
			memcpy(token_hash_, cfg->token_hash, SG_BEARER_HASH_LEN);
	}

	Status GetEvents(ServerContext *ctx, const pb::GetEventsRequest *req,
			 ServerWriter<pb::Event> *w) override
	{
		Status st = authorize(ctx);

		if (!st.ok())
			return st;
		// Counted before the check, so two racing calls cannot both take the last place.
		if (streams_.fetch_add(1) >= max_streams_) {
			streams_.fetch_sub(1);
			refused_.fetch_add(1);
			return Status(StatusCode::RESOURCE_EXHAUSTED, "too many event streams are open");
		}
		st = stream(ctx, req, w);
		streams_.fetch_sub(1);
		return st;
	}

	Status GetStatus(ServerContext *ctx, const pb::GetStatusRequest *, pb::Status *out) override
	{
		Status st = authorize(ctx);
		uint64_t newest, held;
		char *doc;

		if (!st.ok())
			return st;
		out->set_node_id(node_id_);
		doc = sg_feed_status(feed_);
		if (doc) {
			fill_status(doc, out);
			out->set_status_json(doc);
			free(doc);
		}
		doc = sg_feed_stats(feed_);
		if (doc) {
			out->set_stats_json(doc);
			free(doc);
		}
		sg_feed_extent(feed_, &newest, &held);
		out->set_last_event_id(newest);
		out->set_events_in_memory(held);
		return Status::OK;
	}

	uint64_t streams() const { return streams_.load(); }
	uint64_t refused() const { return refused_.load(); }

private:
	Status authorize(ServerContext *ctx) const
	{
		if (!has_token_)
			return Status::OK;	// TCP with client certificates only: TLS has checked them
		auto md = ctx->client_metadata().find("authorization");
		if (md == ctx->client_metadata().end())
			return Status(StatusCode::UNAUTHENTICATED, "missing bearer token");
		std::string value(md->second.data(), md->second.size());
		if (!sg_bearer_ok(value.c_str(), token_hash_))
			return Status(StatusCode::UNAUTHENTICATED, "wrong bearer token");
		return Status::OK;
	}

	static void copy_line(void *ctx, const char *line, size_t len)
	{
		static_cast<std::vector<std::string> *>(ctx)->emplace_back(line, len);
	}

	Status stream(ServerContext *ctx, const pb::GetEventsRequest *req, ServerWriter<pb::Event> *w)
	{
		std::vector<const char *> types, decisions;
		struct sg_feed_filter flt = {};
		std::vector<std::string> batch;
		uint64_t pos, skipped = 0;
		const char *why;

		for (const auto &t : req->types())
			types.push_back(t.c_str());
		for (const auto &d : req->decisions())
			decisions.push_back(d.c_str());
		flt.types = types.data();
		flt.ntypes = types.size();
		flt.decisions = decisions.data();
		flt.ndecisions = decisions.size();
		flt.min_severity = -1;
		if (!req->min_severity().empty()) {
			flt.min_severity = sg_feed_severity_rank(req->min_severity().c_str());
			if (flt.min_severity < 0)
				return Status(StatusCode::INVALID_ARGUMENT,
					      "min_severity must be info, warning or critical");
		}
		flt.container_id = req->container_id().c_str();
		flt.pod_name = req->pod_name().c_str();
		flt.pod_namespace = req->pod_namespace().c_str();
		why = sg_feed_filter_check(&flt);
		if (why)
			return Status(StatusCode::INVALID_ARGUMENT, why);

		if (req->since_event_id()) {
			uint64_t oldest;

			if (sg_feed_after_event(feed_, req->since_event_id(), &pos, &oldest)) {
				char msg[160];

				snprintf(msg, sizeof(msg),
					 "event %016llx is no longer in memory; the oldest held is %016llx "
					 "(the audit log has them all)",
					 (unsigned long long)req->since_event_id(), (unsigned long long)oldest);
				return Status(StatusCode::OUT_OF_RANGE, msg);
			}
		} else {
			pos = sg_feed_live(feed_);
		}
		// Headers now: a client waiting on a quiet node knows it is connected.
		w->SendInitialMetadata();

		while (!ctx->IsCancelled()) {
			batch.clear();
			int n = sg_feed_read(feed_, &pos, kBatch, kPollMs, &skipped, copy_line, &batch);

			if (n == -ESHUTDOWN)
				return Status(StatusCode::UNAVAILABLE, "the daemon is stopping");
			for (const auto &line : batch) {
				struct sg_feed_meta m;
				pb::Event ev;

				if (sg_feed_meta_parse(line.data(), line.size(), &m) ||
				    !sg_feed_filter_match(&flt, &m))
					continue;
				ev.set_event_id(m.event_id);
				ev.set_type(m.type);
				ev.set_severity(m.severity);
				ev.set_decision(m.decision);
				ev.set_ts(m.ts);
				ev.set_node_id(m.node_id);
				ev.set_container_id(m.container_id);
				ev.set_pod_name(m.pod_name);
				ev.set_pod_namespace(m.pod_namespace);
				ev.set_json(line);
				ev.set_skipped_before(skipped);
				skipped = 0;
				if (!w->Write(ev))
					return Status::OK;	// the client went away
			}
		}
		return Status(StatusCode::CANCELLED, "cancelled by the client");
	}

	static void fill_status(const char *doc, pb::Status *out)
	{
		struct sg_jv v;
		const struct sg_jv *b;
		const char *s;

		if (sg_jv_parse(doc, strlen(doc), &v))
			return;
		if ((s = sg_jv_str(sg_jv_get(&v, "version"))))
			out->set_version(s);
		if ((s = sg_jv_str(sg_jv_get(&v, "mode"))))
			out->set_mode(s);
		if ((s = sg_jv_str(sg_jv_get(&v, "policy_version"))))
			out->set_policy_version(s);
		b = sg_jv_get(&v, "break_glass");
		out->set_break_glass(b && b->type == SG_JV_BOOL && b->b);
		b = sg_jv_get(&v, "backends");
		if (b && b->type == SG_JV_ARR)
			for (size_t i = 0; i < b->n; i++)
				if ((s = sg_jv_str(&b->items[i])))
					out->add_backends(s);
		sg_jv_free(&v);
	}

	struct sg_feed *feed_;
	std::string node_id_;
	unsigned max_streams_;
	bool has_token_;
	uint8_t token_hash_[SG_BEARER_HASH_LEN] = {};
	std::atomic<uint64_t> streams_{0}, refused_{0};
};

} // namespace

struct sg_grpc {
	struct sg_feed *feed;
	std::unique_ptr<EventsService> service;
	std::unique_ptr<grpc::Server> server;
	std::string unix_path;
};

extern "C" int sg_grpc_start(struct sg_grpc **out, const struct sg_grpc_config *cfg,
			     struct sg_feed *feed, char *err, size_t errlen)
{
	grpc::ServerBuilder builder;
	grpc::ResourceQuota quota("sysguard-grpc");
	sigset_t all, old;
	struct sg_grpc *g;
	int tcp_port = 0;

	if (!cfg->unix_path && !cfg->tcp_address) {
		snprintf(err, errlen, "gRPC: no socket and no address to serve on");
		return -EINVAL;
	}
	if (cfg->tcp_address && (!cfg->tls_cert_pem || !cfg->tls_key_pem)) {
		snprintf(err, errlen, "gRPC over TCP needs a TLS certificate and key");
		return -EINVAL;
	}
	if (!cfg->token_hash && !(cfg->tcp_address && cfg->client_ca_pem && !cfg->unix_path)) {
		snprintf(err, errlen, "gRPC needs a token, or client certificates on a TCP-only service");
		return -EINVAL;
	}
	// The library says this only in a log line of its own: say it in the daemon's words.
	if (cfg->unix_path && strlen(cfg->unix_path) > kUnixPathMax) {
		snprintf(err, errlen, "gRPC socket path longer than %zu characters: %s", kUnixPathMax,
			 cfg->unix_path);
		return -ENAMETOOLONG;
	}
	g = new (std::nothrow) sg_grpc();
	if (!g)
		return -ENOMEM;
	g->feed = feed;
	g->service.reset(new EventsService(feed, cfg));
	builder.RegisterService(g->service.get());
	// One thread per open stream plus a few for short calls; the limit keeps a flood of clients bounded.
	quota.SetMaxThreads((int)(cfg->max_streams ? cfg->max_streams : 64) + 8);
	builder.SetResourceQuota(quota);
	if (cfg->unix_path) {
		g->unix_path = cfg->unix_path;
		unlink(cfg->unix_path);	// a socket left by a killed daemon
		builder.AddListeningPort(std::string("unix:") + cfg->unix_path,
					 grpc::InsecureServerCredentials());
	}
	if (cfg->tcp_address) {
		grpc::SslServerCredentialsOptions tls(cfg->client_ca_pem
			? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY
			: GRPC_SSL_DONT_REQUEST_CLIENT_CERTIFICATE);

		if (cfg->client_ca_pem)
			tls.pem_root_certs = cfg->client_ca_pem;
		tls.pem_key_cert_pairs.push_back({ cfg->tls_key_pem, cfg->tls_cert_pem });
		builder.AddListeningPort(cfg->tcp_address, grpc::SslServerCredentials(tls), &tcp_port);
	}
	/*
	 * Signals are the event loop's: the library's threads inherit this mask,
	 * and a SIGTERM one of them took would end the daemon without its clean stop.
	 */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	g->server = builder.BuildAndStart();
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!g->server || (cfg->tcp_address && tcp_port == 0)) {
		snprintf(err, errlen, "gRPC: cannot serve on %s%s%s", cfg->unix_path ? cfg->unix_path : "",
			 cfg->unix_path && cfg->tcp_address ? " and " : "",
			 cfg->tcp_address ? cfg->tcp_address : "");
		if (g->server)
			g->server->Shutdown();
		delete g;
		return -EADDRINUSE;
	}
	// Only root may connect: the mode is the first lock, the token the second.
	if (cfg->unix_path && chmod(cfg->unix_path, 0600)) {
		int e = errno;

		snprintf(err, errlen, "gRPC socket %s: %s", cfg->unix_path, strerror(e));
		g->server->Shutdown();
		delete g;
		return -e;
	}
	*out = g;
	return 0;
}

extern "C" void sg_grpc_stop(struct sg_grpc *g)
{
	if (!g)
		return;
	sg_feed_stop(g->feed);
	g->server->Shutdown(std::chrono::system_clock::now() + std::chrono::seconds(2));
	g->server->Wait();
	if (!g->unix_path.empty())
		unlink(g->unix_path.c_str());
	delete g;
}

extern "C" void sg_grpc_counts(struct sg_grpc *g, uint64_t *streams, uint64_t *refused)
{
	*streams = g ? g->service->streams() : 0;
	*refused = g ? g->service->refused() : 0;
}
