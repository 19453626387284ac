// Access control on every route the server has (issue 14): each route of the table, native and
// Qdrant, called with no key, a wrong key, the read-only key and the admin key. Public routes
// answer everyone; read routes refuse callers without a key (401) and answer the read key;
// write routes refuse the read key (403) and answer only the admin key. The route table comes
// from the server itself, so a new route is covered without changing this test.
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "mosaic/db.h"
#include "server/server.h"
#include "server_test_util.h"
#include "util/fault_env.h"

namespace mosaic::testing {
namespace {

// A concrete path for a route pattern: {c} a collection that does not exist (so no handler
// changes anything that matters), other parameters plain values.
std::string PathFor(const std::string& pattern) {
  static const std::map<std::string, std::string> values = {
      {"{c}", "no-such-collection"}, {"{id}", "1"},    {"{field}", "n"},
      {"{job}", "no-such-job"},      {"{person}", "1"}, {"{*path}", "index.html"}};
  std::string out;
  size_t i = 0;
  while (i < pattern.size()) {
    if (pattern[i] == '{') {
      size_t end = pattern.find('}', i);
      std::string name = pattern.substr(i, end + 1 - i);
      auto it = values.find(name);
      out += it != values.end() ? it->second : "x";
      i = end + 1;
    } else {
      out += pattern[i++];
    }
  }
  return out;
}

TEST(ServerAuthTest, EveryRouteEnforcesItsAccessClass) {
  TempDir dir, listing, media;
  // The route table, from a context of its own (a second server's router is the same table).
  auto db = Db::Open(listing.path());
  ASSERT_TRUE(db.ok());
  server::ServerOptions lo;
  lo.db_path = listing.path();
  server::ServerContext ctx(std::move(db.value()), lo);
  const server::Router router = server::AllRoutes(ctx);

  server::ServerOptions o;
  o.read_key = "reader-secret";
  o.admin_key = "admin-secret";
  o.media_root = media.path();  // else ingest answers 403 for another reason: jobs are off
  TestServer s(dir.path(), o);
  ASSERT_TRUE(s.ok());
  std::map<server::Access, int> checked;
  for (const auto& route : router.routes()) {
    const std::string path = PathFor(route.pattern);
    SCOPED_TRACE(route.method + " " + route.pattern + " -> " + path);
    const std::string body = route.method == "GET" || route.method == "DELETE" ? "" : "{}";
    auto as = [&](const std::map<std::string, std::string>& headers) {
      return s.Send(route.method, path, body, headers).status;
    };
    const int none = as({});
    const int wrong = as({{"api-key", "not-the-key"}});
    const int reader = as({{"api-key", "reader-secret"}});
    const int admin = as({{"Authorization", "Bearer admin-secret"}});
    ASSERT_GT(admin, 0) << "no answer";
    switch (route.access) {
      case server::Access::kPublic:
        for (int st : {none, wrong, reader, admin}) EXPECT_TRUE(st != 401 && st != 403) << st;
        break;
      case server::Access::kRead:
        EXPECT_EQ(none, 401);
        EXPECT_EQ(wrong, 401);
        EXPECT_TRUE(reader != 401 && reader != 403) << reader;
        EXPECT_TRUE(admin != 401 && admin != 403) << admin;
        break;
      case server::Access::kWrite:
        EXPECT_EQ(none, 401);
        EXPECT_EQ(wrong, 401);
        EXPECT_EQ(reader, 403);
        EXPECT_TRUE(admin != 401 && admin != 403) << admin;
        break;
    }
    ++checked[route.access];
  }
  EXPECT_GT(checked[server::Access::kPublic], 3);
  EXPECT_GT(checked[server::Access::kRead], 20);
  EXPECT_GT(checked[server::Access::kWrite], 20);
  EXPECT_EQ(s.Get("/v1/health").status, 200);
}

}  // namespace
}  // namespace mosaic::testing
