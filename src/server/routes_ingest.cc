// Ingest jobs (native API): start one on a folder under the media root, follow its progress as
// server-sent events, cancel it.
#include "server/errors.h"
#include "server/routes.h"
#include "wire/json_reader.h"

namespace mosaic::server {

void AddIngestRoutes(Router& r, ServerContext& ctx) {
  r.Add("POST", "/v1/collections/{c}/ingest", Access::kWrite, [&ctx](Request& req) {
    auto body = req.JsonBody();
    if (!body.ok()) return ErrorResponse(body.status());
    wire::JsonReader in(body.value(), "");
    if (Status s = in.Expect({"path"}); !s.ok()) return ErrorResponse(s);
    auto path = in.String("path");
    if (!path.ok()) return ErrorResponse(path.status());
    auto job = ctx.StartIngest(req.Param("c"), path.value().value_or(""));
    if (!job.ok()) return ErrorResponse(job.status());
    return Response::Json(201, job.value()->ToJson());
  });

  r.Add("GET", "/v1/jobs", Access::kRead, [&ctx](Request&) {
    Json list = Json::array();
    for (const auto& job : ctx.Jobs()) list.push_back(job->ToJson());
    return Response::Json({{"jobs", list}});
  });

  r.Add("GET", "/v1/jobs/{job}", Access::kRead, [&ctx](Request& req) {
    auto job = ctx.FindJob(req.Param("job"));
    if (!job) return ErrorResponse(Status::NotFound("job '" + req.Param("job") + "' does not exist"));
    return Response::Json(job->ToJson());
  });

  r.Add("DELETE", "/v1/jobs/{job}", Access::kWrite, [&ctx](Request& req) {
    auto job = ctx.FindJob(req.Param("job"));
    if (!job) return ErrorResponse(Status::NotFound("job '" + req.Param("job") + "' does not exist"));
    if (job->ingestor) job->ingestor->Cancel();
    return Response::Json(job->ToJson());
  });

  // One "progress" event whenever the job changed (polled every 250 ms), then "done".
  r.Add("GET", "/v1/jobs/{job}/events", Access::kRead, [&ctx](Request& req) {
    auto job = ctx.FindJob(req.Param("job"));
    if (!job) return ErrorResponse(Status::NotFound("job '" + req.Param("job") + "' does not exist"));
    Response res;
    res.content_type = "text/event-stream";
    res.stream = std::make_shared<Stream>();
    auto last = std::make_shared<uint64_t>(UINT64_MAX);
    res.stream->next = [job, last](std::string& chunk) {
      bool running = job->running.load();
      uint64_t version;
      {
        std::lock_guard l(job->mu);
        version = job->version;
      }
      if (version != *last) {
        *last = version;
        chunk = "event: progress\ndata: " + job->ToJson().dump() + "\n\n";
      }
      if (!running) {
        chunk += "event: done\ndata: " + job->ToJson().dump() + "\n\n";
        return false;
      }
      return true;
    };
    return res;
  });
}

}  // namespace mosaic::server
