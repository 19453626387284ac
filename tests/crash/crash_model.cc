#include "crash/crash_model.h"

#include <algorithm>
#include <sstream>

namespace mosaic::crash {
namespace {

uint64_t Mix(uint64_t x) {  // splitmix64
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// A float in [-1, 1) with 24 significant bits: exact in a float and in its JSON text.
float Unit(uint64_t h) { return static_cast<float>(static_cast<double>(h >> 40) / (1 << 23) - 1.0); }

std::vector<uint64_t> DistinctIds(std::mt19937_64& rng, size_t n) {
  std::vector<uint64_t> ids;
  while (ids.size() < n) {
    uint64_t id = rng() % kIdSpace;
    if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(id);
  }
  return ids;
}

std::string JoinIds(const std::vector<uint64_t>& ids) {
  if (ids.empty()) return "-";
  std::string s;
  for (uint64_t id : ids) s += (s.empty() ? "" : ",") + std::to_string(id);
  return s;
}

std::vector<uint64_t> SplitIds(const std::string& s) {
  std::vector<uint64_t> ids;
  if (s == "-") return ids;
  std::stringstream in(s);
  std::string part;
  while (std::getline(in, part, ',')) ids.push_back(std::stoull(part));
  return ids;
}

std::string Show(const Json& j) {
  std::string s = j.dump();
  return s.size() > 160 ? s.substr(0, 160) + "..." : s;
}

}  // namespace

CollectionSchema Schema() {
  CollectionSchema schema;
  VectorSpec v;
  v.name = "v";
  v.dim = kDimV;
  v.index.kind = IndexKind::kHnsw;
  v.index.m = 8;
  v.index.ef_construction = 64;
  VectorSpec w;
  w.name = "w";
  w.dim = kDimW;
  schema.vectors = {v, w};
  return schema;
}

Point MakePoint(uint64_t id, uint64_t seq) {
  Point p;
  p.id = id;
  const uint64_t key = Mix(id * 1000003 + seq * 7919 + 1);
  std::vector<float> v(kDimV);
  for (uint32_t i = 0; i < kDimV; ++i) v[i] = Unit(Mix(key + i));
  p.vectors["v"] = std::move(v);
  if (seq % 3 != 0) {
    std::vector<float> w(kDimW);
    for (uint32_t i = 0; i < kDimW; ++i) w[i] = Unit(Mix(key + 100 + i));
    p.vectors["w"] = std::move(w);
  }
  p.payload = {{"id", id},
               {"seq", seq},
               {"pad", std::string(Mix(key + 200) % 160, static_cast<char>('a' + seq % 26))}};
  return p;
}

Op RandomOp(std::mt19937_64& rng, uint64_t seq, const OpMix& mix) {
  Op op;
  op.seq = seq;
  const int r = static_cast<int>(rng() % 100);
  if (r < 20) {
    op.kind = OpKind::kDelete;
    op.removed = DistinctIds(rng, 1 + rng() % 4);
  } else if (r < 30 && mix.replace) {
    op.kind = OpKind::kReplace;
    op.removed = DistinctIds(rng, 1 + rng() % 3);
    op.upserted = DistinctIds(rng, 1 + rng() % 3);
  } else if (r >= 88 && r < 92 && mix.flush) {
    op.kind = OpKind::kFlush;
  } else if (r >= 92 && r < 95 && mix.compact) {
    op.kind = OpKind::kCompact;
  } else if (r >= 95 && r < 98 && mix.snapshot) {
    op.kind = OpKind::kSnapshot;
  } else {
    op.kind = OpKind::kUpsert;
    op.upserted = DistinctIds(rng, 1 + rng() % 6);
  }
  return op;
}

std::string AttemptLine(const Op& op) {
  return "A " + std::to_string(op.seq) + " " + static_cast<char>(op.kind) + " " +
         JoinIds(op.removed) + " " + JoinIds(op.upserted) + " " +
         (op.path.empty() ? "-" : op.path) + "\n";
}

std::string AckLine(uint64_t seq) { return "K " + std::to_string(seq) + "\n"; }

std::string ErrorLine(uint64_t seq, const std::string& message) {
  std::string m = message;
  std::replace(m.begin(), m.end(), '\n', ' ');
  return "E " + std::to_string(seq) + " " + m + "\n";
}

std::vector<Op> ParseLog(const std::string& text) {
  std::vector<Op> ops;
  std::map<uint64_t, size_t> by_seq;
  size_t pos = 0;
  while (true) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) break;  // a torn last line, or the end
    std::stringstream line(text.substr(pos, end - pos));
    pos = end + 1;
    std::string tag;
    uint64_t seq = 0;
    line >> tag >> seq;
    if (tag == "A") {
      Op op;
      op.seq = seq;
      std::string kind, removed, upserted, path;
      line >> kind >> removed >> upserted >> path;
      op.kind = static_cast<OpKind>(kind.at(0));
      op.removed = SplitIds(removed);
      op.upserted = SplitIds(upserted);
      if (path != "-") op.path = path;
      by_seq[seq] = ops.size();
      ops.push_back(std::move(op));
    } else if (auto it = by_seq.find(seq); it != by_seq.end() && (tag == "K" || tag == "E")) {
      Op& op = ops[it->second];
      op.outcome = tag == "K" ? Outcome::kAcked : Outcome::kFailed;
      if (tag == "E") std::getline(line, op.error);
    }
  }
  return ops;
}

