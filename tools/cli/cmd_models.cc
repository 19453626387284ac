// mosaic models list|info|add|pull|remove|verify
#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>

#include "cli.h"
#include "embed/registry/catalog.h"
#include "embed/registry/download.h"
#include "embed/registry/registry.h"

namespace mosaic::cli {
namespace {

using embed::ModelManifest;
using embed::ModelRegistry;

constexpr char kHelp[] =
    "usage:\n"
    "  mosaic models list [--json]\n"
    "  mosaic models info NAME [--json]\n"
    "  mosaic models pull NAME [--replace] [--retries N] [--connect-timeout SECONDS]\n"
    "  mosaic models add NAME --from DIR [--file ROLE=PATH ...] [--replace]\n"
    "  mosaic models add --manifest FILE [--from DIR] [--file ROLE=PATH ...] [--replace]\n"
    "  mosaic models remove NAME\n"
    "  mosaic models verify NAME\n"
    "  mosaic models train-text --collection C ...   (see mosaic models train-text --help)\n"
    "\n"
    "Installed models live in --models DIR, else $MOSAIC_MODELS, else\n"
    "$XDG_DATA_HOME/mosaic/models (default ~/.local/share/mosaic/models).\n"
    "\n"
    "list shows installed models and the built-in catalog's models that can be pulled.\n"
    "pull downloads a catalog model (resuming an interrupted download), checks every file's\n"
    "SHA-256 and installs it. $MOSAIC_MODEL_MIRROR=URL fetches catalog files from URL instead of\n"
    "their hosts (the URL path is kept), e.g. for sites without internet access.\n"
    "add installs from local files: a catalog model (files named as in `models info NAME`, or\n"
    "given one by one with --file ROLE=PATH; checked against the catalog's hashes) or any model\n"
    "described by a manifest file (format: docs/model_registry.md; --from defaults to the\n"
    "manifest's folder). A file the catalog has no hash for is recorded as installed (trust on\n"
    "first use). verify re-hashes an installed model's files.\n";

uint64_t TotalBytes(const ModelManifest& m) {
  uint64_t total = 0;
  for (const auto& f : m.files)
    total += f.bytes;
  return total;
}

std::string Modalities(const ModelManifest& m) {
  std::string out;
  for (auto mod : m.modalities)
    out += (out.empty() ? "" : ",") + std::string(embed::ModalityName(mod));
  return out;
}

// After an install, says which hashes were recorded rather than checked.
void ReportTrustOnFirstUse(const ModelManifest& requested, const ModelManifest& installed) {
  for (const auto& f : installed.files) {
    const embed::ModelFile* r = requested.FindFile(f.role);
    if (r != nullptr && r->sha256.empty())
      std::printf(
          "recorded sha256 %s for %s (no published hash to check against: trust on first "
          "use)\n",
          f.sha256.c_str(), f.path.c_str());
  }
}

void PrintInstalled(const ModelRegistry& reg, const ModelManifest& m) {
  std::printf("installed '%s' in %s (%zu files, %s)\n", m.name.c_str(),
              reg.ModelDir(m.name).c_str(), m.files.size(), HumanBytes(TotalBytes(m)).c_str());
}

int List(const ModelRegistry& reg, bool json) {
  std::vector<Status> problems;
  auto installed = reg.List(&problems);
  for (const auto& p : problems)
    std::fprintf(stderr, "mosaic: warning: %s\n", p.message().c_str());
  std::vector<std::pair<const ModelManifest*, bool>> rows;
  for (const auto& m : installed)
    rows.emplace_back(&m, true);
  for (const auto& m : embed::Catalog())
    if (!reg.Contains(m.name)) rows.emplace_back(&m, false);
  std::sort(rows.begin(), rows.end(),
            [](const auto& a, const auto& b) { return a.first->name < b.first->name; });
  if (json) {
    Json out = {{"dir", reg.dir()}, {"models", Json::array()}};
    for (const auto& [m, inst] : rows) {
      Json mods = Json::array();
      for (auto mod : m->modalities)
        mods.push_back(embed::ModalityName(mod));
      out["models"].push_back({{"name", m->name},
                               {"installed", inst},
                               {"in_catalog", embed::FindInCatalog(m->name) != nullptr},
                               {"family", m->family},
                               {"task", m->task},
                               {"modalities", mods},
                               {"dim", m->dim},
                               {"license", m->license},
                               {"bytes", inst ? Json(TotalBytes(*m)) : Json(nullptr)}});
    }
    std::printf("%s\n", out.dump(2).c_str());
    return kExitOk;
  }
  std::printf("models in %s\n", reg.dir().c_str());
  // Columns as wide as their longest value.
  int wname = 4, wfamily = 6, wtask = 4, wmod = 10;
  for (const auto& [m, inst] : rows) {
    wname = std::max<int>(wname, m->name.size());
    wfamily = std::max<int>(wfamily, m->family.size());
    wtask = std::max<int>(wtask, m->task.size());
    wmod = std::max<int>(wmod, Modalities(*m).size());
  }
  std::printf("%-*s  %-9s  %-*s  %-*s  %-*s  %5s  %10s\n", wname, "NAME", "STATUS", wfamily, "FAMILY", wtask,
              "TASK", wmod, "MODALITIES", "DIM", "SIZE");
  for (const auto& [m, inst] : rows)
    std::printf("%-*s  %-9s  %-*s  %-*s  %-*s  %5d  %10s\n", wname, m->name.c_str(),
                inst ? "installed" : "available", wfamily, m->family.c_str(), wtask, m->task.c_str(), wmod,
                Modalities(*m).c_str(), m->dim, inst ? HumanBytes(TotalBytes(*m)).c_str() : "-");
  bool any_available = false;
  for (const auto& row : rows)
    any_available |= !row.second;
  if (any_available) std::printf("(install an available model with `mosaic models pull NAME`)\n");
  return kExitOk;
}

int Info(const ModelRegistry& reg, const std::string& name, bool json) {
  std::optional<ModelManifest> m;
  bool installed = reg.Contains(name);
  if (installed) {
    auto got = reg.Get(name);
    if (!got.ok()) return Fail(got.status());
    m = std::move(got).value();
  } else if (const ModelManifest* c = embed::FindInCatalog(name)) {
    m = *c;
  } else {
    return Fail(reg.Get(name).status());
  }
  const std::string path = reg.ModelDir(name);
  if (json) {
    Json out = {{"installed", installed}, {"manifest", m->ToJson()}};
    if (installed) {
      out["path"] = path;
      Json files = Json::array();
      for (const auto& f : m->files)
        files.push_back({{"role", f.role}, {"path", path + "/" + f.path}});
      out["file_paths"] = files;
    }
    std::printf("%s\n", out.dump(2).c_str());
    return kExitOk;
  }
  std::printf("model: %s\n", m->name.c_str());
  if (installed)
    std::printf("installed: yes, in %s (%s)\n", path.c_str(), HumanBytes(TotalBytes(*m)).c_str());
  else
    std::printf("installed: no (in the catalog: `mosaic models pull %s`)\n", name.c_str());
  std::printf("family: %s\ntask: %s\nmodalities: %s\ndim: %d\nlicense: %s\nsource: %s\n",
              m->family.c_str(), m->task.c_str(), Modalities(*m).c_str(), m->dim,
              m->license.c_str(), m->source.c_str());
  if (!m->description.empty()) std::printf("description: %s\n", m->description.c_str());
  std::printf("files:\n");
  for (const auto& f : m->files) {
    std::printf("  %-11s %-40s %11s  sha256 %s\n", f.role.c_str(), f.path.c_str(),
                f.bytes ? HumanBytes(f.bytes).c_str() : "?",
                f.sha256.empty() ? "(recorded on first install)" : f.sha256.c_str());
    if (!installed && !f.url.empty()) std::printf("  %-11s from %s\n", "", f.url.c_str());
  }
  if (!m->preprocess.empty()) std::printf("preprocess: %s\n", m->preprocess.dump().c_str());
  return kExitOk;
}

// Parses repeated --file ROLE=PATH into a map.
Result<std::map<std::string, std::string>> FileOverrides(const Args& args) {
  std::map<std::string, std::string> out;
  for (const auto& v : args.GetAll("file")) {
    auto eq = v.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == v.size())
      return Status::InvalidArgument("--file expects ROLE=PATH, got '" + v + "'");
    out[v.substr(0, eq)] = v.substr(eq + 1);
  }
  return out;
}

Result<ModelManifest> ReadManifestFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("cannot read manifest " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  auto j = Json::parse(ss.str(), nullptr, false);
  if (j.is_discarded()) return Status::InvalidArgument(path + " is not valid JSON");
  auto m = ModelManifest::FromJson(j);
  if (!m.ok()) return m.status().WithContext(path);
  return m;
}

int Add(const ModelRegistry& reg, const std::optional<std::string>& name, const Args& args) {
  auto overrides = FileOverrides(args);
  if (!overrides.ok()) return Usage(overrides.status().message(), kHelp);
  ModelManifest manifest;
  std::string from = args.GetOr("from", "");
  if (auto mf = args.Get("manifest")) {
    auto m = ReadManifestFile(*mf);
    if (!m.ok()) return Fail(m.status());
    manifest = std::move(m).value();
    if (name && *name != manifest.name)
      return Usage("models add: NAME '" + *name + "' differs from the manifest's name '" +
                       manifest.name + "'",
                   kHelp);
    if (from.empty()) from = std::filesystem::path(*mf).parent_path().string();
    if (from.empty()) from = ".";
  } else {
    if (!name) return Usage("models add: give NAME --from DIR, or --manifest FILE", kHelp);
    const ModelManifest* c = embed::FindInCatalog(*name);
    if (c == nullptr)
      return Fail(Status::NotFound("model '" + *name + "' is not in the catalog (" +
                                   embed::CatalogNames() +
                                   "); describe it in a manifest and use --manifest FILE"));
    if (from.empty() && overrides->size() < c->files.size())
      return Usage("models add " + *name + ": missing --from DIR", kHelp);
    manifest = *c;
  }
  ModelRegistry::AddOptions options;
  options.replace = args.Has("replace");
  options.sources = *overrides;
  auto installed = reg.Add(manifest, from, options);
  if (!installed.ok()) {
    Status s = installed.status();
    if (s.IsAlreadyExists())
      s = Status::AlreadyExists(s.message() + " (use --replace to reinstall)");
    return Fail(s);
  }
  ReportTrustOnFirstUse(manifest, *installed);
  PrintInstalled(reg, *installed);
  return kExitOk;
}

int Pull(const ModelRegistry& reg, const std::string& name, const Args& args) {
  const ModelManifest* c = embed::FindInCatalog(name);
  if (c == nullptr)
    return Fail(Status::NotFound("model '" + name +
                                 "' is not in the catalog; known: " + embed::CatalogNames()));
  if (reg.Contains(name) && !args.Has("replace")) {
    std::printf(
        "model '%s' is already installed in %s (`mosaic models verify %s` checks it; "
        "--replace downloads it again)\n",
        name.c_str(), reg.ModelDir(name).c_str(), name.c_str());
    return kExitOk;
  }
  embed::DownloadOptions options;
  auto retries = args.GetInt("retries", options.retries);
  auto timeout = args.GetInt("connect-timeout", options.connect_timeout_seconds);
  if (!retries.ok() || *retries < 0) return Usage("--retries expects a count >= 0", kHelp);
  if (!timeout.ok() || *timeout <= 0) return Usage("--connect-timeout expects seconds > 0", kHelp);
  options.retries = static_cast<int>(*retries);
  options.connect_timeout_seconds = static_cast<long>(*timeout);
  options.offline_hint =
      "no network access? copy the files to this machine and use `mosaic models add " + name +
      " --from DIR`";
  const std::string mirror = embed::MirrorFromEnv();
  if (!mirror.empty()) std::fprintf(stderr, "using mirror %s\n", mirror.c_str());

  const std::string staging = reg.DownloadDir(name);
  for (const auto& f : c->files) {
    if (f.url.empty())
      return Fail(Status::NotFound("catalog model '" + name + "' has no download URL for " +
                                   f.path + "; install it with `mosaic models add`"));
    const std::string dest = staging + "/" + f.path;
    std::error_code ec;
    if (std::filesystem::exists(dest, ec)) {
      // Finished by an earlier pull that stopped before installing.
      auto have = embed::Sha256File(dest);
      if (have.ok() && (f.sha256.empty() || *have == f.sha256)) continue;
      std::filesystem::remove(dest, ec);
    }
    const std::string url = embed::ApplyMirror(f.url, mirror);
    std::optional<Progress> bar;
    auto on_progress = [&](uint64_t done, uint64_t total) {
      if (!bar && done == 0 && total == 0) return;  // not connected yet
      if (!bar) bar.emplace("bytes of " + f.path, total ? total : f.bytes);
      bar->Update(done);
    };
    std::fprintf(stderr, "downloading %s\n", url.c_str());
    Status s = embed::DownloadFile(url, dest, f.sha256, on_progress, options);
    if (!s.ok()) {
      // Partial files stay for the next pull to resume; empty folders do not.
      std::filesystem::remove(staging, ec);
      std::filesystem::remove(std::filesystem::path(staging).parent_path(), ec);
      return Fail(s);
    }
    if (bar) bar->Finish();
  }
  ModelRegistry::AddOptions add;
  add.replace = args.Has("replace");
  add.move = true;
  auto installed = reg.Add(*c, staging, add);
  if (!installed.ok()) return Fail(installed.status());
  std::error_code ec;
  std::filesystem::remove_all(staging, ec);
  std::filesystem::remove(std::filesystem::path(staging).parent_path(), ec);  // only if empty
  ReportTrustOnFirstUse(*c, *installed);
  PrintInstalled(reg, *installed);
  return kExitOk;
}

}  // namespace

