// docs/openapi.json and the server's native routes list the same operations.
#include <gtest/gtest.h>

#include <fstream>
#include <set>

#include "mosaic/db.h"
#include "server/server.h"
#include "util/fault_env.h"

namespace mosaic::testing {
namespace {

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

TEST(OpenApiTest, DocumentsEveryNativeRouteAndNoOther) {
  std::ifstream in(std::string(MOSAIC_SOURCE_DIR) + "/docs/openapi.json");
  ASSERT_TRUE(in) << "docs/openapi.json is missing";
  Json doc = Json::parse(in);
  std::set<std::pair<std::string, std::string>> documented;
  for (const auto& [path, ops] : doc["paths"].items())
    for (const auto& [method, op] : ops.items()) {
      documented.insert({method, path});
      EXPECT_TRUE(op.contains("summary")) << method << " " << path;
      EXPECT_TRUE(op.contains("responses")) << method << " " << path;
    }

  TempDir dir;
  auto db = Db::Open(dir.path());
  ASSERT_TRUE(db.ok());
  server::ServerOptions options;
  options.db_path = dir.path();
  server::ServerContext ctx(std::move(db.value()), options);
  server::Router router = server::AllRoutes(ctx);
  std::set<std::pair<std::string, std::string>> served;
  for (const auto& r : router.routes())
    if (r.pattern.starts_with("/v1/") || r.pattern == "/metrics")
      served.insert({Lower(r.method), r.pattern});
  ASSERT_GT(served.size(), 30u);

  for (const auto& op : served)
    EXPECT_TRUE(documented.count(op)) << "served, not in docs/openapi.json: " << op.first << " " << op.second;
  for (const auto& op : documented)
    EXPECT_TRUE(served.count(op)) << "in docs/openapi.json, not served: " << op.first << " " << op.second;
}

}  // namespace
}  // namespace mosaic::testing