void ApplyOp(const Op& op, std::map<uint64_t, uint64_t>* state) {
  for (uint64_t id : op.removed) state->erase(id);
  for (uint64_t id : op.upserted) (*state)[id] = op.seq;
}

Result<std::map<uint64_t, Point>> ReadAll(const Collection& c) {
  std::map<uint64_t, Point> all;
  ScrollRequest req;
  req.limit = 256;
  req.with_vectors = true;
  while (true) {
    MOSAIC_ASSIGN_OR_RETURN(ScrollPage page, c.Scroll(req));
    for (Point& p : page.points) {
      if (!p.id.is_num()) return Status::Corruption("a point with a string id " + p.id.ToString());
      uint64_t id = p.id.num();
      if (!all.emplace(id, std::move(p)).second)
        return Status::Corruption("scroll returned point " + std::to_string(id) + " twice");
    }
    if (!page.next_offset) return all;
    req.offset = page.next_offset;
  }
}

std::string Diff(const std::map<uint64_t, Point>& actual, const std::map<uint64_t, uint64_t>& expected) {
  std::string out;
  int shown = 0;
  auto note = [&](const std::string& s) {
    if (shown++ < 6) out += (out.empty() ? "" : "; ") + s;
  };
  for (const auto& [id, seq] : expected) {
    auto it = actual.find(id);
    if (it == actual.end()) {
      note("point " + std::to_string(id) + " (written by op " + std::to_string(seq) + ") is missing");
      continue;
    }
    Point want = MakePoint(id, seq);
    const Point& got = it->second;
    if (got.payload != want.payload)
      note("point " + std::to_string(id) + " has payload " + Show(got.payload) +
           ", expected that of op " + std::to_string(seq));
    if (got.vectors != want.vectors) {
      std::string which;
      for (const auto& [name, v] : want.vectors)
        if (!got.vectors.count(name) || got.vectors.at(name) != v) which += " " + name;
      for (const auto& [name, v] : got.vectors)
        if (!want.vectors.count(name)) which += " " + name + "(extra)";
      note("point " + std::to_string(id) + " (payload seq " +
           (got.payload.contains("seq") ? got.payload["seq"].dump() : "?") +
           ") has vectors that are not op " + std::to_string(seq) + "'s:" + which);
    }
  }
  for (const auto& [id, p] : actual)
    if (!expected.count(id))
      note("point " + std::to_string(id) + " (payload " + Show(p.payload) + ") should not exist");
  if (shown > 6) out += "; and " + std::to_string(shown - 6) + " more";
  return out;
}

