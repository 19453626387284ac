#include "query/people.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <map>
#include <numeric>
#include <set>
#include <tuple>
#include <unordered_map>
#include <utility>

#include "simd/distance.h"

namespace mosaic::query {

namespace {

constexpr char kFaceVector[] = "face";
constexpr char kStateId[] = "mosaic:people";
// Neighbours asked per face when building the graph: a person's faces beyond the 32 most similar
// are reached through the others.
constexpr size_t kNeighbours = 32;
// Above this many faces one component's similarity matrix (64 MiB) is not built: the component
// is cut with a stricter threshold first (a low threshold over a large collection).
constexpr size_t kMaxDense = 4096;
constexpr float kDenseStep = 0.02f;

struct Edge {
  int a, b;
  float sim;
};

class UnionFind {
 public:
  explicit UnionFind(size_t n) : parent_(n) { std::iota(parent_.begin(), parent_.end(), 0); }
  int Find(int x) {
    while (parent_[x] != x)
      x = parent_[x] = parent_[parent_[x]];
    return x;
  }
  void Union(int a, int b) {
    a = Find(a), b = Find(b);
    if (a != b) parent_[std::max(a, b)] = std::min(a, b);
  }

 private:
  std::vector<int> parent_;
};

// Group numbers by first appearance from union-find roots.
std::vector<int> Number(UnionFind& uf, size_t n) {
  std::vector<int> label(n, -1), out(n);
  int next = 0;
  for (size_t i = 0; i < n; ++i) {
    const int r = uf.Find(static_cast<int>(i));
    if (label[r] < 0) label[r] = next++;
    out[i] = label[r];
  }
  return out;
}

// Average linkage over all pairs of `members` (indexes into vecs), merging in `uf` every merge of
// similarity >= t. Nearest-neighbour chain: O(m^2) time and memory, exact because average
// linkage is reducible (the merges above a cut are the same in any order).
void DenseAverageLinkage(const std::vector<const float*>& vecs, size_t dim,
                         const std::vector<int>& members, float t, UnionFind& uf) {
  const size_t m = members.size();
  std::vector<float> s(m * m);
  for (size_t i = 0; i < m; ++i) {
    for (size_t j = i + 1; j < m; ++j)
      s[i * m + j] = s[j * m + i] = simd::Dot(vecs[members[i]], vecs[members[j]], dim);
  }
  std::vector<double> size(m, 1);
  std::vector<char> active(m, 1);
  std::vector<size_t> chain;
  size_t remaining = m;
  while (remaining > 1) {
    if (chain.empty()) {
      size_t first = 0;
      while (!active[first])
        ++first;
      chain.push_back(first);
    }
    const size_t c = chain.back();
    const bool has_prev = chain.size() >= 2;
    const size_t prev = has_prev ? chain[chain.size() - 2] : m;
    size_t d = prev;
    float best = has_prev ? s[c * m + prev] : -std::numeric_limits<float>::infinity();
    for (size_t j = 0; j < m; ++j) {
      if (j != c && active[j] && s[c * m + j] > best) best = s[c * m + j], d = j;
    }
    if (d != prev) {
      chain.push_back(d);
      continue;
    }
    chain.pop_back();
    chain.pop_back();
    const size_t keep = std::min(c, d), gone = std::max(c, d);
    for (size_t k = 0; k < m; ++k) {
      if (!active[k] || k == keep || k == gone) continue;
      const float v =
          static_cast<float>((size[keep] * s[keep * m + k] + size[gone] * s[gone * m + k]) /
                             (size[keep] + size[gone]));
      s[keep * m + k] = s[k * m + keep] = v;
    }
    size[keep] += size[gone];
    active[gone] = 0;
    --remaining;
    if (best >= t) uf.Union(members[c], members[d]);
  }
}

// Average-linkage groups of vecs, given every pair with similarity >= t as `edges` (or nearly
// every: from a nearest-neighbour search). Groups never span two components of that graph.
std::vector<int> AverageLinkageGroups(const std::vector<const float*>& vecs, size_t dim,
                                      const std::vector<Edge>& edges, float t) {
  const size_t n = vecs.size();
  UnionFind result(n);
  // Work list of (members, their edges, threshold for the components).
  struct Part {
    std::vector<int> members;
    std::vector<Edge> edges;
    float cut;
  };
  std::vector<Part> work;
  {
    Part all{{}, edges, t};
    all.members.resize(n);
    std::iota(all.members.begin(), all.members.end(), 0);
    work.push_back(std::move(all));
  }
  while (!work.empty()) {
    Part part = std::move(work.back());
    work.pop_back();
    UnionFind uf(n);
    for (const Edge& e : part.edges) {
      if (e.sim >= part.cut) uf.Union(e.a, e.b);
    }
    std::map<int, Part> components;
    for (int i : part.members)
      components[uf.Find(i)].members.push_back(i);
    for (const Edge& e : part.edges) {
      if (e.sim >= part.cut) components[uf.Find(e.a)].edges.push_back(e);
    }
    for (auto& [root, comp] : components) {
      if (comp.members.size() < 2) continue;
      if (comp.members.size() > kMaxDense) {
        comp.cut = part.cut + kDenseStep;
        work.push_back(std::move(comp));
      } else {
        DenseAverageLinkage(vecs, dim, comp.members, t, result);
      }
    }
  }
  return Number(result, n);
}

std::vector<Edge> AllPairs(const std::vector<const float*>& vecs, size_t dim, float t) {
  std::vector<Edge> edges;
  for (size_t i = 0; i < vecs.size(); ++i) {
    for (size_t j = i + 1; j < vecs.size(); ++j) {
      const float sim = simd::Dot(vecs[i], vecs[j], dim);
      if (sim >= t) edges.push_back({static_cast<int>(i), static_cast<int>(j), sim});
    }
  }
  return edges;
}

Status CheckThreshold(float t) {
  if (!(t > -1 && t < 1))
    return Status::InvalidArgument("person threshold " + std::to_string(t) +
                                   " is not a cosine similarity in (-1, 1)");
  return Status::OK();
}

// "p-12" -> 12; 0 for anything else.
uint64_t PersonNumber(const std::string& id) {
  if (id.size() < 3 || id.compare(0, 2, "p-") != 0) return 0;
  uint64_t n = 0;
  for (size_t i = 2; i < id.size(); ++i) {
    if (id[i] < '0' || id[i] > '9' || n > (std::numeric_limits<uint64_t>::max() - 9) / 10) return 0;
    n = n * 10 + static_cast<uint64_t>(id[i] - '0');
  }
  return n;
}

// A point id as typed on a command line: 42, or abc:0 unquoted.
std::string IdText(const PointId& id) {
  return id.is_num() ? std::to_string(id.num()) : id.str();
}

std::string PersonId(uint64_t n) {
  return "p-" + std::to_string(n);
}

// Person ids in numeric order ("p-2" before "p-10").
bool PersonLess(const std::string& a, const std::string& b) {
  const uint64_t x = PersonNumber(a), y = PersonNumber(b);
  return x != y ? x < y : a < b;
}

std::string Trim(const std::string& s) {
  const size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(" \t\r\n") - b + 1);
}

std::string Lower(std::string s) {
  for (char& ch : s)
    ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return s;
}

Filter KindFilter(const std::string& kind) {
  return Filter::FromJson(
             Json{{"must", Json::array({{{"key", "kind"}, {"match", {{"value", kind}}}}})}})
      .value();
}

}  // namespace

