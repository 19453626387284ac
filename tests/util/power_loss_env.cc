#include "util/power_loss_env.h"

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>

namespace mosaic::testing {
namespace {

namespace fs = std::filesystem;

std::string Norm(const std::string& p) {
  std::string s = fs::path(p).lexically_normal().string();
  while (s.size() > 1 && s.back() == '/') s.pop_back();
  return s;
}

std::string Parent(const std::string& p) {
  const size_t slash = p.rfind('/');
  return slash == std::string::npos ? "." : slash == 0 ? "/" : p.substr(0, slash);
}

bool Under(const std::string& path, const std::string& prefix) {
  return path == prefix || (path.size() > prefix.size() && path.compare(0, prefix.size(), prefix) == 0 &&
                            path[prefix.size()] == '/');
}

class PowerLossFile final : public WritableFile {
 public:
  PowerLossFile(PowerLossEnv* env, std::string path, std::unique_ptr<WritableFile> base)
      : env_(env), path_(std::move(path)), base_(std::move(base)) {}

  Status Append(std::string_view data) override {
    Status s = env_->Enter("Append(" + path_ + ", " + std::to_string(data.size()) + " bytes)");
    if (!s.ok()) {
      // The write the power cut short: part of it may reach the page cache, none of it synced.
      if (env_->crashed() && data.size() > 1 && base_->Append(data.substr(0, data.size() / 2)).ok())
        env_->RecordWritten(path_, base_->Size());
      return s;
    }
    MOSAIC_RETURN_IF_ERROR(base_->Append(data));
    env_->RecordWritten(path_, base_->Size());
    return Status::OK();
  }
  Status Sync() override {
    // Durability is simulated (PowerLoss), so the real fdatasync is skipped: a sweep makes
    // thousands of them.
    MOSAIC_RETURN_IF_ERROR(env_->Enter("Sync(" + path_ + ")"));
    env_->RecordSynced(path_, base_->Size());
    return Status::OK();
  }
  Status Close() override {
    Status s = env_->Enter("Close(" + path_ + ")");
    Status closed = base_->Close();  // the descriptor is released either way
    return s.ok() ? closed : s;
  }
  uint64_t Size() const override { return base_->Size(); }

 private:
  PowerLossEnv* env_;
  std::string path_;
  std::unique_ptr<WritableFile> base_;
};

}  // namespace

PowerLossEnv::PowerLossEnv(std::string stash_dir, Env* base)
    : base_(base), stash_dir_(Norm(stash_dir)) {
  std::error_code ec;
  fs::create_directories(stash_dir_, ec);
}

uint64_t PowerLossEnv::calls() {
  std::lock_guard<std::mutex> l(mu_);
  return calls_;
}

void PowerLossEnv::CrashAt(uint64_t call) {
  std::lock_guard<std::mutex> l(mu_);
  crash_at_ = call;
}

void PowerLossEnv::FailAt(uint64_t call) {
  std::lock_guard<std::mutex> l(mu_);
  fail_at_ = call;
}

bool PowerLossEnv::crashed() {
  std::lock_guard<std::mutex> l(mu_);
  return crashed_;
}

std::string PowerLossEnv::failed_call() {
  std::lock_guard<std::mutex> l(mu_);
  return failed_call_;
}

Status PowerLossEnv::Enter(const std::string& what) {
  std::lock_guard<std::mutex> l(mu_);
  ++calls_;
  if (crashed_) return Status::IOError("simulated power loss (before " + what + ")");
  if (crash_at_ != 0 && calls_ >= crash_at_) {
    crashed_ = true;
    failed_call_ = what;
    return Status::IOError("simulated power loss at " + what);
  }
  if (fail_at_ != 0 && calls_ == fail_at_) {
    failed_call_ = what;
    return Status::IOError("injected failure of " + what);
  }
  return Status::OK();
}

void PowerLossEnv::RecordWritten(const std::string& path, uint64_t size) {
  std::lock_guard<std::mutex> l(mu_);
  files_[path].size = size;
}

void PowerLossEnv::RecordSynced(const std::string& path, uint64_t size) {
  std::lock_guard<std::mutex> l(mu_);
  files_[path] = FileState{size, size};
}

std::string PowerLossEnv::Stash(const std::string& path) {
  const std::string to = stash_dir_ + "/" + std::to_string(++stashed_);
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    fs::rename(path, to, ec);
  } else {
    fs::create_hard_link(path, to, ec);
  }
  if (ec) return "";
  MoveStates(path, to);
  return to;
}

Result<std::unique_ptr<WritableFile>> PowerLossEnv::NewWritableFile(const std::string& p) {
  const std::string path = Norm(p);
  MOSAIC_RETURN_IF_ERROR(Enter("NewWritableFile(" + path + ")"));
  const bool existed = base_->FileExists(path);
  MOSAIC_ASSIGN_OR_RETURN(auto f, base_->NewWritableFile(path));
  std::lock_guard<std::mutex> l(mu_);
  files_[path] = FileState{};
  if (!existed) pending_.push_back({EntryChange::kCreate, Parent(path), path, "", ""});
  return std::unique_ptr<WritableFile>(new PowerLossFile(this, path, std::move(f)));
}

