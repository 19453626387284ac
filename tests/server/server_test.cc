// The HTTP server end to end: a real server on a loopback port, driven over HTTP. Core behaviour
// (routing, limits, keep-alive, shutdown, auth) and the native REST routes with their errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <random>
#include <set>
#include <thread>

#include <filesystem>

#include "common/base64.h"
#include "ingest/test_models.h"
#include "mosaic/db.h"
#include "server_test_util.h"
#include "util/fault_env.h"
#include "util/paths.h"

namespace mosaic::testing {
namespace {

constexpr int kDim = 8;

std::vector<float> RandomVector(std::mt19937& rng) {
  std::normal_distribution<float> n;
  std::vector<float> v(kDim);
  for (float& x : v) x = n(rng);
  return v;
}

Json Vec(const std::vector<float>& v) { return Json(v); }

float Dot(const std::vector<float>& a, const std::vector<float>& b) {
  float s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

// A collection "items" of 300 points: vector "v" (ip), payload {n, group, tag} on 1..300.
class ServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    server_ = std::make_unique<TestServer>(dir_.path());
    ASSERT_TRUE(server_->ok());
    auto r = server_->Post("/v1/collections",
                           Json{{"name", "items"},
                                {"schema", {{"vectors", {{{"name", "v"}, {"dim", kDim}, {"metric", "ip"}}}}}}});
    ASSERT_EQ(r.status, 201) << r.body;
    std::mt19937 rng(7);
    Json points = Json::array();
    for (int i = 1; i <= 300; ++i) {
      vectors_[i] = RandomVector(rng);
      points.push_back({{"id", i},
                        {"vector", Vec(vectors_[i])},
                        {"payload", {{"n", i}, {"group", "g" + std::to_string(i % 3)},
                                     {"tag", i % 2 ? "odd" : "even"}}}});
    }
    r = server_->Put("/v1/collections/items/points", Json{{"points", points}});
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.json()["upserted"], 300);
  }

  // The ids of the `k` points most similar to `q` (inner product) among those `keep` accepts.
  std::vector<uint64_t> BruteForce(const std::vector<float>& q, size_t k,
                                   const std::function<bool(int)>& keep = {}) {
    std::vector<std::pair<float, uint64_t>> all;
    for (const auto& [id, v] : vectors_)
      if (!keep || keep(id)) all.push_back({-Dot(q, v), static_cast<uint64_t>(id)});
    std::sort(all.begin(), all.end());
    std::vector<uint64_t> out;
    for (size_t i = 0; i < std::min(k, all.size()); ++i) out.push_back(all[i].second);
    return out;
  }

  TempDir dir_;
  std::unique_ptr<TestServer> server_;
  std::map<int, std::vector<float>> vectors_;
};

std::vector<uint64_t> Ids(const Json& points) {
  std::vector<uint64_t> ids;
  for (const Json& p : points) ids.push_back(p["id"].get<uint64_t>());
  return ids;
}

TEST_F(ServerTest, HealthRequestIdsAndUnknownRoutes) {
  auto r = server_->Get("/v1/health");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.json()["status"], "ok");
  EXPECT_FALSE(r.headers["x-request-id"].empty());
  auto r2 = server_->Get("/v1/health");
  EXPECT_NE(r.headers["x-request-id"], r2.headers["x-request-id"]);
  // A plain id the client sends is kept, so its logs and ours line up.
  auto r3 = server_->Send("GET", "/v1/health", "", {{"X-Request-Id", "client-42"}});
  EXPECT_EQ(r3.headers["x-request-id"], "client-42");

  r = server_->Get("/v1/no/such/route");
  EXPECT_EQ(r.status, 404);
  EXPECT_NE(r.json()["error"]["message"].get<std::string>().find("/v1/no/such/route"),
            std::string::npos);
  r = server_->Send("PATCH", "/v1/collections/items");
  EXPECT_EQ(r.status, 405) << r.body;
}

TEST_F(ServerTest, CollectionsCreateListGetDropAndErrors) {
  auto r = server_->Get("/v1/collections");
  ASSERT_EQ(r.status, 200);
  ASSERT_EQ(r.json()["collections"].size(), 1u);
  EXPECT_EQ(r.json()["collections"][0]["points"], 300);

  r = server_->Get("/v1/collections/items");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.json()["schema"]["vectors"][0]["dim"], kDim);

  r = server_->Get("/v1/collections/nope");
  EXPECT_EQ(r.status, 404);
  EXPECT_NE(r.body.find("nope"), std::string::npos);

  r = server_->Post("/v1/collections", Json{{"name", "items"},
                                            {"schema", {{"vectors", {{{"name", "v"}, {"dim", 2}}}}}}});
  EXPECT_EQ(r.status, 409) << r.body;

  r = server_->Post("/v1/collections", std::string("{\"name\": \"x\", "));
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.json()["error"]["message"].get<std::string>().find("not valid JSON"), std::string::npos);

  r = server_->Post("/v1/collections", Json{{"name", "x"}, {"shema", {}}});
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("shema"), std::string::npos) << r.body;

  r = server_->Post("/v1/collections", Json{{"name", "tmp"},
                                            {"schema", {{"vectors", {{{"name", "v"}, {"dim", 2}}}}}}});
  EXPECT_EQ(r.status, 201) << r.body;
  r = server_->Delete("/v1/collections/tmp");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(server_->Get("/v1/collections/tmp").status, 404);
  EXPECT_EQ(server_->Delete("/v1/collections/tmp").status, 404);
}