std::vector<int> ClusterVectors(std::span<const std::vector<float>> vectors, float threshold,
                                Linkage linkage) {
  if (vectors.empty()) return {};
  std::vector<const float*> vecs;
  for (const auto& v : vectors)
    vecs.push_back(v.data());
  const size_t dim = vectors[0].size();
  const std::vector<Edge> edges = AllPairs(vecs, dim, threshold);
  if (linkage == Linkage::kAverage) return AverageLinkageGroups(vecs, dim, edges, threshold);
  UnionFind uf(vecs.size());
  for (const Edge& e : edges)
    uf.Union(e.a, e.b);
  return Number(uf, vecs.size());
}

struct People::Face {
  PointId id;
  std::optional<PointId> parent;
  std::string file;
  std::vector<float> box;
  std::optional<double> time;
  float score = 0;
  std::string person_id;
  std::string name;
  std::string old_person_id, old_name;  // as loaded, to write only what changed
  std::vector<float> vector;
};

Result<People> People::Open(Collection& collection) {
  for (const auto& v : collection.schema().vectors) {
    if (v.name == kFaceVector) return People(collection);
  }
  return Status::InvalidArgument("collection '" + collection.name() + "' has no vector '" +
                                 kFaceVector +
                                 "': people groups the face vectors that `mosaic ingest` writes "
                                 "when the faces model is installed");
}