Result<std::unique_ptr<WritableFile>> PowerLossEnv::NewAppendableFile(const std::string& p) {
  const std::string path = Norm(p);
  MOSAIC_RETURN_IF_ERROR(Enter("NewAppendableFile(" + path + ")"));
  const bool existed = base_->FileExists(path);
  MOSAIC_ASSIGN_OR_RETURN(auto f, base_->NewAppendableFile(path));
  std::lock_guard<std::mutex> l(mu_);
  if (files_.find(path) == files_.end()) files_[path] = FileState{f->Size(), f->Size()};
  if (!existed) pending_.push_back({EntryChange::kCreate, Parent(path), path, "", ""});
  return std::unique_ptr<WritableFile>(new PowerLossFile(this, path, std::move(f)));
}

Result<std::string> PowerLossEnv::ReadFile(const std::string& path) {
  MOSAIC_RETURN_IF_ERROR(Enter("ReadFile(" + path + ")"));
  return base_->ReadFile(path);
}

Result<std::unique_ptr<FileView>> PowerLossEnv::OpenFileView(const std::string& path, bool map) {
  MOSAIC_RETURN_IF_ERROR(Enter("OpenFileView(" + path + ")"));
  return base_->OpenFileView(path, map);
}

bool PowerLossEnv::FileExists(const std::string& path) { return base_->FileExists(path); }

Result<uint64_t> PowerLossEnv::GetFileSize(const std::string& path) {
  MOSAIC_RETURN_IF_ERROR(Enter("GetFileSize(" + path + ")"));
  return base_->GetFileSize(path);
}

Result<std::vector<std::string>> PowerLossEnv::GetChildren(const std::string& dir) {
  MOSAIC_RETURN_IF_ERROR(Enter("GetChildren(" + dir + ")"));
  return base_->GetChildren(dir);
}

Status PowerLossEnv::CreateDirIfMissing(const std::string& d) {
  const std::string dir = Norm(d);
  MOSAIC_RETURN_IF_ERROR(Enter("CreateDirIfMissing(" + dir + ")"));
  const bool existed = base_->FileExists(dir);
  MOSAIC_RETURN_IF_ERROR(base_->CreateDirIfMissing(dir));
  std::lock_guard<std::mutex> l(mu_);
  if (!existed) pending_.push_back({EntryChange::kCreate, Parent(dir), dir, "", ""});
  return Status::OK();
}

Status PowerLossEnv::RemoveFile(const std::string& p) {
  const std::string path = Norm(p);
  MOSAIC_RETURN_IF_ERROR(Enter("RemoveFile(" + path + ")"));
  std::lock_guard<std::mutex> l(mu_);
  const std::string stash = Stash(path);
  MOSAIC_RETURN_IF_ERROR(base_->RemoveFile(path));
  if (!stash.empty()) pending_.push_back({EntryChange::kRemove, Parent(path), path, "", stash});
  return Status::OK();
}

Status PowerLossEnv::RemoveDirRecursively(const std::string& d) {
  const std::string dir = Norm(d);
  MOSAIC_RETURN_IF_ERROR(Enter("RemoveDirRecursively(" + dir + ")"));
  std::lock_guard<std::mutex> l(mu_);
  if (!base_->FileExists(dir)) return base_->RemoveDirRecursively(dir);
  // Moved aside whole (what the caller sees is the same: it is gone).
  const std::string stash = Stash(dir);
  if (stash.empty()) return Status::IOError("PowerLossEnv: cannot move " + dir + " aside");
  pending_.push_back({EntryChange::kRemove, Parent(dir), dir, "", stash});
  return Status::OK();
}

Status PowerLossEnv::RenameFile(const std::string& f, const std::string& t) {
  const std::string from = Norm(f), to = Norm(t);
  MOSAIC_RETURN_IF_ERROR(Enter("RenameFile(" + from + " -> " + to + ")"));
  std::lock_guard<std::mutex> l(mu_);
  std::string stash;
  if (base_->FileExists(to) && !fs::is_directory(to)) {
    std::error_code ec;
    stash = stash_dir_ + "/" + std::to_string(++stashed_);
    fs::create_hard_link(to, stash, ec);
    if (ec) return Status::IOError("PowerLossEnv: cannot keep " + to + " aside: " + ec.message());
    auto it = files_.find(to);
    if (it != files_.end()) {
      files_[stash] = it->second;
      files_.erase(it);
    }
  }
  Status s = base_->RenameFile(from, to);
  if (!s.ok()) {
    if (!stash.empty()) {
      std::error_code ec;
      fs::remove(stash, ec);
    }
    return s;
  }
  MoveStates(from, to);
  pending_.push_back({EntryChange::kRename, Parent(to), to, from, stash});
  return Status::OK();
}

