// The Qdrant-compatible REST API (Qdrant 1.x paths and bodies, so Qdrant's clients work
// unchanged), one file per resource: service (/, health, telemetry), collections (and payload
// indexes), points (writes, retrieve, scroll, count), search (search, recommend, query, groups,
// facet). JSON shapes are translated by wire/qdrant_codec.h; this layer only runs them.
//
// Every answer is in Qdrant's envelope: {"result": ..., "status": "ok", "time": seconds}, or on
// failure {"status": {"error": "..."}, "time": seconds} with the HTTP status of HttpStatusFor.
// Success is always 200 (Qdrant's clients reject anything else). Writes are synchronous (durable
// before the answer), so ?wait is accepted and every write reports "completed".
//
// Handlers run on the server's worker threads and share only the context: thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "server/context.h"
#include "server/router.h"

namespace mosaic::server::qdrant {

// A handler returns the envelope's "result", or a Status for the error envelope.
using Handler = std::function<Result<Json>(Request&)>;

// Registers `handler` under Qdrant's envelope and error shape.
void Add(Router& r, const char* method, const char* pattern, Access access, Handler handler,
         Cost cost = Cost::kWorker);

// The error envelope for `s` (message prefixed as Qdrant does: "Not found: ", "Wrong input: ").
Response ErrorResponse(const Status& s, double seconds);

// The collection, or NotFound with Qdrant's message ("Collection `x` doesn't exist!").
Result<std::shared_ptr<Collection>> FindCollection(ServerContext& ctx, const std::string& name);

// The request body as JSON (an empty body is {}).
Result<Json> Body(const Request& req);

// {"operation_id": n, "status": "completed"}, n counting the server's writes.
Json UpdateResult();

void AddServiceRoutes(Router& r, ServerContext& ctx);     // routes_qdrant_service.cc
void AddCollectionRoutes(Router& r, ServerContext& ctx);  // routes_qdrant_collections.cc
void AddPointRoutes(Router& r, ServerContext& ctx);       // routes_qdrant_points.cc
void AddSearchRoutes(Router& r, ServerContext& ctx);      // routes_qdrant_search.cc

}  // namespace mosaic::server::qdrant