Result<std::vector<People::Face>> People::LoadFaces(bool with_vectors) const {
  std::vector<Face> faces;
  ScrollRequest req;
  req.filter = KindFilter("face");
  req.limit = 1024;
  req.with_vectors = with_vectors;
  for (;;) {
    MOSAIC_ASSIGN_OR_RETURN(ScrollPage page, c_->Scroll(req));
    for (Point& p : page.points) {
      Face f;
      f.id = p.id;
      const Json& pl = p.payload;
      if (auto it = pl.find("parent"); it != pl.end() && !it->is_null()) {
        auto parent = PointId::FromJson(*it);
        if (parent.ok()) f.parent = *parent;
      }
      if (auto it = pl.find("file"); it != pl.end() && it->is_object())
        f.file = it->value("path", std::string());
      if (auto it = pl.find("box"); it != pl.end() && it->is_array()) {
        for (const Json& v : *it)
          if (v.is_number()) f.box.push_back(v.get<float>());
      }
      if (auto it = pl.find("time"); it != pl.end() && it->is_number()) f.time = it->get<double>();
      if (auto it = pl.find("score"); it != pl.end() && it->is_number()) f.score = it->get<float>();
      if (auto it = pl.find("person_id"); it != pl.end() && it->is_string())
        f.person_id = it->get<std::string>();
      if (auto it = pl.find("person"); it != pl.end() && it->is_string())
        f.name = it->get<std::string>();
      f.old_person_id = f.person_id;
      f.old_name = f.name;
      if (with_vectors) {
        auto v = p.vectors.find(kFaceVector);
        if (v == p.vectors.end()) continue;
        f.vector = std::move(v->second);
      }
      faces.push_back(std::move(f));
    }
    if (!page.next_offset) break;
    req.offset = page.next_offset;
  }
  return faces;
}

Status People::EnsureIndexes() {
  const auto have = c_->PayloadIndexes();
  if (!have.count("person_id"))
    MOSAIC_RETURN_IF_ERROR(c_->CreatePayloadIndex("person_id", PayloadIndexType::kKeyword));
  // A text (BM25) index, so that the query engine's text signal finds names; a `match` filter
  // on `person` still works (it reads the payloads).
  if (!have.count("person"))
    MOSAIC_RETURN_IF_ERROR(c_->CreatePayloadIndex("person", PayloadIndexType::kText));
  return Status::OK();
}

Result<uint64_t> People::NextPersonNumber(const std::vector<Face>& faces) const {
  uint64_t next = 1;
  for (const Face& f : faces)
    next = std::max(next, PersonNumber(f.person_id) + 1);
  const PointId state_id(kStateId);
  MOSAIC_ASSIGN_OR_RETURN(auto state, c_->Get({&state_id, 1}, true, false));
  if (!state.empty()) {
    const Json& n = state[0].payload["next_person"];
    if (n.is_number_unsigned()) next = std::max(next, n.get<uint64_t>());
  }
  return next;
}

Result<float> People::LastThreshold() const {
  const PointId state_id(kStateId);
  MOSAIC_ASSIGN_OR_RETURN(auto state, c_->Get({&state_id, 1}, true, false));
  if (!state.empty()) {
    const Json& t = state[0].payload["threshold"];
    if (t.is_number()) return t.get<float>();
  }
  return kDefaultPersonThreshold;
}