Status PowerLossEnv::TruncateFile(const std::string& p, uint64_t size) {
  const std::string path = Norm(p);
  MOSAIC_RETURN_IF_ERROR(Enter("TruncateFile(" + path + ", " + std::to_string(size) + ")"));
  MOSAIC_RETURN_IF_ERROR(base_->TruncateFile(path, size));
  std::lock_guard<std::mutex> l(mu_);
  auto it = files_.find(path);
  if (it != files_.end()) {
    // A truncation is durable only once the file is synced; until then the old bytes may return,
    // which replay must cope with as well: keep them counted as unsynced garbage at worst.
    it->second.size = size;
    it->second.synced = std::min(it->second.synced, size);
  }
  return Status::OK();
}

Status PowerLossEnv::SyncDir(const std::string& d) {
  const std::string dir = Norm(d);
  MOSAIC_RETURN_IF_ERROR(Enter("SyncDir(" + dir + ")"));  // simulated, as Sync
  std::lock_guard<std::mutex> l(mu_);
  std::vector<EntryChange> still;
  for (EntryChange& c : pending_) {
    if (c.dir == dir) continue;  // durable now
    still.push_back(std::move(c));
  }
  pending_.swap(still);
  return Status::OK();
}

Result<std::unique_ptr<FileLock>> PowerLossEnv::LockFile(const std::string& path) {
  MOSAIC_RETURN_IF_ERROR(Enter("LockFile(" + path + ")"));
  return base_->LockFile(path);
}

void PowerLossEnv::MoveStates(const std::string& from, const std::string& to) {
  auto moved = [&](const std::string& p) { return to + p.substr(from.size()); };
  std::map<std::string, FileState> states;
  for (auto it = files_.begin(); it != files_.end();) {
    if (!Under(it->first, from)) {
      ++it;
      continue;
    }
    states[moved(it->first)] = it->second;
    it = files_.erase(it);
  }
  files_.merge(states);
  // A change made inside a directory belongs to that directory wherever it goes (an unsynced
  // remove inside a renamed directory comes back in it).
  for (EntryChange& c : pending_) {
    for (std::string* p : {&c.dir, &c.path, &c.from})
      if (!p->empty() && Under(*p, from)) *p = moved(*p);
  }
}

Status PowerLossEnv::Undo(const EntryChange& c) {
  std::error_code ec;
  switch (c.kind) {
    case EntryChange::kCreate:
      fs::remove_all(c.path, ec);
      for (auto it = files_.begin(); it != files_.end();)
        it = Under(it->first, c.path) ? files_.erase(it) : std::next(it);
      break;
    case EntryChange::kRename:
      if (fs::exists(c.path, ec)) {
        fs::rename(c.path, c.from, ec);
        MoveStates(c.path, c.from);
      }
      if (!c.stash.empty()) {
        fs::rename(c.stash, c.path, ec);
        MoveStates(c.stash, c.path);
      }
      break;
    case EntryChange::kRemove:
      fs::rename(c.stash, c.path, ec);
      MoveStates(c.stash, c.path);
      break;
  }
  return ec ? Status::IOError("PowerLossEnv: cannot undo a change of " + c.path + ": " + ec.message())
            : Status::OK();
}

Status PowerLossEnv::PowerLoss(Tail tail, uint32_t seed) {
  std::lock_guard<std::mutex> l(mu_);
  for (size_t i = pending_.size(); i-- > 0;) {
    const EntryChange c = pending_[i];  // undoing moves the paths of earlier changes
    MOSAIC_RETURN_IF_ERROR(Undo(c));
  }
  pending_.clear();
  std::mt19937 rng(seed);
  for (const auto& [path, st] : files_) {
    if (Under(path, stash_dir_)) continue;
    std::error_code ec;
    if (!fs::is_regular_file(path, ec)) continue;
    const uint64_t size = fs::file_size(path, ec);
    if (ec || size <= st.synced) continue;
    if (tail == Tail::kDropped) {
      fs::resize_file(path, st.synced, ec);
    } else {
      std::string bytes(size - st.synced, '\0');
      if (tail == Tail::kGarbage)
        for (char& b : bytes) b = static_cast<char>(rng());
      std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
      f.seekp(static_cast<std::streamoff>(st.synced));
      f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
      if (!f) return Status::IOError("PowerLossEnv: cannot rewrite the tail of " + path);
    }
    if (ec) return Status::IOError("PowerLossEnv: cannot cut the tail of " + path + ": " + ec.message());
  }
  files_.clear();  // what is on disk now is what survived: durable from here on
  std::error_code ec;
  fs::remove_all(stash_dir_, ec);
  fs::create_directories(stash_dir_, ec);
  crashed_ = false;
  crash_at_ = 0;
  fail_at_ = 0;
  return Status::OK();
}

}  // namespace mosaic::testing