Status Model::Check(const std::string& db_path, const std::vector<Op>& ops,
                    const std::string& scratch_dir, std::mt19937_64& rng, CheckReport* report) {
  *report = CheckReport{};
  std::map<uint64_t, uint64_t> state = points_;
  const Op* cut = nullptr;
  std::optional<std::pair<std::string, std::map<uint64_t, uint64_t>>> snapshot;
  for (size_t i = 0; i < ops.size(); ++i) {
    const Op& op = ops[i];
    if (op.outcome == Outcome::kAttempted) {
      if (i + 1 != ops.size())
        return Status::Internal("op " + std::to_string(op.seq) + " has no outcome but is not the last");
      cut = &op;
    } else if (op.outcome == Outcome::kAcked) {
      ApplyOp(op, &state);
      if (op.kind == OpKind::kSnapshot) snapshot.emplace(op.path, state);
    }
    // A write that returned an error changed nothing (docs/reliability.md).
  }
  if (cut != nullptr) {
    report->cut_op = true;
    report->cut_kind = cut->kind;
  }
  {
    auto db = Db::Open(db_path);
    if (!db.ok()) return db.status().WithContext("the database does not reopen");
    auto c = db.value()->GetCollection(kCollection);
    if (!c.ok()) return c.status().WithContext("the collection does not reopen");
    MOSAIC_ASSIGN_OR_RETURN(auto actual, ReadAll(*c.value()));
    std::string diff = Diff(actual, state);
    if (!diff.empty()) {
      std::string with_diff = "(the cut op changes no point)";
      if (cut != nullptr && cut->ChangesPoints()) {
        std::map<uint64_t, uint64_t> with = state;
        ApplyOp(*cut, &with);
        with_diff = Diff(actual, with);
        if (with_diff.empty()) {
          state = std::move(with);
          report->cut_op_applied = true;
        }
      }
      if (!report->cut_op_applied) {
        std::string cut_line = cut ? AttemptLine(*cut) : std::string("(none)\n");
        cut_line.pop_back();
        return Status::Corruption("the reopened collection is neither the acknowledged state (" +
                                  diff + ") nor that plus the cut op '" + cut_line + "' (" +
                                  with_diff + ")");
      }
    }
    report->points = state.size();
    MOSAIC_ASSIGN_OR_RETURN(uint64_t count, c.value()->Count());
    if (count != state.size() || c.value()->Info().points != state.size())
      return Status::Corruption("Count says " + std::to_string(count) + " and Info " +
                                std::to_string(c.value()->Info().points) + " points, expected " +
                                std::to_string(state.size()));
    // Each sampled point is its own nearest neighbour: always by exact search. The graph may
    // miss a point that deletions left unreachable (docs/reliability.md, "Crash harness"): such
    // misses are counted, and more than one sampled point in ten missed fails the check.
    std::vector<std::pair<uint64_t, uint64_t>> live(state.begin(), state.end());
    std::shuffle(live.begin(), live.end(), rng);
    live.resize(std::min<size_t>(live.size(), 24));
    uint64_t index_searches = 0;
    std::string misses;
    for (const auto& [id, seq] : live) {
      Point p = MakePoint(id, seq);
      for (const auto& [name, vec] : p.vectors) {
        for (bool exact : {false, true}) {
          SearchRequest req;
          req.vector_name = name;
          req.vector = vec;
          req.limit = 1;
          req.with_payload = false;
          req.ef = 128;
          req.exact = exact;
          MOSAIC_ASSIGN_OR_RETURN(auto hits, c.value()->Search(req));
          report->searches++;
          index_searches += !exact;
          if (!hits.empty() && hits[0].id == PointId(id) && hits[0].score == 0) continue;
          std::string what = std::string(exact ? "exact" : "index") + " search on vector '" +
                             name + "' of point " + std::to_string(id) + " (op " +
                             std::to_string(seq) + ") returned " +
                             (hits.empty() ? std::string("nothing")
                                           : hits[0].id.ToString() + " at " +
                                                 std::to_string(hits[0].score));
          if (exact) return Status::Corruption(what);
          report->index_misses++;
          misses += (misses.empty() ? "" : "; ") + what;
        }
      }
    }
    report->index_miss_notes = misses;
    if (report->index_misses * 10 > index_searches)
      return Status::Corruption("the graph misses " + std::to_string(report->index_misses) +
                                " of " + std::to_string(index_searches) + " points: " + misses);
  }
  if (snapshot) {
    auto db = Db::Open(scratch_dir);
    if (!db.ok()) return db.status();
    auto c = db.value()->RestoreSnapshot(snapshot->first, "restored");
    if (!c.ok()) return c.status().WithContext("acknowledged snapshot " + snapshot->first);
    MOSAIC_ASSIGN_OR_RETURN(auto restored, ReadAll(*c.value()));
    std::string diff = Diff(restored, snapshot->second);
    if (!diff.empty())
      return Status::Corruption("acknowledged snapshot " + snapshot->first +
                                " does not hold the state of its moment: " + diff);
    report->snapshots_restored++;
  }
  points_ = std::move(state);
  return Status::OK();
}

}  // namespace mosaic::crash
