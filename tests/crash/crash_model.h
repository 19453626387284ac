// The crash harness's shared pieces (docs/reliability.md, "Crash harness"): the deterministic
// contents of a point version, the operations a writer makes and the log it keeps of them, and
// the check of a reopened database against the acknowledged operations. Not thread-safe.
//
// Op log (one line per event, each written with one write(2) on an O_APPEND descriptor, so a
// SIGKILL leaves whole lines and at most one torn last line, which is ignored):
//   A <seq> <kind> <removed ids> <upserted ids> <path>   before the call ("attempted")
//   K <seq>                                             after the call returned OK ("acknowledged")
//   E <seq> <message>                                   after the call returned an error
// kind is one letter of OpKind; id lists are comma-separated, "-" when empty; path is "-" unless
// the op is a snapshot. An op with an A line and neither K nor E was cut by the kill: it may be
// applied or not, but only whole.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "mosaic/db.h"

namespace mosaic::crash {

inline constexpr char kCollection[] = "crash";
inline constexpr uint64_t kIdSpace = 600;  // small, so that upserts replace and deletes hit
inline constexpr uint32_t kDimV = 16;      // "v": l2, HNSW
inline constexpr uint32_t kDimW = 4;       // "w": l2, flat; only on some versions

CollectionSchema Schema();

// Point `id` as written by op `seq`: both vectors and the payload are functions of (id, seq), so
// a point whose vector and payload come from different writes is caught.
Point MakePoint(uint64_t id, uint64_t seq);

enum class OpKind : char {
  kOpen = 'O',     // the writer opening the database (recovery)
  kUpsert = 'U',
  kDelete = 'D',
  kReplace = 'R',  // Collection::Replace: delete and upsert in one write
  kFlush = 'F',
  kCompact = 'C',
  kSnapshot = 'S',
};

enum class Outcome : uint8_t { kAttempted, kAcked, kFailed };

struct Op {
  uint64_t seq = 0;
  OpKind kind = OpKind::kOpen;
  std::vector<uint64_t> removed;
  std::vector<uint64_t> upserted;
  std::string path;  // snapshots: the file
  Outcome outcome = Outcome::kAttempted;
  std::string error;

  bool ChangesPoints() const { return !removed.empty() || !upserted.empty(); }
};

// Which operations a writer may make (the server has no flush, compact or replace route).
struct OpMix {
  bool replace = true;
  bool flush = true;
  bool compact = true;
  bool snapshot = true;
};

// The next operation at random (snapshot paths are left for the caller to fill in).
Op RandomOp(std::mt19937_64& rng, uint64_t seq, const OpMix& mix);

std::string AttemptLine(const Op& op);
std::string AckLine(uint64_t seq);
std::string ErrorLine(uint64_t seq, const std::string& message);
// The ops of a log, in order, with their outcomes; a torn last line is dropped.
std::vector<Op> ParseLog(const std::string& text);

// What a check saw, for the report.
struct CheckReport {
  bool cut_op = false;          // an op was cut by the kill
  OpKind cut_kind = OpKind::kOpen;
  bool cut_op_applied = false;  // ...and it shows in the database
  uint64_t points = 0;
  uint64_t searches = 0;
  uint64_t index_misses = 0;     // points the HNSW search did not find (exact search did)
  std::string index_miss_notes;  // which, and what was found instead
  uint64_t snapshots_restored = 0;
};

// The expected contents of the collection: id -> seq of the write that made it.
class Model {
 public:
  // Folds `ops` (the ops since the last check, in order) into the model and checks the database
  // at `db_path`: it opens; the collection holds exactly the acknowledged state, or that state
  // plus the one cut op applied whole; Count and Info agree; sampled points are found by exact
  // search on their own vectors, and nine in ten at least by HNSW search; the newest acknowledged snapshot among `ops` restores (into
  // `scratch_dir`, a fresh directory per call) to exactly the state of its moment. A cut op
  // that shows is then taken as done. Returns what is wrong, naming ids, seqs and values.
  Status Check(const std::string& db_path, const std::vector<Op>& ops,
               const std::string& scratch_dir, std::mt19937_64& rng, CheckReport* report);

  size_t size() const { return points_.size(); }

 private:
  std::map<uint64_t, uint64_t> points_;
};

// The state after `op` on `state`.
void ApplyOp(const Op& op, std::map<uint64_t, uint64_t>* state);

// Every point of `c`, by id.
Result<std::map<uint64_t, Point>> ReadAll(const Collection& c);

// "" if `actual` is exactly `expected` (id -> seq of its write, see MakePoint), else the first
// differences.
std::string Diff(const std::map<uint64_t, Point>& actual, const std::map<uint64_t, uint64_t>& expected);

}  // namespace mosaic::crash