Status People::SaveState(uint64_t next, std::optional<float> threshold) {
  const PointId state_id(kStateId);
  MOSAIC_ASSIGN_OR_RETURN(auto state, c_->Get({&state_id, 1}, true, false));
  Point p;
  p.id = state_id;
  p.payload = state.empty() ? Json{{"kind", "meta"}} : state[0].payload;
  p.payload["next_person"] = next;
  if (threshold) p.payload["threshold"] = *threshold;
  return c_->Upsert({&p, 1});
}

Status People::Write(const std::vector<Face>& faces, const std::vector<size_t>& changed) {
  MOSAIC_RETURN_IF_ERROR(EnsureIndexes());
  // The faces: one write per (person, name), plus dropping names that went away.
  std::map<std::pair<std::string, std::string>, std::vector<PointId>> groups;
  std::vector<PointId> unnamed;
  std::set<PointId> parents;
  for (size_t i : changed) {
    const Face& f = faces[i];
    if (f.person_id == f.old_person_id && f.name == f.old_name) continue;
    groups[{f.person_id, f.name}].push_back(f.id);
    if (f.name.empty() && !f.old_name.empty()) unnamed.push_back(f.id);
    if (f.parent) parents.insert(*f.parent);
  }
  for (const auto& [key, ids] : groups) {
    Json patch = {{"person_id", key.first}};
    if (!key.second.empty()) patch["person"] = key.second;
    MOSAIC_RETURN_IF_ERROR(c_->SetPayload(ids, patch));
  }
  if (!unnamed.empty()) {
    const std::string key = "person";
    MOSAIC_RETURN_IF_ERROR(c_->DeletePayloadKeys(unnamed, {&key, 1}));
  }
  if (parents.empty()) return Status::OK();

  // The parents (and the shots of video faces): the persons of all their faces, as arrays.
  std::map<PointId, std::vector<size_t>> by_parent;
  for (size_t i = 0; i < faces.size(); ++i) {
    if (faces[i].parent && parents.count(*faces[i].parent))
      by_parent[*faces[i].parent].push_back(i);
  }
  std::map<PointId, std::pair<std::set<std::string>, std::set<std::string>>> targets;
  for (const PointId& p : parents)
    targets[p];  // a parent whose faces are all gone: emptied
  for (const auto& [parent, idx] : by_parent) {
    std::vector<std::tuple<double, double, PointId>> shots;  // start, end, id
    bool timed = false;
    for (size_t i : idx)
      timed |= faces[i].time.has_value();
    if (timed) {
      ScrollRequest req;
      req.filter =
          Filter::FromJson(
              Json{{"must", Json::array({
                                {{"key", "file_id"}, {"match", {{"value", IdText(parent)}}}},
                                {{"key", "kind"}, {"match", {{"value", "shot"}}}},
                            })}})
              .value();
      req.limit = 1024;
      MOSAIC_ASSIGN_OR_RETURN(ScrollPage page, c_->Scroll(req));
      for (const Point& s : page.points) {
        const Json& start = s.payload["start"];
        const Json& end = s.payload["end"];
        if (start.is_number() && end.is_number())
          shots.emplace_back(start.get<double>(), end.get<double>(), s.id);
      }
      for (const auto& shot : shots)
        targets[std::get<2>(shot)];
    }
    for (size_t i : idx) {
      const Face& f = faces[i];
      if (f.person_id.empty()) continue;
      auto add = [&](const PointId& target) {
        targets[target].first.insert(f.person_id);
        if (!f.name.empty()) targets[target].second.insert(f.name);
      };
      add(parent);
      if (!f.time) continue;
      for (const auto& [start, end, id] : shots) {
        if (*f.time >= start && *f.time < end) add(id);
      }
    }
  }
  std::map<std::string, std::vector<PointId>> patches;
  for (const auto& [target, sets] : targets) {
    std::vector<std::string> ids(sets.first.begin(), sets.first.end());
    std::sort(ids.begin(), ids.end(), PersonLess);
    const Json patch = {{"person_id", ids}, {"person", sets.second}};
    patches[patch.dump()].push_back(target);
  }
  for (const auto& [patch, ids] : patches)
    MOSAIC_RETURN_IF_ERROR(c_->SetPayload(ids, Json::parse(patch)));
  return Status::OK();
}