TEST_F(ServerTest, UpsertErrorsNameThePointAndLoseNothing) {
  std::vector<float> shorter(kDim - 1, 0.5f);
  auto r = server_->Put("/v1/collections/items/points",
                        Json{{"points", {{{"id", 1000}, {"vector", Vec(vectors_[1])}},
                                         {{"id", 1001}, {"vector", Vec(shorter)}}}}});
  EXPECT_EQ(r.status, 400);
  std::string msg = r.json()["error"]["message"];
  EXPECT_NE(msg.find("points[1]"), std::string::npos) << msg;
  EXPECT_NE(msg.find(std::to_string(kDim - 1)), std::string::npos) << msg;
  // All or none: the good point of the batch was not written either.
  EXPECT_EQ(server_->Get("/v1/collections/items/points/1000").status, 404);
  EXPECT_EQ(server_->Post("/v1/collections/items/points/count", "{}").json()["count"], 300);

  r = server_->Put("/v1/collections/nope/points", Json{{"points", {{{"id", 1}, {"vector", Vec(vectors_[1])}}}}});
  EXPECT_EQ(r.status, 404);
  r = server_->Put("/v1/collections/items/points", Json{{"points", {{{"id", -3}, {"vector", Vec(vectors_[1])}}}}});
  EXPECT_EQ(r.status, 400) << r.body;
  r = server_->Put("/v1/collections/items/points", Json{{"points", {{{"id", 5}, {"vectro", Vec(vectors_[1])}}}}});
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("vectro"), std::string::npos) << r.body;
}

