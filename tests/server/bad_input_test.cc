// The bad-input matrix (issue 14, docs/reliability.md): hostile and broken input through the
// library, the CLI and HTTP. Every case must get a clear error naming the problem (and the value
// where there is one): a Status from the library, a non-zero exit and a message from the CLI, a
// 4xx with a JSON error from the server. After each group the data already stored is checked to
// be intact, and the server to be serving.
#include <gtest/gtest.h>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <atomic>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <thread>
#include <vector>

#include "mosaic/db.h"
#include "mosaic/filter.h"
#include "server_test_util.h"
#include "util/cli_run.h"
#include "util/paths.h"
#include "util/fault_env.h"

namespace mosaic::testing {
namespace {

namespace fs = std::filesystem;
constexpr int kDim = 4;
constexpr int kPoints = 20;

std::vector<float> VectorOf(int i) {
  return {static_cast<float>(i), static_cast<float>(i % 3), 1.0f, -static_cast<float>(i) / 2};
}

Json StoredPoints() {
  Json points = Json::array();
  for (int i = 1; i <= kPoints; ++i)
    points.push_back({{"id", i}, {"vector", VectorOf(i)}, {"payload", {{"n", i}}}});
  return points;
}

// The CRC-32 of PNG chunks (ISO 3309), bit by bit.
uint32_t Crc32(const std::string& bytes) {
  uint32_t c = 0xffffffffu;
  for (unsigned char b : bytes) {
    c ^= b;
    for (int k = 0; k < 8; ++k) c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
  }
  return c ^ 0xffffffffu;
}

// A string of `depth` nested arrays: [[[...]]].
std::string Nested(size_t depth) { return std::string(depth, '[') + std::string(depth, ']'); }

// Sends raw bytes on a new connection and returns what comes back until the server closes it
// or `wait` passes.
std::string RawExchange(uint16_t port, const std::string& bytes, std::chrono::seconds wait) {
  namespace net = boost::asio;
  net::io_context ioc;
  net::ip::tcp::socket socket(ioc);
  boost::system::error_code ec;
  socket.connect({net::ip::make_address("127.0.0.1"), port}, ec);
  if (ec) return "connect failed: " + ec.message();
  net::write(socket, net::buffer(bytes), ec);
  std::string got;
  std::atomic<bool> done{false};
  std::thread reader([&] {
    char buf[4096];
    for (;;) {
      size_t n = socket.read_some(net::buffer(buf), ec);
      if (ec) break;
      got.append(buf, n);
    }
    done = true;
  });
  auto deadline = std::chrono::steady_clock::now() + wait;
  while (!done && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  socket.shutdown(net::ip::tcp::socket::shutdown_both, ec);
  socket.close(ec);
  reader.join();
  return got;
}

// ---- Library ------------------------------------------------------------------------------

class LibraryBadInput : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = Db::Open(dir_.path() + "/db");
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(db).value();
    CollectionSchema schema;
    schema.vectors.push_back({"v", kDim, Metric::kL2});
    auto c = db_->CreateCollection("items", schema);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    c_ = c.value();
    std::vector<Point> points;
    for (int i = 1; i <= kPoints; ++i)
      points.push_back({PointId(static_cast<uint64_t>(i)), {{"v", VectorOf(i)}}, {{"n", i}}});
    ASSERT_TRUE(c_->Upsert(points).ok());
  }

  // Everything stored before is still there, unchanged.
  void ExpectIntact() {
    auto n = c_->Count();
    ASSERT_TRUE(n.ok());
    EXPECT_EQ(n.value(), static_cast<uint64_t>(kPoints));
    std::vector<PointId> ids;
    for (int i = 1; i <= kPoints; ++i) ids.emplace_back(static_cast<uint64_t>(i));
    auto got = c_->Get(ids, true, true);
    ASSERT_TRUE(got.ok());
    ASSERT_EQ(got.value().size(), static_cast<size_t>(kPoints));
    for (const Point& p : got.value()) {
      int i = static_cast<int>(p.id.num());
      EXPECT_EQ(p.vectors.at("v"), VectorOf(i));
      EXPECT_EQ(p.payload["n"], i);
    }
  }

