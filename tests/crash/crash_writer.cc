// crash_writer: the process the crash harness (crash_test.cc) kills. Opens the database, then
// upserts, deletes, replaces, flushes, compacts and snapshots collection "crash" at random until
// it is killed, logging each op before the call and its outcome after it (crash_model.h).
//
//   crash_writer DB LOG SNAPSHOT_DIR SEED FIRST_SEQ always|periodic|never
//
// Flushes are frequent (a 24 KiB log threshold), so kills also land in automatic flushes and
// the HNSW graph saves that come with them. Exits 2 on bad arguments or if a call fails.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include "crash/crash_model.h"

namespace mosaic::crash {
namespace {

// One line per write(2): the harness only kills this process, so a line is in the page cache,
// visible to the harness, once write returns; no fsync is needed for that.
void Log(int fd, const std::string& line) {
  size_t done = 0;
  while (done < line.size()) {
    ssize_t n = ::write(fd, line.data() + done, line.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      std::fprintf(stderr, "crash_writer: writing the log: %s\n", std::strerror(errno));
      std::_Exit(2);
    }
    done += static_cast<size_t>(n);
  }
}

Status Run(const Op& op, Db& db, Collection& c) {
  std::vector<Point> points;
  for (uint64_t id : op.upserted) points.push_back(MakePoint(id, op.seq));
  std::vector<PointId> removed(op.removed.begin(), op.removed.end());
  switch (op.kind) {
    case OpKind::kUpsert:
      return c.Upsert(points);
    case OpKind::kDelete:
      return c.Delete(removed).status();
    case OpKind::kReplace:
      return c.Replace(removed, points);
    case OpKind::kFlush:
      return c.Flush();
    case OpKind::kCompact:
      return c.Compact();
    case OpKind::kSnapshot:
      return db.CreateSnapshot(kCollection, op.path);
    case OpKind::kOpen:
      break;
  }
  return Status::InvalidArgument("not an op to run");
}

int Main(int argc, char** argv) {
  if (argc != 7) {
    std::fprintf(stderr, "usage: crash_writer DB LOG SNAPSHOT_DIR SEED FIRST_SEQ always|periodic|never\n");
    return 2;
  }
  const std::string db_path = argv[1], snapshot_dir = argv[3], sync = argv[6];
  std::mt19937_64 rng(std::stoull(argv[4]));
  uint64_t seq = std::stoull(argv[5]);
  DbOptions options;
  options.sync = sync == "always" ? SyncPolicy::kAlways
                 : sync == "periodic" ? SyncPolicy::kPeriodic
                                      : SyncPolicy::kNever;
  options.sync_interval_ms = 20;
  options.wal_flush_bytes = 24 << 10;
  options.compact_below_bytes = 0;  // seal at flushes; max_segments and deletes still compact
  // Half the seeds map the segments (their reopens after each crash too).
  if (std::stoull(argv[4]) % 2 == 1) options.segment_memory_budget_bytes = 0;
  int fd = ::open(argv[2], O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
  if (fd < 0) {
    std::fprintf(stderr, "crash_writer: %s: %s\n", argv[2], std::strerror(errno));
    return 2;
  }
  Op open;
  open.seq = seq++;
  Log(fd, AttemptLine(open));
  auto db = Db::Open(db_path, options);
  auto c = db.ok() ? db.value()->GetCollection(kCollection) : Result<std::shared_ptr<Collection>>(db.status());
  if (!c.ok() && c.status().IsNotFound()) c = db.value()->CreateCollection(kCollection, Schema());
  if (!c.ok()) {
    Log(fd, ErrorLine(open.seq, c.status().ToString()));
    return 2;
  }
  Log(fd, AckLine(open.seq));
  while (true) {
    Op op = RandomOp(rng, seq++, OpMix{});
    if (op.kind == OpKind::kSnapshot)
      op.path = snapshot_dir + "/snap-" + std::to_string(op.seq) + ".snapshot";
    Log(fd, AttemptLine(op));
    Status s = Run(op, *db.value(), *c.value());
    if (!s.ok()) {
      Log(fd, ErrorLine(op.seq, s.ToString()));
      return 2;
    }
    Log(fd, AckLine(op.seq));
  }
}

}  // namespace
}  // namespace mosaic::crash

int main(int argc, char** argv) { return mosaic::crash::Main(argc, argv); }