TEST_F(ServerTest, GetCountScrollPayloadAndDelete) {
  auto r = server_->Get("/v1/collections/items/points/7?with_vector=true");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json()["payload"]["n"], 7);
  EXPECT_EQ(r.json()["vectors"]["v"].size(), static_cast<size_t>(kDim));

  r = server_->Post("/v1/collections/items/points/get", Json{{"ids", {3, 4, 999}}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(Ids(r.json()["points"]), (std::vector<uint64_t>{3, 4}));

  Json odd = {{"must", {{{"key", "tag"}, {"match", {{"value", "odd"}}}}}}};
  r = server_->Post("/v1/collections/items/points/count", Json{{"filter", odd}});
  EXPECT_EQ(r.json()["count"], 150);

  // Scroll: pages of 64 cover the filtered points exactly once, in id order.
  std::vector<uint64_t> seen;
  Json offset = nullptr;
  for (int page = 0; page < 10; ++page) {
    Json body = {{"filter", odd}, {"limit", 64}, {"with_payload", false}};
    if (!offset.is_null()) body["offset"] = offset;
    r = server_->Post("/v1/collections/items/points/scroll", body);
    ASSERT_EQ(r.status, 200) << r.body;
    for (uint64_t id : Ids(r.json()["points"])) seen.push_back(id);
    offset = r.json()["next_offset"];
    if (offset.is_null()) break;
  }
  ASSERT_EQ(seen.size(), 150u);
  for (size_t i = 0; i < seen.size(); ++i) EXPECT_EQ(seen[i], 2 * i + 1);

  // Ordered by a payload field, descending.
  r = server_->Post("/v1/collections/items/points/scroll",
                    Json{{"order_by", {{"key", "n"}, {"direction", "desc"}}}, {"limit", 3}});
  EXPECT_EQ(Ids(r.json()["points"]), (std::vector<uint64_t>{300, 299, 298}));

  r = server_->Post("/v1/collections/items/points/payload",
                    Json{{"ids", {1, 2}}, {"payload", {{"color", "red"}}}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(server_->Get("/v1/collections/items/points/1").json()["payload"]["color"], "red");
  EXPECT_EQ(server_->Get("/v1/collections/items/points/1").json()["payload"]["n"], 1);
  r = server_->Post("/v1/collections/items/points/payload",
                    Json{{"ids", {2}}, {"payload", {{"only", true}}}, {"overwrite", true}});
  EXPECT_EQ(server_->Get("/v1/collections/items/points/2").json()["payload"], Json({{"only", true}}));
  r = server_->Post("/v1/collections/items/points/payload/delete",
                    Json{{"ids", {1}}, {"keys", {"color"}}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_FALSE(server_->Get("/v1/collections/items/points/1").json()["payload"].contains("color"));

  r = server_->Post("/v1/collections/items/points/delete", Json{{"ids", {1, 2, 3}}});
  EXPECT_EQ(r.json()["deleted"], 3);
  r = server_->Post("/v1/collections/items/points/delete",
                    Json{{"filter", {{"must", {{{"key", "group"}, {"match", {{"value", "g0"}}}}}}}}});
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.json()["deleted"], 99);  // multiples of 3 but 3 itself
  EXPECT_EQ(server_->Post("/v1/collections/items/points/count", "{}").json()["count"], 300 - 3 - 99);
  r = server_->Post("/v1/collections/items/points/delete", Json{{"ids", {1}}, {"filter", odd}});
  EXPECT_EQ(r.status, 400);
}

TEST_F(ServerTest, QueryMatchesBruteForceWithFiltersGroupsAndFacets) {
  std::mt19937 rng(99);
  for (int q = 0; q < 5; ++q) {
    auto v = RandomVector(rng);
    auto r = server_->Post("/v1/collections/items/query",
                           Json{{"query", {{"nearest", Vec(v)}}}, {"using", "v"}, {"limit", 10},
                                {"params", {{"exact", true}}}});
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(Ids(r.json()["points"]), BruteForce(v, 10));
    // A filter, and the second page.
    Json even = {{"must", {{{"key", "tag"}, {"match", {{"value", "even"}}}}}}};
    r = server_->Post("/v1/collections/items/query",
                      Json{{"query", {{"nearest", Vec(v)}}}, {"filter", even}, {"limit", 5},
                           {"offset", 5}, {"params", {{"exact", true}}}});
    ASSERT_EQ(r.status, 200) << r.body;
    auto want = BruteForce(v, 10, [](int id) { return id % 2 == 0; });
    EXPECT_EQ(Ids(r.json()["points"]), std::vector<uint64_t>(want.begin() + 5, want.end()));
  }
  auto v = RandomVector(rng);
  auto r = server_->Post("/v1/collections/items/query",
                         Json{{"query", {{"nearest", Vec(v)}}}, {"group_by", "group"},
                              {"group_size", 2}, {"limit", 3}, {"facets", {"group"}},
                              {"explain", true}});
  ASSERT_EQ(r.status, 200) << r.body;
  Json j = r.json();
  ASSERT_EQ(j["groups"].size(), 3u);
  std::set<std::string> groups;
  for (const Json& g : j["groups"]) groups.insert(g["id"].get<std::string>());
  EXPECT_EQ(groups.size(), 3u);
  ASSERT_TRUE(j["facets"].contains("group"));
  EXPECT_EQ(j["facets"]["group"].size(), 3u);

  r = server_->Post("/v1/collections/items/facet", Json{{"key", "tag"}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json()["values"][0]["count"], 150);

  // Errors name the path and the value; a client cannot name a server-side file.
  r = server_->Post("/v1/collections/items/query", Json{{"limit", -1}});
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("limit"), std::string::npos) << r.body;
  r = server_->Post("/v1/collections/items/query",
                    Json{{"query", {{"nearest", {{"image", "/etc/passwd"}}}}}});
  EXPECT_EQ(r.status, 400) << r.body;
  r = server_->Post("/v1/collections/items/query",
                    Json{{"query", {{"nearest", Vec(std::vector<float>(3, 1.0f))}}}});
  EXPECT_EQ(r.status, 400) << r.body;
}

TEST_F(ServerTest, OversizedAndMalformedRequestsAreRefusedAndTheServerStaysUp) {
  TempDir dir;
  server::ServerOptions o;
  o.http.max_body_bytes = 4096;
  TestServer small(dir.path(), o);
  ASSERT_TRUE(small.ok());
  std::string big = "{\"points\": [" + std::string(10000, ' ') + "]}";
  auto r = small.Put("/v1/collections/x/points", Json::parse(big));  // compact: small body
  EXPECT_EQ(r.status, 404);
  r = small.Send("PUT", "/v1/collections/x/points", big);
  EXPECT_EQ(r.status, 413);
  EXPECT_NE(r.body.find("4096"), std::string::npos) << r.body;
  EXPECT_EQ(small.Get("/v1/health").status, 200);  // a new connection; the server is up

  // Raw garbage on a socket: a 400, then the server keeps serving others.
  namespace net = boost::asio;
  net::io_context ioc;
  net::ip::tcp::socket s(ioc);
  s.connect({net::ip::make_address("127.0.0.1"), small.port()});
  std::string junk = "NOT HTTP AT ALL\r\n\r\n";
  net::write(s, net::buffer(junk));
  std::string reply(512, '\0');
  boost::system::error_code ec;
  size_t n = s.read_some(net::buffer(reply), ec);
  reply.resize(n);
  EXPECT_TRUE(reply.starts_with("HTTP/1.1 400")) << reply;
  EXPECT_EQ(small.Get("/v1/health").status, 200);
}

TEST_F(ServerTest, ConcurrentClientsOnKeepAliveConnections) {
  std::atomic<int> ok{0}, bad{0};
  std::vector<std::thread> threads;
  uint16_t port = server_->port();
  for (int t = 0; t < 16; ++t) {
    threads.emplace_back([&, t] {
      HttpClient c(port);  // one connection, kept alive across its requests
      std::mt19937 rng(t);
      for (int i = 0; i < 20; ++i) {
        auto v = RandomVector(rng);
        auto r = c.Post("/v1/collections/items/query",
                        Json{{"query", {{"nearest", Vec(v)}}}, {"limit", 3},
                             {"params", {{"exact", true}}}}.dump());
        if (r.status == 200 && Ids(r.json()["points"]) == BruteForce(v, 3)) ++ok;
        else ++bad;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok, 320);
  EXPECT_EQ(bad, 0);
  auto m = server_->Get("/metrics");
  ASSERT_EQ(m.status, 200);
  EXPECT_NE(m.body.find("mosaic_http_requests_total{method=\"POST\",route=\"/v1/collections/{c}/query\",status=\"200\"} 320"),
            std::string::npos);
  EXPECT_NE(m.body.find("mosaic_collection_points{collection=\"items\"} 300"), std::string::npos);
  for (const char* gauge : {"mosaic_collection_merges_pending{collection=\"items\"} 0",
                            "mosaic_collection_merges_total{collection=\"items\"} 0",
                            "mosaic_collection_deleted_pending{collection=\"items\"} 0",
                            "mosaic_collection_disk_bytes{collection=\"items\"} ",
                            "mosaic_collection_segment_mapped_bytes{collection=\"items\"} 0",
                            "\nmosaic_process_resident_bytes "})
    EXPECT_NE(m.body.find(gauge), std::string::npos) << gauge << " not in " << m.body;
}

// Where handlers run (router.h, Cost): searches by vector and reads by id answer on the I/O
// thread; writes, and queries that need a model, are deferred to a worker before doing anything.
TEST_F(ServerTest, QuickRoutesRunInlineOthersAreDeferredUntouched) {
  server::Server& s = server_->server();
  auto dispatch = [&](const char* method, const char* path, const Json& body, bool io) {
    server::Request req;
    req.method = method;
    req.path = path;
    req.body = body.is_null() ? "" : body.dump();
    req.request_id = "t";
    req.on_io_thread = io;
    return s.Dispatch(req);
  };
  std::mt19937 rng(5);
  auto v = RandomVector(rng);
  Json by_vector = {{"query", {{"nearest", Vec(v)}}}, {"limit", 3}, {"params", {{"exact", true}}}};
  auto res = dispatch("POST", "/v1/collections/items/query", by_vector, true);
  EXPECT_FALSE(res.defer);
  ASSERT_EQ(res.status, 200) << res.body;
  EXPECT_EQ(Ids(Json::parse(res.body)["points"]), BruteForce(v, 3));
  EXPECT_FALSE(dispatch("GET", "/v1/collections/items/points/7", nullptr, true).defer);
  EXPECT_FALSE(dispatch("POST", "/collections/items/points/search",
                        Json{{"vector", Vec(v)}, {"limit", 3}}, true).defer);
  EXPECT_FALSE(dispatch("GET", "/v1/health", nullptr, true).defer);

  // A query by text needs the collection's text model: deferred, then answered on a worker
  // (this collection has no models: a 400 that says so).
  Json by_text = {{"query", {{"nearest", {{"text", "a red shoe"}}}}}};
  EXPECT_TRUE(dispatch("POST", "/v1/collections/items/query", by_text, true).defer);
  res = dispatch("POST", "/v1/collections/items/query", by_text, false);
  EXPECT_FALSE(res.defer);
  EXPECT_EQ(res.status, 400) << res.body;

  // A write is deferred before it writes anything.
  Json point = {{"points", {{{"id", 1000}, {"vector", Vec(v)}}}}};
  EXPECT_TRUE(dispatch("PUT", "/v1/collections/items/points", point, true).defer);
  EXPECT_EQ(server_->Post("/v1/collections/items/points/count", Json::object()).json()["count"], 300);
  EXPECT_EQ(dispatch("PUT", "/v1/collections/items/points", point, false).status, 200);
  EXPECT_EQ(server_->Post("/v1/collections/items/points/count", Json::object()).json()["count"], 301);

  // Over HTTP both paths answer, each request measured once.
  EXPECT_EQ(server_->Post("/v1/collections/items/query", by_text).status, 400);
  auto m = server_->Get("/metrics");
  EXPECT_NE(m.body.find("mosaic_http_requests_total{method=\"POST\",route=\"/v1/collections/{c}/query\",status=\"400\"} 2"),
            std::string::npos) << m.body.substr(0, 3000);
}

TEST(ServerShutdownTest, FinishesRequestsInFlightAndKeepsAcknowledgedWrites) {
  TempDir dir;
  std::vector<std::vector<uint64_t>> acked(4);  // read after the server is gone, db reopened
  {
    TestServer s(dir.path());
    ASSERT_TRUE(s.ok());
    auto r = s.Post("/v1/collections", Json{{"name", "c"},
                                             {"schema", {{"vectors", {{{"name", "v"}, {"dim", 2}}}}}}});
    ASSERT_EQ(r.status, 201);
    // Writers keep upserting while the server shuts down: every write that got a 200 must be
    // there afterwards; the others got an error or a closed connection.
    std::atomic<bool> go{true};
    std::vector<std::thread> writers;
    for (int w = 0; w < 4; ++w) {
      writers.emplace_back([&, w] {
        HttpClient c(s.port());
        for (uint64_t i = 0; go && i < 100000; ++i) {
          uint64_t id = w * 1000000 + i;
          Json body = {{"points", {{{"id", id}, {"vector", {1.0, static_cast<double>(i)}}}}}};
          auto res = c.Put("/v1/collections/c/points", body.dump());
          if (res.status == 200) acked[w].push_back(id);
          if (res.status < 0) break;
        }
      });
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(300));
    s.server().Shutdown(std::chrono::seconds(5));
    go = false;
    for (auto& t : writers) t.join();
  }
  auto db = Db::Open(dir.path());
  ASSERT_TRUE(db.ok());
  auto c = db.value()->GetCollection("c");
  ASSERT_TRUE(c.ok());
  std::vector<PointId> ids;
  for (const auto& list : acked)
    for (uint64_t id : list) ids.push_back(id);
  ASSERT_GT(ids.size(), 10u);  // the writers did get going before the shutdown
  auto got = c.value()->Get(ids, false, false);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got.value().size(), ids.size()) << "acknowledged writes were lost";
}

// Issue 14, hole 9: a collection that fails to open is listed as damaged and refused by name
// with its reason, while the server serves the others.
TEST(ServerDamaged, ADamagedCollectionIsListedAndRefusedByName) {
  TempDir dir;
  {
    auto db = *Db::Open(dir.path());
    for (const char* name : {"good", "bad"}) {
      CollectionSchema schema;
      schema.vectors = {{"v", 2, Metric::kL2, StorageType::kFloat32}};
      auto c = *db->CreateCollection(name, schema);
      Point p;
      p.id = uint64_t{1};
      p.vectors["v"] = {1, 2};
      ASSERT_TRUE(c->Upsert({&p, 1}).ok());
    }
  }
  std::ofstream(dir / "collections/bad/CURRENT", std::ios::trunc) << "{\"generation\": ";
  TestServer s(dir.path());
  ASSERT_TRUE(s.ok());
  auto r = s.Get("/v1/collections");
  ASSERT_EQ(r.status, 200) << r.body;
  std::map<std::string, Json> listed;
  const Json body = r.json();
  for (const Json& c : body["collections"]) listed[c["name"].get<std::string>()] = c;
  ASSERT_EQ(listed.size(), 2u) << r.body;
  EXPECT_EQ(listed["good"]["points"], 1);
  const std::string why = listed["bad"].value("damaged", "");
  EXPECT_NE(why.find("Corruption"), std::string::npos) << r.body;
  EXPECT_NE(why.find("CURRENT is not valid"), std::string::npos) << r.body;
  for (const char* target : {"/v1/collections/bad", "/v1/collections/bad/points/1"}) {
    r = s.Get(target);
    EXPECT_EQ(r.status, 500) << target;
    EXPECT_NE(r.body.find("collection 'bad' is damaged"), std::string::npos) << r.body;
    EXPECT_NE(r.body.find("CURRENT is not valid"), std::string::npos) << r.body;
  }
  EXPECT_EQ(s.Get("/v1/collections/good/points/1").status, 200);
  r = s.Post("/v1/collections",
             Json{{"name", "bad"}, {"schema", {{"vectors", {{{"name", "v"}, {"dim", 2}}}}}}});
  EXPECT_EQ(r.status, 409) << r.body;
  r = s.Get("/metrics");
  EXPECT_NE(r.body.find("mosaic_collection_damaged{collection=\"bad\"} 1"), std::string::npos);
}

TEST_F(ServerTest, SnapshotsAndModels) {
  auto r = server_->Post("/v1/collections/items/snapshots", "{}");
  ASSERT_EQ(r.status, 201) << r.body;
  std::string name = r.json()["name"];
  EXPECT_GT(r.json()["size"].get<uint64_t>(), 0u);
  r = server_->Get("/v1/collections/items/snapshots");
  ASSERT_EQ(r.json()["snapshots"].size(), 1u);
  EXPECT_EQ(r.json()["snapshots"][0]["name"], name);
  r = server_->Post("/v1/snapshots/restore", Json{{"snapshot", name}, {"name", "copy"}});
  ASSERT_EQ(r.status, 201) << r.body;
  EXPECT_EQ(r.json()["points"], 300);
  EXPECT_EQ(server_->Get("/v1/collections/copy/points/9").json()["payload"]["n"], 9);
  r = server_->Post("/v1/snapshots/restore", Json{{"snapshot", "../../etc/passwd"}, {"name", "x"}});
  EXPECT_EQ(r.status, 400) << r.body;
  r = server_->Post("/v1/snapshots/restore", Json{{"snapshot", name}, {"name", "copy"}});
  EXPECT_EQ(r.status, 409) << r.body;

  r = server_->Get("/v1/models");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(r.json()["models"].is_array());
}

TEST_F(ServerTest, PayloadIndexesAndReadiness) {
  EXPECT_EQ(server_->Get("/v1/ready").json()["status"], "ready");
  auto r = server_->Put("/v1/collections/items/indexes/tag", Json{{"type", "keyword"}});
  ASSERT_EQ(r.status, 200) << r.body;
  r = server_->Put("/v1/collections/items/indexes/n", Json{{"type", "integer"}});
  ASSERT_EQ(r.status, 200) << r.body;
  r = server_->Get("/v1/collections/items/indexes");
  EXPECT_EQ(r.json()["indexes"], Json({{"n", "integer"}, {"tag", "keyword"}}));
  r = server_->Put("/v1/collections/items/indexes/x", Json{{"type", "geo"}});
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("geo"), std::string::npos) << r.body;
  // The index serves the same filter results.
  Json odd = {{"must", {{{"key", "tag"}, {"match", {{"value", "odd"}}}}}}};
  EXPECT_EQ(server_->Post("/v1/collections/items/points/count", Json{{"filter", odd}}).json()["count"], 150);
  r = server_->Delete("/v1/collections/items/indexes/tag");
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(server_->Get("/v1/collections/items/indexes").json()["indexes"], Json({{"n", "integer"}}));
  EXPECT_EQ(server_->Put("/v1/collections/nope/indexes/tag", Json{{"type", "keyword"}}).status, 404);
}

TEST(ServerAuthTest, ReadAndAdminKeys) {
  TempDir dir;
  server::ServerOptions o;
  o.read_key = "reader-secret";
  o.admin_key = "admin-secret";
  TestServer s(dir.path(), o);
  ASSERT_TRUE(s.ok());
  Json create = {{"name", "c"}, {"schema", {{"vectors", {{{"name", "v"}, {"dim", 2}}}}}}};
  EXPECT_EQ(s.Get("/v1/health").status, 200);  // public
  EXPECT_EQ(s.Get("/v1/collections").status, 401);
  EXPECT_EQ(s.Send("GET", "/v1/collections", "", {{"api-key", "wrong"}}).status, 401);
  EXPECT_EQ(s.Send("GET", "/v1/collections", "", {{"api-key", "reader-secret"}}).status, 200);
  auto r = s.Send("POST", "/v1/collections", create.dump(), {{"api-key", "reader-secret"}});
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.body.find("reader-secret"), std::string::npos);
  r = s.Send("POST", "/v1/collections", create.dump(), {{"Authorization", "Bearer admin-secret"}});
  EXPECT_EQ(r.status, 201) << r.body;
  // The web UI's cookie, for images and event streams that cannot send headers.
  EXPECT_EQ(s.Send("GET", "/v1/collections", "", {{"Cookie", "a=1; mosaic_api_key=reader-secret"}}).status, 200);
  EXPECT_EQ(s.Send("GET", "/v1/collections", "", {{"Cookie", "mosaic_api_key=nope"}}).status, 401);
  EXPECT_EQ(s.Send("DELETE", "/v1/collections/c", "", {{"Cookie", "mosaic_api_key=reader-secret"}}).status, 403);
}

TEST(ServerMediaTest, ThumbnailsAndOriginalsWithRangesOnlyUnderTheMediaRoot) {
  TempDir dir, media, elsewhere;
  std::string bytes;
  for (int i = 0; i < 5000; ++i) bytes.push_back(static_cast<char>(i * 7));
  std::ofstream(media / "clip.mp4", std::ios::binary) << bytes;
  std::ofstream(elsewhere / "secret.txt", std::ios::binary) << "secret";
  server::ServerOptions o;
  o.media_root = media.path();
  TestServer s(dir.path(), o);
  ASSERT_TRUE(s.ok());
  s.Post("/v1/collections", Json{{"name", "m"}, {"schema", {{"vectors", {{{"name", "v"}, {"dim", 2}}}}}}});
  std::string thumb = "\xff\xd8\xff\xe0 not really a jpeg";
  Json points = {
      {{"id", 1}, {"vector", {1, 0}},
       {"payload", {{"kind", "video"}, {"mime", "video/mp4"},
                    {"file", {{"path", media / "clip.mp4"}}},
                    {"thumbnail", {{"mime", "image/jpeg"},
                                   {"data", Base64Encode({reinterpret_cast<const uint8_t*>(thumb.data()), thumb.size()})}}}}}},
      {{"id", 2}, {"vector", {0, 1}}, {"payload", {{"kind", "shot"}, {"parent", 1}}}},
      {{"id", 3}, {"vector", {1, 1}},
       {"payload", {{"mime", "text/plain"}, {"file", {{"path", elsewhere / "secret.txt"}}}}}}};
  ASSERT_EQ(s.Put("/v1/collections/m/points", Json{{"points", points}}).status, 200);

  auto r = s.Get("/v1/collections/m/points/1/thumbnail");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers["content-type"], "image/jpeg");
  EXPECT_EQ(r.body, thumb);
  EXPECT_EQ(s.Get("/v1/collections/m/points/2/thumbnail").body, thumb);  // the parent's
  EXPECT_EQ(s.Get("/v1/collections/m/points/3/thumbnail").status, 404);

  r = s.Get("/v1/collections/m/points/2/media");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.headers["content-type"], "video/mp4");
  EXPECT_EQ(r.body, bytes);
  r = s.Send("GET", "/v1/collections/m/points/1/media", "", {{"Range", "bytes=100-199"}});
  EXPECT_EQ(r.status, 206);
  EXPECT_EQ(r.headers["content-range"], "bytes 100-199/5000");
  EXPECT_EQ(r.body, bytes.substr(100, 100));
  r = s.Send("GET", "/v1/collections/m/points/1/media", "", {{"Range", "bytes=-10"}});
  EXPECT_EQ(r.body, bytes.substr(4990));
  r = s.Send("GET", "/v1/collections/m/points/1/media", "", {{"Range", "bytes=9000-"}});
  EXPECT_EQ(r.status, 416);
  // A payload path outside the media root is never served.
  r = s.Get("/v1/collections/m/points/3/media");
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.body.find("secret\""), std::string::npos);
}

}  // namespace
}  // namespace mosaic::testing

