// The web UI's files (web/), embedded into the binary at build time (embed_web.cmake).
#pragma once

#include <string_view>
#include <vector>

namespace mosaic::server {

struct WebAsset {
  std::string_view path;  // relative to web/: "index.html", "app.js"
  std::string_view content_type;
  std::string_view bytes;
};

const std::vector<WebAsset>& WebAssets();

}  // namespace mosaic::server
