#include "query/cluster.h"

#include <algorithm>

namespace mosaic::query {
namespace {

// Ids per SetPayload call: a very large cluster is written in a few records rather than one
// huge one.
constexpr size_t kWriteBatch = 65536;

std::string JoinNames(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names)
    out += (out.empty() ? "" : ", ") + n;
  return out.empty() ? "none" : out;
}

struct Rows {
  std::vector<PointId> ids;
  std::vector<float> data;
  uint64_t without_vector = 0;
};

Result<Rows> ReadRows(const Collection& c, const std::string& vector, const ClusterOptions& o,
                      size_t dim) {
  Rows rows;
  ScrollRequest req;
  req.limit = std::max<size_t>(o.page_size, 1);
  req.filter = o.filter;
  req.with_payload = false;
  req.with_vectors = true;
  while (true) {
    auto page = c.Scroll(req);
    if (!page.ok()) return page.status();
    for (const Point& p : page->points) {
      auto it = p.vectors.find(vector);
      if (it == p.vectors.end() || it->second.size() != dim) {
        ++rows.without_vector;
        continue;
      }
      rows.ids.push_back(p.id);
      rows.data.insert(rows.data.end(), it->second.begin(), it->second.end());
    }
    if (!page->next_offset) break;
    req.offset = page->next_offset;
  }
  return rows;
}

Status WriteLabels(Collection& c, const std::string& field, const std::vector<PointId>& ids,
                   const KMeansResult& km) {
  std::vector<std::vector<PointId>> members(km.k);
  for (size_t i = 0; i < ids.size(); ++i)
    members[km.labels[i]].push_back(ids[i]);
  for (size_t j = 0; j < km.k; ++j) {
    const Json patch = {{field, j}};
    for (size_t b = 0; b < members[j].size(); b += kWriteBatch) {
      const size_t e = std::min(members[j].size(), b + kWriteBatch);
      std::span<const PointId> batch(members[j].data() + b, e - b);
      if (Status s = c.SetPayload(batch, patch); !s.ok()) return s;
    }
  }
  return Status::OK();
}

Status WriteCentroids(Db& db, const std::string& source, const VectorSpec& spec,
                      const KMeansResult& km, const std::string& name) {
  auto existing = db.GetCollection(name);
  if (existing.ok()) {
    // Only a companion made by an earlier run is replaced, never a collection of the user's.
    ScrollRequest probe;
    probe.limit = 1;
    auto page = (*existing)->Scroll(probe);
    if (!page.ok()) return page.status();
    const bool ours =
        page->points.empty() || (page->points[0].payload.is_object() &&
                                 page->points[0].payload.value("source", Json()) == Json(source));
    if (!ours)
      return Status::AlreadyExists("collection '" + name + "' exists and does not hold the " +
                                   "centroids of '" + source + "'; drop or rename it first");
    if (Status s = db.DropCollection(name); !s.ok()) return s;
  }
  CollectionSchema schema;
  schema.vectors.push_back(spec);
  auto created = db.CreateCollection(name, schema);
  if (!created.ok()) return created.status();
  std::vector<Point> points(km.k);
  for (size_t j = 0; j < km.k; ++j) {
    points[j].id = PointId(static_cast<uint64_t>(j));
    points[j].vectors[spec.name].assign(km.centroids.begin() + j * km.dim,
                                        km.centroids.begin() + (j + 1) * km.dim);
    points[j].payload = {
        {"cluster", j}, {"size", km.sizes[j]}, {"source", source}, {"vector", spec.name}};
  }
  return (*created)->Upsert(points);
}

}  // namespace

std::string CentroidsCollectionName(const std::string& collection) {
  return collection + "-clusters";
}

Result<ClusterResult> ClusterCollection(Db& db, const std::string& collection,
                                        const ClusterOptions& options) {
  auto c = db.GetCollection(collection);
  if (!c.ok()) {
    if (c.status().code() != StatusCode::kNotFound) return c.status();
    return Status::NotFound("no collection '" + collection +
                            "' (collections: " + JoinNames(db.ListCollections()) + ")");
  }
  const CollectionSchema& schema = (*c)->schema();
  const VectorSpec* spec =
      options.using_vector.empty() ? &schema.vectors.front() : schema.Find(options.using_vector);
  if (spec == nullptr) {
    std::vector<std::string> names;
    for (const auto& v : schema.vectors)
      names.push_back(v.name);
    return Status::NotFound("collection '" + collection + "' has no vector '" +
                            options.using_vector + "' (its vectors: " + JoinNames(names) + ")");
  }
  const bool sweep = options.sweep_from != 0 || options.sweep_to != 0;
  if (sweep && (options.sweep_from < 2 || options.sweep_from > options.sweep_to))
    return Status::InvalidArgument("a k sweep needs 2 <= from <= to, got " +
                                   std::to_string(options.sweep_from) + ".." +
                                   std::to_string(options.sweep_to));
  if (!sweep && options.kmeans.k < 1)
    return Status::InvalidArgument("k must be at least 1, got " + std::to_string(options.kmeans.k));

  auto rows = ReadRows(**c, spec->name, options, spec->dim);
  if (!rows.ok()) return rows.status();
  const size_t n = rows->ids.size();
  const std::string what = options.filter ? " matching the filter" : "";
  if (n == 0)
    return Status::NotFound("no points of '" + collection + "'" + what + " have vector '" +
                            spec->name + "'");
  const size_t k = sweep ? options.sweep_to : options.kmeans.k;
  if (k > n)
    return Status::InvalidArgument("k = " + std::to_string(k) + " is larger than the " +
                                   std::to_string(n) + " points of '" + collection + "'" + what +
                                   " with vector '" + spec->name + "'");

  ClusterResult result;
  result.collection = collection;
  result.using_vector = spec->name;
  result.without_vector = rows->without_vector;
  if (sweep) {
    auto s = SweepK(rows->data.data(), n, spec->dim, options.sweep_from, options.sweep_to,
                    options.sweep_by, options.kmeans);
    if (!s.ok()) return s.status();
    result.kmeans = std::move(s->best);
    s->best = {};
    result.sweep = std::move(s).value();
  } else {
    auto km = KMeans(rows->data.data(), n, spec->dim, options.kmeans);
    if (!km.ok()) return km.status();
    result.kmeans = std::move(km).value();
  }
  result.ids = std::move(rows->ids);

  if (!options.write_field.empty()) {
    if (Status s = WriteLabels(**c, options.write_field, result.ids, result.kmeans); !s.ok())
      return s;
  }
  if (options.write_centroids) {
    const std::string name = CentroidsCollectionName(collection);
    if (Status s = WriteCentroids(db, collection, *spec, result.kmeans, name); !s.ok()) return s;
    result.centroids_collection = name;
  }
  return result;
}

}  // namespace mosaic::query