  TempDir dir_;
  std::unique_ptr<Db> db_;
  std::shared_ptr<Collection> c_;
};

void ExpectError(const Status& s, StatusCode code, std::initializer_list<const char*> says) {
  EXPECT_EQ(s.code(), code) << s.ToString();
  for (const char* w : says) EXPECT_NE(s.message().find(w), std::string::npos) << "'" << w << "' not in: " << s.ToString();
}

TEST_F(LibraryBadInput, VectorsIdsNamesFiltersAndSnapshots) {
  const float nan = std::numeric_limits<float>::quiet_NaN();
  const float inf = std::numeric_limits<float>::infinity();
  struct Case {
    const char* name;
    std::vector<float> vector;
    std::initializer_list<const char*> says;
  };
  // Upserts of one bad point in a batch with a good one: the batch is refused whole.
  for (const Case& k : {Case{"wrong dimension", {1, 2, 3}, {"3", "4"}},
                        Case{"NaN", {1, nan, 0, 0}, {"v"}},
                        Case{"Inf", {1, 0, inf, 0}, {"v"}},
                        Case{"-Inf", {-inf, 0, 0, 0}, {"v"}},
                        Case{"empty", {}, {"0", "4"}},
                        Case{"huge", std::vector<float>(1 << 20, 1.0f), {"1048576", "4"}}}) {
    SCOPED_TRACE(k.name);
    std::vector<Point> batch = {{PointId(uint64_t{100}), {{"v", VectorOf(100)}}, {}},
                                {PointId(uint64_t{101}), {{"v", k.vector}}, {}}};
    ExpectError(c_->Upsert(batch), StatusCode::kInvalidArgument, k.says);
    EXPECT_TRUE(c_->Get(std::vector<PointId>{PointId(uint64_t{100})}).value().empty());
  }
  // A vector name the schema does not have.
  ExpectError(c_->Upsert(std::vector<Point>{{PointId(uint64_t{102}), {{"w", VectorOf(1)}}, {}}}),
              StatusCode::kInvalidArgument, {"w"});
  // An empty string id.
  ExpectError(c_->Upsert(std::vector<Point>{{PointId(std::string()), {{"v", VectorOf(1)}}, {}}}),
              StatusCode::kInvalidArgument, {"id"});
  // A payload that is not an object.
  ExpectError(c_->Upsert(std::vector<Point>{{PointId(uint64_t{103}), {{"v", VectorOf(1)}}, Json::array()}}),
              StatusCode::kInvalidArgument, {"payload"});

  // Searches with a bad query vector.
  for (const Case& k : {Case{"wrong dimension", {1, 2}, {"2", "4"}},
                        Case{"NaN", {nan, 0, 0, 0}, {}},
                        Case{"empty", {}, {"0", "4"}}}) {
    SCOPED_TRACE(std::string("search: ") + k.name);
    SearchRequest r;
    r.vector = k.vector;
    auto hits = c_->Search(r);
    ASSERT_FALSE(hits.ok());
    ExpectError(hits.status(), StatusCode::kInvalidArgument, k.says);
  }

  // Collections: unknown, and names that would leave the database's folder.
  ExpectError(db_->GetCollection("nope").status(), StatusCode::kNotFound, {"nope"});
  CollectionSchema schema;
  schema.vectors.push_back({"v", kDim, Metric::kL2});
  for (const char* name : {"../evil", "a/b", "", ".", "..", "x\n"}) {
    SCOPED_TRACE(name);
    EXPECT_EQ(db_->CreateCollection(name, schema).status().code(), StatusCode::kInvalidArgument);
  }
  EXPECT_FALSE(fs::exists(dir_.path() + "/evil"));
  CollectionSchema zero;
  zero.vectors.push_back({"v", 0, Metric::kL2});
  EXPECT_EQ(db_->CreateCollection("zero", zero).status().code(), StatusCode::kInvalidArgument);

  // Filters: not a filter, unknown operator, nesting deeper than any real filter.
  EXPECT_FALSE(Filter::FromJson(Json::parse(R"({"must": 3})")).ok());
  EXPECT_FALSE(Filter::FromJson(Json::parse(R"({"must": [{"key": "n", "frobnicate": 1}]})")).ok());
  Json deep = {{"key", "n"}, {"match", {{"value", 1}}}};
  for (int i = 0; i < 100000; ++i) deep = Json{{"must", Json::array({std::move(deep)})}};
  auto f = Filter::FromJson(deep);
  ASSERT_FALSE(f.ok());
  EXPECT_NE(f.status().message().find("deep"), std::string::npos) << f.status().ToString();

  // Snapshots: zero bytes, garbage, a real one cut short, a missing file.
  const std::string snap = dir_.path() + "/items.snapshot";
  ASSERT_TRUE(db_->CreateSnapshot("items", snap).ok());
  std::string whole;
  {
    std::ifstream in(snap, std::ios::binary);
    whole.assign(std::istreambuf_iterator<char>(in), {});
  }
  ASSERT_GT(whole.size(), 64u);
  const std::vector<std::pair<const char*, std::string>> bad_snapshots = {
      {"zero bytes", ""},
      {"garbage", std::string(4096, '\x5a')},
      {"cut in half", whole.substr(0, whole.size() / 2)},
      // The last byte of the archive's last member (a tar archive ends in zero blocks, which
      // hold nothing and are not checked).
      {"last member's byte flipped", [&] {
         std::string bad = whole;
         const size_t end = bad.find_last_not_of('\0');
         bad[end] = static_cast<char>(bad[end] ^ 0x40);
         return bad;
       }()}};
  for (const auto& [what, bytes] : bad_snapshots) {
    SCOPED_TRACE(what);
    const std::string path = dir_.path() + "/bad.snapshot";
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
    auto restored = db_->RestoreSnapshot(path, "restored");
    EXPECT_FALSE(restored.ok()) << what;
    EXPECT_EQ(db_->GetCollection("restored").status().code(), StatusCode::kNotFound);
  }
  EXPECT_FALSE(db_->RestoreSnapshot(dir_.path() + "/missing.snapshot", "restored").ok());
  ExpectIntact();

  // And after a reopen.
  c_.reset();
  db_.reset();
  auto db = Db::Open(dir_.path() + "/db");
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  db_ = std::move(db).value();
  c_ = db_->GetCollection("items").value();
  ExpectIntact();
}

// ---- HTTP ---------------------------------------------------------------------------------

class HttpBadInput : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(media_.path() + "/photos");
    server::ServerOptions o;
    o.media_root = media_.path();
    o.http.read_timeout = std::chrono::seconds(2);
    o.http.max_body_bytes = 8u << 20;
    server_ = std::make_unique<TestServer>(dir_.path(), o);
    ASSERT_TRUE(server_->ok());
    auto r = server_->Post("/v1/collections",
                           Json{{"name", "items"}, {"schema", {{"vectors", {{{"name", "v"}, {"dim", kDim}}}}}}});
    ASSERT_EQ(r.status, 201) << r.body;
    r = server_->Put("/v1/collections/items/points", Json{{"points", StoredPoints()}});
    ASSERT_EQ(r.status, 200) << r.body;
  }

  void ExpectServingAndIntact() {
    auto r = server_->Get("/v1/health");
    ASSERT_EQ(r.status, 200) << r.body;
    r = server_->Post("/v1/collections/items/points/count", Json::object());
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.json()["count"], kPoints);
    Json ids = Json::array();
    for (int i = 1; i <= kPoints; ++i) ids.push_back(i);
    r = server_->Post("/v1/collections/items/points/get", Json{{"ids", ids}, {"with_vector", true}});
    ASSERT_EQ(r.status, 200) << r.body;
    const Json got = r.json();  // kept: a loop over r.json()["points"] would outlive it
    for (const Json& p : got["points"]) {
      int i = p["id"].get<int>();
      EXPECT_EQ(p["vectors"]["v"].get<std::vector<float>>(), VectorOf(i));
      EXPECT_EQ(p["payload"]["n"], i);
    }
  }

  TempDir dir_, media_;
  std::unique_ptr<TestServer> server_;
};

