// The route tables, one file per resource. Each adds its routes to the router; handlers capture
// the context.
#pragma once

#include "server/context.h"
#include "server/router.h"

namespace mosaic::server {

void AddSystemRoutes(Router& r, ServerContext& ctx);       // health, readiness, metrics, models
void AddCollectionRoutes(Router& r, ServerContext& ctx);   // collections, payload indexes, snapshots
void AddPointRoutes(Router& r, ServerContext& ctx);        // points, payloads, scroll, count
void AddMediaRoutes(Router& r, ServerContext& ctx);        // thumbnails, originals (ranges)
void AddQueryRoutes(Router& r, ServerContext& ctx);        // query, facet
void AddAppRoutes(Router& r, ServerContext& ctx);          // recommend, classify, cluster, ...
void AddIngestRoutes(Router& r, ServerContext& ctx);       // ingest jobs, progress events
void AddUiRoutes(Router& r);                               // the web UI's files under /ui/
void AddQdrantRoutes(Router& r, ServerContext& ctx);       // the Qdrant-compatible API (qdrant/)

}  // namespace mosaic::server