Result<ClusterReport> People::Cluster(const PeopleClusterOptions& options) {
  MOSAIC_RETURN_IF_ERROR(CheckThreshold(options.threshold));
  const float t = options.threshold;
  MOSAIC_ASSIGN_OR_RETURN(std::vector<Face> faces, LoadFaces(true));
  MOSAIC_ASSIGN_OR_RETURN(uint64_t next, NextPersonNumber(faces));
  ClusterReport report;
  report.faces = faces.size();
  if (options.reset) {
    for (Face& f : faces) {
      if (f.name.empty()) f.person_id.clear();
    }
  }
  std::vector<size_t> fresh;  // faces without a person
  std::unordered_map<PointId, size_t, PointIdHash> index;
  std::map<std::string, std::vector<size_t>, decltype(&PersonLess)> persons(&PersonLess);
  for (size_t i = 0; i < faces.size(); ++i) {
    index[faces[i].id] = i;
    if (faces[i].person_id.empty()) {
      fresh.push_back(i);
    } else {
      persons[faces[i].person_id].push_back(i);
    }
  }
  report.clustered = fresh.size();
  if (fresh.empty()) {
    report.persons = persons.size();
    return report;
  }
  const size_t dim = faces[fresh[0]].vector.size();

  // The graph: each new face's neighbours above the threshold, new ones as edges, assigned ones
  // as candidate persons to join.
  std::vector<int> local(faces.size(), -1);
  for (size_t k = 0; k < fresh.size(); ++k)
    local[fresh[k]] = static_cast<int>(k);
  std::vector<Edge> edges;
  std::vector<std::set<std::string>> candidates(fresh.size());
  constexpr size_t kBatch = 256;
  for (size_t begin = 0; begin < fresh.size(); begin += kBatch) {
    const size_t end = std::min(fresh.size(), begin + kBatch);
    std::vector<SearchRequest> reqs(end - begin);
    for (size_t k = begin; k < end; ++k) {
      SearchRequest& r = reqs[k - begin];
      r.vector_name = kFaceVector;
      r.vector = faces[fresh[k]].vector;
      r.limit = kNeighbours + 1;
      r.score_threshold = t;
      r.with_payload = false;
    }
    MOSAIC_ASSIGN_OR_RETURN(auto results, c_->SearchBatch(reqs));
    for (size_t k = begin; k < end; ++k) {
      for (const ScoredPoint& hit : results[k - begin]) {
        auto it = index.find(hit.id);
        if (it == index.end() || it->second == fresh[k]) continue;
        const size_t j = it->second;
        if (local[j] >= 0) {
          edges.push_back({static_cast<int>(k), local[j], hit.score});
        } else {
          candidates[k].insert(faces[j].person_id);
        }
      }
    }
  }
  std::vector<const float*> vecs;
  for (size_t i : fresh)
    vecs.push_back(faces[i].vector.data());
  const std::vector<int> group = AverageLinkageGroups(vecs, dim, edges, t);

  // Each group joins the existing person it is closest to on average, or starts one.
  std::map<int, std::vector<size_t>> members;
  for (size_t k = 0; k < fresh.size(); ++k)
    members[group[k]].push_back(k);
  for (const auto& [g, ks] : members) {
    std::set<std::string> cands;
    for (size_t k : ks)
      cands.insert(candidates[k].begin(), candidates[k].end());
    std::string best_id;
    double best = -2;
    for (const std::string& p : cands) {
      double sum = 0;
      const auto& theirs = persons[p];
      for (size_t k : ks) {
        for (size_t j : theirs)
          sum += simd::Dot(vecs[k], faces[j].vector.data(), dim);
      }
      const double mean = sum / static_cast<double>(ks.size() * theirs.size());
      if (mean > best) best = mean, best_id = p;
    }
    std::string name;
    if (!best_id.empty() && best >= t) {
      report.joined += ks.size();
      name = faces[persons[best_id].front()].name;
    } else {
      best_id = PersonId(next++);
      ++report.new_persons;
    }
    for (size_t k : ks) {
      faces[fresh[k]].person_id = best_id;
      faces[fresh[k]].name = name;
    }
  }
  // Persons with faces after this run (a reset may leave none to an old id).
  std::set<std::string> now;
  for (const Face& f : faces)
    now.insert(f.person_id);
  report.persons = now.size();

  std::vector<size_t> all(faces.size());
  std::iota(all.begin(), all.end(), 0);
  MOSAIC_RETURN_IF_ERROR(Write(faces, all));
  MOSAIC_RETURN_IF_ERROR(SaveState(next, t));
  return report;
}