namespace mosaic::testing {
namespace {

TEST(ServerIngestTest, JobUnderTheMediaRootStreamsProgressThenSearches) {
  TempDir dir, media;
  std::filesystem::create_directories(media / "photos");
  for (const char* f : {"dog.jpg", "horses.jpg"})
    std::filesystem::copy_file(DataDir() + "/darknet/" + f, media / ("photos/" + std::string(f)));
  server::ServerOptions o;
  o.media_root = media.path();
  o.models_dir = ingest::IngestModels();
  TestServer s(dir.path(), o);
  ASSERT_TRUE(s.ok());

  // Paths outside the media root are refused, naming the path.
  auto r = s.Post("/v1/collections/media/ingest", Json{{"path", "../"}});
  EXPECT_EQ(r.status, 403) << r.body;
  r = s.Post("/v1/collections/media/ingest", Json{{"path", "/etc"}});
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("/etc"), std::string::npos);
  r = s.Post("/v1/collections/media/ingest", Json{{"path", "nothing-here"}});
  EXPECT_EQ(r.status, 404) << r.body;

  r = s.Post("/v1/collections/media/ingest", Json{{"path", "photos"}});
  ASSERT_EQ(r.status, 201) << r.body;
  std::string job = r.json()["id"];
  // The event stream: progress events, then one "done" with the final state.
  HttpClient events(s.port());
  auto e = events.Get("/v1/jobs/" + job + "/events");
  ASSERT_EQ(e.status, 200);
  EXPECT_EQ(e.headers["content-type"], "text/event-stream");
  EXPECT_NE(e.body.find("event: progress"), std::string::npos);
  size_t done = e.body.find("event: done\ndata: ");
  ASSERT_NE(done, std::string::npos) << e.body;
  Json final = Json::parse(e.body.substr(done + 18, e.body.find('\n', done + 18) - done - 18));
  EXPECT_EQ(final["state"], "done");
  EXPECT_EQ(final["progress"]["files_done"], 2);
  EXPECT_EQ(s.Get("/v1/jobs/" + job).json()["state"], "done");