TEST_F(HttpBadInput, EveryCaseIsA4xxNamingTheProblemAndNothingIsLost) {
  const std::string q = "/v1/collections/items/query";
  const std::string pts = "/v1/collections/items/points";
  auto point = [](const std::string& vector_json) {
    return R"({"points": [{"id": 500, "vector": [1, 2, 3, 4]}, {"id": 501, "vector": )" +
           vector_json + "}]}";
  };
  auto id_point = [](const std::string& id_json) {
    return R"({"points": [{"id": )" + id_json + R"(, "vector": [1, 2, 3, 4]}]})";
  };
  std::string huge_vector = "[";
  for (int i = 0; i < 200000; ++i) huge_vector += i ? ",1" : "1";
  huge_vector += "]";
  struct Case {
    const char* name;
    const char* method;
    std::string target;
    std::string body;
    int status;
    std::vector<std::string> says;  // each must be in the error message
  };
  const std::vector<Case> cases = {
      {"invalid JSON", "POST", q, "{\"query\": ", 400, {"not valid JSON"}},
      {"JSON of the wrong type", "POST", q, "[1, 2]", 400, {}},
      {"deeply nested JSON", "POST", q, "{\"query\": " + Nested(100000) + "}", 400, {}},
      {"unknown field", "POST", q, R"({"quer": {"nearest": [1, 2, 3, 4]}})", 400, {"quer"}},
      {"unknown field in a point", "PUT", pts, R"({"points": [{"id": 1, "vektor": [1, 2, 3, 4]}]})", 400, {"vektor"}},
      {"wrong dimension (upsert)", "PUT", pts, point("[1, 2, 3]"), 400, {"3", "4"}},
      {"wrong dimension (query)", "POST", q, R"({"query": {"nearest": [1, 2]}})", 400, {"2", "4"}},
      {"Inf (upsert)", "PUT", pts, point("[1e999, 0, 0, 0]"), 400, {"1e999"}},
      {"-Inf (query)", "POST", q, R"({"query": {"nearest": [-1e999, 0, 0, 0]}})", 400, {"1e999"}},
      {"NaN is not JSON", "PUT", pts, point("[NaN, 0, 0, 0]"), 400, {"not valid JSON"}},
      {"empty vector", "PUT", pts, point("[]"), 400, {"0", "4"}},
      {"huge vector", "PUT", pts, point(huge_vector), 400, {"200000"}},
      {"vector of strings", "PUT", pts, point(R"(["a", "b", "c", "d"])"), 400, {}},
      {"id: an empty string", "PUT", pts, id_point("\"\""), 400, {"id"}},
      {"id: no UUID (Qdrant)", "PUT", "/collections/items/points", id_point("\"abc\""), 400, {"abc"}},
      {"id: negative", "PUT", pts, id_point("-1"), 400, {"-1"}},
      {"id: fractional", "PUT", pts, id_point("1.5"), 400, {"1.5"}},
      {"id: boolean", "PUT", pts, id_point("true"), 400, {"true"}},
      {"id: past 64 bits", "PUT", pts, id_point("18446744073709551616"), 400, {}},
      {"limit: negative", "POST", q, R"({"limit": -1})", 400, {"limit"}},
      {"limit: a string", "POST", q, R"({"limit": "ten"})", 400, {"limit"}},
      {"filter: unknown operator", "POST", q, R"({"filter": {"must": [{"key": "n", "frobnicate": 1}]}})", 400, {"frobnicate"}},
      {"filter: nested too deep", "POST", q, "{\"filter\": " + [] {
         std::string f = R"({"key": "n", "match": {"value": 1}})";
         for (int i = 0; i < 3000; ++i) f = "{\"must\": [" + f + "]}";
         return f;
       }() + "}", 400, {"deep"}},
      {"unknown collection (query)", "POST", "/v1/collections/nope/query", "{}", 404, {"nope"}},
      {"unknown collection (upsert)", "PUT", "/v1/collections/nope/points", point("[1, 2, 3, 4]"), 404, {"nope"}},
      {"unknown collection (Qdrant search)", "POST", "/collections/nope/points/search",
       R"({"vector": [1, 2, 3, 4], "limit": 1})", 404, {"nope"}},
      {"collection name leaving the folder", "POST", "/v1/collections",
       R"({"name": "../evil", "schema": {"vectors": [{"name": "v", "dim": 4}]}})", 400, {"../evil"}},
      {"query by a server file path", "POST", q, R"({"query": {"nearest": {"image": "/etc/passwd"}}})", 400, {}},
      {"query image not base64", "POST", q, R"({"query": {"nearest": {"image_base64": "%%%not base64%%%"}}})", 400, {}},
      {"ingest: leaving the media root", "POST", "/v1/collections/items/ingest", R"({"path": "../../etc"})", 403, {"../../etc"}},
      {"ingest: an absolute path", "POST", "/v1/collections/items/ingest", R"({"path": "/etc"})", 400, {"/etc"}},
      {"ingest: a missing folder", "POST", "/v1/collections/items/ingest", R"({"path": "nothing-here"})", 404, {"nothing-here"}},
      {"snapshot restore: a path", "POST", "/v1/snapshots/restore",
       R"({"snapshot": "../../db/items.snapshot", "name": "x"})", 400, {}},
      {"snapshot restore: missing", "POST", "/v1/snapshots/restore",
       R"({"snapshot": "none.snapshot", "name": "x"})", 404, {"none.snapshot"}},
      {"media of a missing point", "GET", "/v1/collections/items/points/999/media", "", 404, {"999"}},
      {"media through a dotted path", "GET", "/v1/collections/items/points/..%2F..%2Fetc%2Fpasswd/media", "", 404, {}},
      {"a method the route lacks", "PATCH", q, "{}", 405, {"PATCH"}},
  };
  ASSERT_GE(cases.size(), 35u);
  for (const Case& k : cases) {
    SCOPED_TRACE(k.name);
    auto r = server_->Send(k.method, k.target, k.body);
    EXPECT_EQ(r.status, k.status) << r.body.substr(0, 500);
    if (r.status >= 400 && r.status != 405) {
      Json j = Json::parse(r.body, nullptr, false);
      ASSERT_FALSE(j.is_discarded()) << r.body.substr(0, 500);
      std::string message = j.contains("error") && j["error"].is_object()
                                ? j["error"].value("message", "")
                                : j.dump();
      EXPECT_FALSE(message.empty()) << r.body.substr(0, 500);
      for (const std::string& w : k.says)
        EXPECT_NE(message.find(w), std::string::npos) << "'" << w << "' not in: " << message.substr(0, 500);
    }
  }
  ExpectServingAndIntact();
  EXPECT_FALSE(fs::exists(dir_.path() + "/../evil"));
}