int RunModels(Args& args) {
  // train-text has flags of its own (cmd_train_text.cc).
  if (Args peek = args; peek.Next() == "train-text") return RunModelsTrainText(peek);
  if (auto rc = CheckFlags(
          args,
          {"models", "json", "from", "manifest", "file", "replace", "retries", "connect-timeout"},
          kHelp))
    return *rc;
  auto verb = args.Next();
  if (!verb) return Usage("models: missing subcommand", kHelp);
  if (*verb != "list" && *verb != "info" && *verb != "add" && *verb != "pull" &&
      *verb != "remove" && *verb != "verify")
    return Usage("models: unknown subcommand '" + *verb + "'", kHelp);
  auto name = args.Next();
  if (*verb != "list" && *verb != "add" && !name)
    return Usage("models " + *verb + ": missing NAME", kHelp);
  if (*verb == "list" && name) return Usage("models list: unexpected '" + *name + "'", kHelp);
  if (auto extra = args.Next())
    return Usage("models " + *verb + ": unexpected '" + *extra + "'", kHelp);

  auto reg = ModelRegistry::Open(args.GetOr("models", ModelRegistry::DefaultDir()));
  if (!reg.ok()) return Fail(reg.status());
  const bool json = args.Has("json");
  if (*verb == "list") return List(*reg, json);
  if (*verb == "info") return Info(*reg, *name, json);
  if (*verb == "add") return Add(*reg, name, args);
  if (*verb == "pull") return Pull(*reg, *name, args);
  if (*verb == "remove") {
    Status s = reg->Remove(*name);
    if (!s.ok()) return Fail(s);
    std::printf("removed model '%s'\n", name->c_str());
    return kExitOk;
  }
  auto m = reg->Get(*name);
  if (!m.ok()) return Fail(m.status());
  Status s = reg->Verify(*name);
  if (!s.ok()) return Fail(s);
  std::printf("model '%s': %zu files verified (%s)\n", name->c_str(), m->files.size(),
              HumanBytes(TotalBytes(*m)).c_str());
  return kExitOk;
}

}  // namespace mosaic::cli