  // The photos are searchable, with thumbnails and originals served by point id.
  r = s.Post("/v1/collections/media/query", Json{{"query", "dog"}, {"limit", 1}});
  ASSERT_EQ(r.status, 200) << r.body;
  ASSERT_EQ(r.json()["points"].size(), 1u);
  Json hit = r.json()["points"][0];
  EXPECT_EQ(hit["payload"]["file"]["name"], "dog.jpg");
  std::string id = hit["id"].is_string() ? hit["id"].get<std::string>() : hit["id"].dump();
  auto t = s.Get("/v1/collections/media/points/" + id + "/thumbnail");
  EXPECT_EQ(t.status, 200);
  EXPECT_TRUE(t.body.starts_with("\xff\xd8")) << "a JPEG";
  auto m = s.Get("/v1/collections/media/points/" + id + "/media");
  EXPECT_EQ(m.status, 200);
  EXPECT_EQ(m.body.size(), std::filesystem::file_size(media / "photos/dog.jpg"));
  EXPECT_EQ(s.Get("/v1/jobs/job-999").status, 404);

  // Points embedded server-side by the collection's models: a text (CLIP text tower) and an
  // uploaded image (CLIP image tower and the visual descriptor).
  std::ifstream photo(media / "photos/horses.jpg", std::ios::binary);
  std::string jpeg((std::istreambuf_iterator<char>(photo)), std::istreambuf_iterator<char>());
  r = s.Put("/v1/collections/media/points",
            Json{{"points", {{{"id", 900001}, {"text", "a horse in a field"}, {"payload", {{"kind", "note"}}}},
                             {{"id", 900002},
                              {"image_base64", Base64Encode({reinterpret_cast<const uint8_t*>(jpeg.data()), jpeg.size()})}}}}});
  ASSERT_EQ(r.status, 200) << r.body;
  Json note = s.Get("/v1/collections/media/points/900001?with_vector=true").json();
  EXPECT_EQ(note["payload"]["kind"], "note");
  EXPECT_TRUE(note["vectors"].contains("clip")) << note.dump().substr(0, 300);
  Json upload = s.Get("/v1/collections/media/points/900002?with_vector=true").json();
  EXPECT_TRUE(upload["vectors"].contains("clip"));
  EXPECT_TRUE(upload["vectors"].contains("visual"));
  // The uploaded copy of horses.jpg is the ingested one's nearest neighbour by the visual vector.
  r = s.Post("/v1/collections/media/query",
             Json{{"query", {{"nearest", {{"id", 900002}}}}}, {"using", "visual"}, {"limit", 1}});
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.json()["points"][0]["payload"]["file"]["name"], "horses.jpg");
  r = s.Put("/v1/collections/media/points",
            Json{{"points", {{{"id", 900003}, {"image_base64", "bm90IGFuIGltYWdl"}}}}});
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("points[0]"), std::string::npos) << r.body;
}