Result<std::vector<PersonSummary>> People::List(size_t* unassigned) const {
  MOSAIC_ASSIGN_OR_RETURN(std::vector<Face> faces, LoadFaces(false));
  std::map<std::string, PersonSummary> by_id;
  std::map<std::string, float> best_score;
  size_t none = 0;
  for (const Face& f : faces) {
    if (f.person_id.empty()) {
      ++none;
      continue;
    }
    PersonSummary& s = by_id[f.person_id];
    s.id = f.person_id;
    if (!f.name.empty()) s.name = f.name;
    ++s.faces;
    auto it = best_score.find(f.person_id);
    if (it == best_score.end() || f.score > it->second) {
      best_score[f.person_id] = f.score;
      s.sample_file = f.file;
    }
  }
  if (unassigned) *unassigned = none;
  std::vector<PersonSummary> out;
  for (auto& [id, s] : by_id)
    out.push_back(std::move(s));
  std::sort(out.begin(), out.end(), [](const PersonSummary& a, const PersonSummary& b) {
    return a.faces != b.faces ? a.faces > b.faces : PersonLess(a.id, b.id);
  });
  return out;
}

Status People::CheckPerson(const std::vector<Face>& faces, const std::string& person) const {
  for (const Face& f : faces) {
    if (f.person_id == person) return Status::OK();
  }
  return Status::NotFound("no person '" + person + "' in collection '" + c_->name() +
                          "' (`mosaic people list` shows the persons)");
}

Result<std::vector<PersonFace>> People::Show(const std::string& person) const {
  MOSAIC_ASSIGN_OR_RETURN(std::vector<Face> faces, LoadFaces(false));
  MOSAIC_RETURN_IF_ERROR(CheckPerson(faces, person));
  std::vector<PersonFace> out;
  for (Face& f : faces) {
    if (f.person_id != person) continue;
    out.push_back({f.id, f.parent.value_or(PointId()), f.file, f.box, f.time, f.score});
  }
  std::sort(out.begin(), out.end(), [](const PersonFace& a, const PersonFace& b) {
    if (a.file != b.file) return a.file < b.file;
    return a.time.value_or(0) < b.time.value_or(0);
  });
  return out;
}

Status People::Name(const std::string& person, const std::string& name) {
  const std::string clean = Trim(name);
  if (clean.empty())
    return Status::InvalidArgument("the name for person '" + person + "' is empty");
  MOSAIC_ASSIGN_OR_RETURN(std::vector<Face> faces, LoadFaces(false));
  MOSAIC_RETURN_IF_ERROR(CheckPerson(faces, person));
  for (const Face& f : faces) {
    if (f.person_id != person && !f.name.empty() && Lower(f.name) == Lower(clean))
      return Status::AlreadyExists("the name '" + clean + "' is already person '" + f.person_id +
                                   "'; merge the two with `mosaic people merge " + f.person_id +
                                   " " + person + "`");
  }
  std::vector<size_t> changed;
  for (size_t i = 0; i < faces.size(); ++i) {
    if (faces[i].person_id == person) faces[i].name = clean, changed.push_back(i);
  }
  return Write(faces, changed);
}

