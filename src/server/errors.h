// Errors over HTTP: the one mapping of Status codes to HTTP statuses, and the native API's error
// body {"error": {"code": "invalid_argument", "message": "..."}}. The Qdrant-compatible routes
// wrap the same status in Qdrant's shape.
#pragma once

#include "mosaic/status.h"
#include "server/router.h"

namespace mosaic::server {

// InvalidArgument 400, PermissionDenied 403, NotFound 404, AlreadyExists 409,
// ResourceExhausted 429, Aborted 409, Unavailable 503, Corruption/IOError/Internal 500.
int HttpStatusFor(const Status& s);

// The native error response; `http_status` 0 takes HttpStatusFor(s).
Response ErrorResponse(const Status& s, int http_status = 0);

}  // namespace mosaic::server
