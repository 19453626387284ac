#include "query/input/text_vectors.h"

#include <unistd.h>

#include <filesystem>

#include "embed/registry/registry.h"
#include "ingest/layout.h"

namespace mosaic::query {

namespace {

void AppendStrings(const Json& v, std::string* out) {
  auto add = [&](const std::string& s) {
    if (s.empty()) return;
    if (!out->empty()) out->push_back('\n');
    out->append(s);
  };
  if (v.is_string()) {
    add(v.get<std::string>());
  } else if (v.is_array()) {
    for (const Json& e : v)
      if (e.is_string()) add(e.get<std::string>());
  }
}

const Json* Lookup(const Json& payload, const std::string& path) {
  const Json* v = &payload;
  size_t start = 0;
  while (true) {
    if (!v->is_object()) return nullptr;
    const size_t dot = path.find('.', start);
    auto it = v->find(path.substr(start, dot == std::string::npos ? dot : dot - start));
    if (it == v->end()) return nullptr;
    v = &*it;
    if (dot == std::string::npos) return v;
    start = dot + 1;
  }
}

// Calls fn(page) for every page of the collection's points.
template <typename Fn>
Status ForEachPage(const Collection& c, bool with_vectors, Fn&& fn) {
  ScrollRequest r;
  r.limit = 512;
  r.with_payload = true;
  r.with_vectors = with_vectors;
  while (true) {
    MOSAIC_ASSIGN_OR_RETURN(ScrollPage page, c.Scroll(r));
    MOSAIC_RETURN_IF_ERROR(fn(page.points));
    if (!page.next_offset) return Status::OK();
    r.offset = page.next_offset;
  }
}

}  // namespace

std::string PointText(const Json& payload, const std::vector<std::string>& fields) {
  std::string out;
  for (const std::string& f : fields)
    if (const Json* v = Lookup(payload, f)) AppendStrings(*v, &out);
  return out;
}

Result<embed::ModelManifest> TrainTextModel(const Collection& collection,
                                            const TextVectorOptions& options) {
  if (options.fields.empty())
    return Status::InvalidArgument("training text vectors needs at least one payload field");
  MOSAIC_ASSIGN_OR_RETURN(
      auto reg,
      embed::ModelRegistry::Open(options.models_dir.empty() ? embed::ModelRegistry::DefaultDir()
                                                            : options.models_dir));
  if (!options.replace && reg.Contains(options.train.name))
    return Status::AlreadyExists("model '" + options.train.name +
                                 "' is installed (replace it, or choose another name)");
  std::vector<std::string> texts;
  MOSAIC_RETURN_IF_ERROR(ForEachPage(collection, false, [&](const std::vector<Point>& points) {
    for (const Point& p : points)
      if (std::string t = PointText(p.payload, options.fields); !t.empty())
        texts.push_back(std::move(t));
    return Status::OK();
  }));
  if (texts.empty()) {
    std::string fields;
    for (const auto& f : options.fields)
      fields += (fields.empty() ? "" : ",") + f;
    return Status::InvalidArgument("collection '" + collection.name() +
                                   "' has no text in the fields " + fields);
  }
  // Trained in a folder of its own, then moved into the registry.
  const std::string dir =
      reg.dir() + "/.train-" + options.train.name + "-" + std::to_string(::getpid());
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  auto manifest = embed::TrainFastText(texts, dir, options.train);
  if (!manifest.ok()) {
    std::filesystem::remove_all(dir, ec);
    return manifest.status();
  }
  embed::ModelRegistry::AddOptions add;
  add.replace = options.replace;
  add.move = true;
  Result<embed::ModelManifest> installed = reg.Add(*manifest, dir, add);
  std::filesystem::remove_all(dir, ec);
  return installed;
}

Result<TextVectorCopy> WriteTextVectors(Db& db, const Collection& source, const std::string& target,
                                        const std::string& model,
                                        const TextVectorOptions& options) {
  const std::string vector = kFastTextRole;
  if (source.schema().Find(vector) != nullptr)
    return Status::AlreadyExists("collection '" + source.name() + "' already has a vector '" +
                                 vector + "'");
  MOSAIC_ASSIGN_OR_RETURN(
      auto reg,
      embed::ModelRegistry::Open(options.models_dir.empty() ? embed::ModelRegistry::DefaultDir()
                                                            : options.models_dir));
  MOSAIC_ASSIGN_OR_RETURN(auto manifest, reg.Get(model));
  MOSAIC_ASSIGN_OR_RETURN(auto encoder,
                          embed::FastTextEncoder::Open(manifest, reg.ModelDir(model)));
  CollectionSchema schema = source.schema();
  VectorSpec spec;
  spec.name = vector;
  spec.dim = static_cast<uint32_t>(manifest.dim);
  spec.metric = Metric::kCosine;
  spec.index = schema.vectors.front().index;  // as the collection's other vectors are searched
  schema.vectors.push_back(spec);
  MOSAIC_ASSIGN_OR_RETURN(auto copy, db.CreateCollection(target, schema));
  TextVectorCopy out;
  Status s = [&]() -> Status {
    for (const auto& [field, type] : source.PayloadIndexes())
      MOSAIC_RETURN_IF_ERROR(copy->CreatePayloadIndex(field, type));
    bool has_record = false;
    MOSAIC_RETURN_IF_ERROR(ForEachPage(source, true, [&](std::vector<Point> points) {
      for (Point& p : points) {
        if (!p.id.is_num() && p.id.str() == ingest::kIngestRecordId) {
          p.payload["encoders"][kFastTextRole] = model;
          has_record = true;
        } else if (auto v = encoder->EncodeText(PointText(p.payload, options.fields)); !v.empty()) {
          p.vectors[vector] = std::move(v);
          ++out.with_vector;
        }
        ++out.points;
      }
      return copy->Upsert(points);
    }));
    if (!has_record) {
      // The record MediaInputEncoder reads the models from (ingest writes it for its collections).
      Point record;
      record.id = PointId(std::string(ingest::kIngestRecordId));
      record.payload = {{"kind", "meta"}, {"encoders", {{kFastTextRole, model}}}};
      MOSAIC_RETURN_IF_ERROR(copy->Upsert(std::span<const Point>(&record, 1)));
    }
    return copy->Flush();
  }();
  if (!s.ok()) {
    copy.reset();
    (void)db.DropCollection(target);
    return s.WithContext("copying '" + source.name() + "' into '" + target + "'");
  }
  return out;
}

}  // namespace mosaic::query