Status People::Merge(const std::string& into, const std::string& from) {
  if (into == from)
    return Status::InvalidArgument("cannot merge person '" + into + "' with itself");
  MOSAIC_ASSIGN_OR_RETURN(std::vector<Face> faces, LoadFaces(false));
  MOSAIC_RETURN_IF_ERROR(CheckPerson(faces, into));
  MOSAIC_RETURN_IF_ERROR(CheckPerson(faces, from));
  std::string name;
  for (const Face& f : faces) {
    if (f.person_id == into && !f.name.empty()) name = f.name;
  }
  if (name.empty()) {
    for (const Face& f : faces) {
      if (f.person_id == from && !f.name.empty()) name = f.name;
    }
  }
  std::vector<size_t> changed;
  for (size_t i = 0; i < faces.size(); ++i) {
    if (faces[i].person_id == into || faces[i].person_id == from) {
      faces[i].person_id = into;
      faces[i].name = name;
      changed.push_back(i);
    }
  }
  return Write(faces, changed);
}

Result<std::vector<std::string>> People::Split(const std::string& person,
                                               std::optional<float> threshold,
                                               std::span<const PointId> moved) {
  MOSAIC_ASSIGN_OR_RETURN(std::vector<Face> faces, LoadFaces(moved.empty()));
  MOSAIC_RETURN_IF_ERROR(CheckPerson(faces, person));
  std::vector<size_t> mine;
  for (size_t i = 0; i < faces.size(); ++i) {
    if (faces[i].person_id == person) mine.push_back(i);
  }
  std::vector<int> group(mine.size(), 0);
  if (!moved.empty()) {
    std::set<PointId> want(moved.begin(), moved.end());
    for (size_t k = 0; k < mine.size(); ++k) {
      if (want.erase(faces[mine[k]].id)) group[k] = 1;
    }
    if (!want.empty())
      return Status::InvalidArgument("face '" + IdText(*want.begin()) + "' is not one of person '" +
                                     person + "''s faces");
    if (moved.size() >= mine.size())
      return Status::InvalidArgument("splitting all " + std::to_string(mine.size()) +
                                     " faces off person '" + person + "' would leave it empty");
  } else {
    float t;
    if (threshold) {
      t = *threshold;
    } else {
      MOSAIC_ASSIGN_OR_RETURN(t, LastThreshold());
      t = std::min(t + kSplitStep, 0.99f);
    }
    MOSAIC_RETURN_IF_ERROR(CheckThreshold(t));
    std::vector<const float*> vecs;
    for (size_t i : mine)
      vecs.push_back(faces[i].vector.data());
    const size_t dim = faces[mine[0]].vector.size();
    group = AverageLinkageGroups(vecs, dim, AllPairs(vecs, dim, t), t);
  }
  // The largest group keeps the person (ties: the one holding its first face).
  std::map<int, size_t> sizes;
  for (int g : group)
    ++sizes[g];
  if (sizes.size() < 2) return std::vector<std::string>();
  int keep = group[0];
  for (const auto& [g, n] : sizes) {
    if (n > sizes[keep]) keep = g;
  }
  MOSAIC_ASSIGN_OR_RETURN(uint64_t next, NextPersonNumber(faces));
  std::map<int, std::string> ids;
  std::vector<std::string> created;
  std::vector<size_t> changed;
  for (size_t k = 0; k < mine.size(); ++k) {
    if (group[k] == keep) continue;
    auto [it, added] = ids.try_emplace(group[k]);
    if (added) it->second = PersonId(next++), created.push_back(it->second);
    Face& f = faces[mine[k]];
    f.person_id = it->second;
    f.name.clear();
    changed.push_back(mine[k]);
  }
  MOSAIC_RETURN_IF_ERROR(SaveState(next, std::nullopt));
  MOSAIC_RETURN_IF_ERROR(Write(faces, changed));
  return created;
}

}  // namespace mosaic::query