TEST_F(HttpBadInput, OversizedBodiesAndSlowClientsDoNotStopTheServer) {
  const uint16_t port = server_->port();
  // A body announced at 1 GB: refused from its header, before it is sent.
  auto start = std::chrono::steady_clock::now();
  std::string got = RawExchange(
      port,
      "PUT /v1/collections/items/points HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
      "Content-Length: 1073741824\r\n\r\n{\"points\": [",
      std::chrono::seconds(10));
  EXPECT_NE(got.find("HTTP/1.1 413"), std::string::npos) << got.substr(0, 300);
  EXPECT_NE(got.find("8388608"), std::string::npos) << got.substr(0, 600);  // names the limit
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  // Garbage instead of HTTP.
  got = RawExchange(port, std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11) + "\r\n\r\n",
                    std::chrono::seconds(5));
  EXPECT_NE(got.find("HTTP/1.1 400"), std::string::npos) << got.substr(0, 300);

  // Slow clients (slowloris): 20 connections sending a header byte every 200 ms. Others are
  // served meanwhile, and each slow one is cut off at the 2 s request deadline.
  std::atomic<bool> stop{false};
  std::atomic<int> cut_off{0};
  std::vector<std::thread> slow;
  for (int i = 0; i < 20; ++i) {
    slow.emplace_back([&] {
      namespace net = boost::asio;
      net::io_context ioc;
      net::ip::tcp::socket s(ioc);
      boost::system::error_code ec;
      s.connect({net::ip::make_address("127.0.0.1"), port}, ec);
      const std::string header = "GET /v1/health HTTP/1.1\r\nHost: x\r\nX-Slow: " + std::string(200, 'a');
      for (char c : header) {
        if (stop) break;
        net::write(s, net::buffer(&c, 1), ec);
        if (ec) {
          ++cut_off;
          return;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  HttpClient other(port);
  int served = 0;
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  while (std::chrono::steady_clock::now() < until) {
    auto r = other.Post("/v1/collections/items/query",
                        R"({"query": {"nearest": [1, 1, 1, 1]}, "limit": 3})");
    if (r.status == 200) ++served;
  }
  std::this_thread::sleep_for(std::chrono::seconds(2));  // past the deadline, writes fail
  stop = true;
  for (auto& t : slow) t.join();
  EXPECT_GT(served, 20);
  EXPECT_EQ(cut_off, 20);
  ExpectServingAndIntact();
}

TEST_F(HttpBadInput, DropWhileSearchingAndWriting) {
  auto r = server_->Post("/v1/collections",
                         Json{{"name", "victim"}, {"schema", {{"vectors", {{{"name", "v"}, {"dim", kDim}}}}}}});
  ASSERT_EQ(r.status, 201) << r.body;
  ASSERT_EQ(server_->Put("/v1/collections/victim/points", Json{{"points", StoredPoints()}}).status, 200);
  std::atomic<bool> stop{false};
  std::atomic<int> ok{0}, gone{0}, other{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 4; ++t) {
    clients.emplace_back([&, t] {
      HttpClient c(server_->port());
      int i = 0;
      while (!stop) {
        auto res = t % 2 ? c.Post("/v1/collections/victim/query", R"({"query": {"nearest": [1, 2, 3, 4]}})")
                         : c.Put("/v1/collections/victim/points",
                                 R"({"points": [{"id": )" + std::to_string(1000 + i++) + R"(, "vector": [1, 2, 3, 4]}]})");
        if (res.status == 200) ++ok;
        else if (res.status == 404) ++gone;
        else ++other;
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  r = server_->Delete("/v1/collections/victim");
  EXPECT_EQ(r.status, 200) << r.body;
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  stop = true;
  for (auto& t : clients) t.join();
  EXPECT_GT(ok, 0);
  EXPECT_GT(gone, 0);
  EXPECT_EQ(other, 0);
  EXPECT_EQ(server_->Post("/v1/collections/victim/query", "{}").status, 404);
  ExpectServingAndIntact();
}

// ---- CLI ----------------------------------------------------------------------------------

TEST(CliBadInput, ErrorsNameTheProblemAndExitNonZero) {
  TempDir tmp;
  const std::string db = tmp.path() + "/db";
  {
    std::ofstream f(tmp.path() + "/good.jsonl");
    for (const Json& p : StoredPoints()) f << p.dump() << "\n";
  }
  CliRun r = RunMosaic("--db " + db + " collection create items --vector v:4");
  ASSERT_EQ(r.code, 0) << r.all();
  r = RunMosaic("--db " + db + " upsert --collection items " + tmp.path() + "/good.jsonl");
  ASSERT_EQ(r.code, 0) << r.all();

  {
    std::ofstream f(tmp.path() + "/bad.jsonl");
    f << R"({"id": 900, "vector": [1, 2, 3]})" << "\n"
      << R"({"id": 901, "vector": [1, 2, 3, 4], )" << "\n"
      << R"({"id": -3, "vector": [1, 2, 3, 4]})" << "\n"
      << R"({"id": 902, "vector": [1e999, 2, 3, 4]})" << "\n";
  }
  struct Case {
    const char* name;
    std::string args;
    std::vector<std::string> says;
  };
  const std::vector<Case> cases = {
      {"bad lines in a JSONL file", "--db " + db + " upsert --collection items " + tmp.path() + "/bad.jsonl",
       {"bad.jsonl:1:", "3 dims", "bad.jsonl:2:", "bad.jsonl:3:", "bad.jsonl:4:"}},
      {"a missing input file", "--db " + db + " upsert --collection items " + tmp.path() + "/none.jsonl",
       {"none.jsonl"}},
      {"unknown collection", "--db " + db + " search --collection nope --vector '[1,2,3,4]'", {"nope"}},
      {"wrong query dimension", "--db " + db + " search --collection items --vector '[1,2]'", {"2", "4"}},
      {"negative limit", "--db " + db + " search --collection items --vector '[1,2,3,4]' --limit -1", {"limit"}},
      {"not a vector", "--db " + db + " search --collection items --vector '[1,x,3,4]'", {"--vector"}},
      {"bad filter JSON", "--db " + db + " count --collection items --filter '{\"must\": '", {"filter"}},
      {"port out of range", "--db " + db + " serve --port 70000", {"70000"}},
      {"unknown flag", "--db " + db + " search --collection items --frobnicate", {"frobnicate"}},
      {"database path is a file", "--db " + tmp.path() + "/good.jsonl count --collection items", {"good.jsonl"}},
      {"collection name leaving the folder", "--db " + db + " collection create ../evil --dim 4", {"../evil"}},
  };
  for (const Case& k : cases) {
    SCOPED_TRACE(k.name);
    r = RunMosaic(k.args);
    EXPECT_NE(r.code, 0) << r.all();
    EXPECT_NE(r.code, -1) << "killed by a signal: " << r.all();
    for (const std::string& w : k.says)
      EXPECT_NE(r.all().find(w), std::string::npos) << "'" << w << "' not in: " << r.all().substr(0, 800);
  }
  r = RunMosaic("--db " + db + " count --collection items");
  EXPECT_EQ(r.code, 0) << r.all();
  EXPECT_NE(r.out.find(std::to_string(kPoints)), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(tmp.path() + "/evil"));
}

// Broken media in an ingested folder: each bad file is reported with its problem and skipped,
// the good ones are stored.
TEST(CliBadInput, IngestReportsAndSkipsBrokenMedia) {
  TempDir tmp;
  const std::string models = tmp.path() + "/models";
  const std::string from = OfflineModelsDir() + "/visual-descriptor";
  CliRun r = RunMosaic("models add --manifest " + from + "/manifest.json --from " + from +
                       " --models " + models);
  ASSERT_EQ(r.code, 0) << r.all();
  const std::string in = tmp.path() + "/in";
  fs::create_directories(in);
  const std::string photo = DataDir() + "/skimage/coffee.png";
  fs::copy_file(photo, in + "/good.png");
  std::string png;
  {
    std::ifstream f(photo, std::ios::binary);
    png.assign(std::istreambuf_iterator<char>(f), {});
  }
  ASSERT_GT(png.size(), 1000u);
  auto write = [&](const std::string& name, const std::string& bytes) {
    std::ofstream(in + "/" + name, std::ios::binary) << bytes;
  };
  write("zero.jpg", "");
  write("truncated.png", png.substr(0, png.size() / 3));
  write("garbage.png", std::string(5000, '\x42'));
  write("text-named.jpg", "this is a text file, not a JPEG\n");
  // A PNG whose header claims 100000 x 100000 pixels (a decompression bomb): refused by size
  // before any pixel is decoded. Only the IHDR's width and height (and its CRC) differ from the
  // real file.
  std::string bomb = png;
  const unsigned char dims[8] = {0, 1, 0x86, 0xa0, 0, 1, 0x86, 0xa0};
  bomb.replace(16, 8, reinterpret_cast<const char*>(dims), 8);
  const uint32_t crc = Crc32(bomb.substr(12, 17));  // chunk type and data
  for (int i = 0; i < 4; ++i) bomb[29 + i] = static_cast<char>(crc >> (24 - 8 * i));
  write("bomb.png", bomb);
  write("notes.txt", "a plain note that is fine\n");
  const std::string db = tmp.path() + "/db";
  r = RunMosaic("--db " + db + " ingest " + in + " --collection c --models " + models + " --quiet");
  EXPECT_EQ(r.code, 1) << r.all();  // some files failed
  for (const char* name : {"zero.jpg", "truncated.png", "garbage.png", "text-named.jpg", "bomb.png"})
    EXPECT_NE(r.out.find(name), std::string::npos) << name << " not reported: " << r.out;
  EXPECT_NE(r.out.find("pixels"), std::string::npos) << "the bomb's size not named: " << r.out;
  r = RunMosaic("--db " + db + " count --collection c --filter '{\"must\":[{\"key\":\"kind\",\"match\":{\"value\":\"image\"}}]}'");
  EXPECT_EQ(r.code, 0) << r.all();
  EXPECT_EQ(r.out.substr(0, r.out.find_first_of(" \n")), "1") << r.out;
}

}  // namespace
}  // namespace mosaic::testing