TEST(ServerIngestTest, CancelStopsAJobEarly) {
  TempDir dir, media;
  std::filesystem::create_directories(media / "many");
  size_t files = 0;
  for (const auto& e : std::filesystem::directory_iterator(DataDir() + "/skimage"))
    if (e.path().extension() == ".png" && files < 24) {
      std::filesystem::copy_file(e.path(), media / ("many/" + e.path().filename().string()));
      ++files;
    }
  ASSERT_GE(files, 12u);
  server::ServerOptions o;
  o.media_root = media.path();
  o.models_dir = ingest::IngestModels();
  TestServer s(dir.path(), o);
  ASSERT_TRUE(s.ok());
  auto r = s.Post("/v1/collections/media/ingest", Json{{"path", "many"}});
  ASSERT_EQ(r.status, 201) << r.body;
  std::string job = r.json()["id"];
  r = s.Delete("/v1/jobs/" + job);
  EXPECT_EQ(r.status, 200) << r.body;
  Json j;
  for (int i = 0; i < 600; ++i) {
    j = s.Get("/v1/jobs/" + job).json();
    if (j["state"] != "running") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(j["state"], "cancelled") << j.dump();
  EXPECT_LT(j["progress"]["files_done"].get<size_t>(), files) << j.dump();
  auto list = s.Get("/v1/jobs").json()["jobs"];
  ASSERT_EQ(list.size(), 1u);
  EXPECT_EQ(list[0]["id"], job);
  EXPECT_EQ(s.Delete("/v1/jobs/job-999").status, 404);
}

TEST(ServerIngestTest, WithoutAMediaRootJobsAreOff) {
  TempDir dir;
  TestServer s(dir.path());
  ASSERT_TRUE(s.ok());
  auto r = s.Post("/v1/collections/media/ingest", Json{{"path", "photos"}});
  EXPECT_EQ(r.status, 403);
  EXPECT_NE(r.body.find("--media-root"), std::string::npos) << r.body;
}

}  // namespace
}  // namespace mosaic::testing
