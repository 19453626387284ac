#include "util/fault_env.h"

#include <chrono>
#include <cstdlib>
#include <filesystem>

namespace mosaic::testing {
namespace {

class FaultFile final : public WritableFile {
 public:
  FaultFile(FaultEnv* env, std::string path, std::unique_ptr<WritableFile> base)
      : env_(env), path_(std::move(path)), base_(std::move(base)) {}

  Status Append(std::string_view data) override {
    env_->MaybeBlock(FaultEnv::Op::kAppend, path_);
    size_t allowed = data.size();
    Status budget = env_->ChargeWrite(path_, data.size(), &allowed);
    if (allowed > 0) MOSAIC_RETURN_IF_ERROR(base_->Append(data.substr(0, allowed)));
    env_->RecordWritten(path_, base_->Size());
    return budget;
  }
  Status Sync() override {
    env_->MaybeBlock(FaultEnv::Op::kSync, path_);
    if (env_->Matches(path_) && env_->fail_sync())
      return Status::IOError("injected fsync failure on " + path_);
    MOSAIC_RETURN_IF_ERROR(base_->Sync());
    env_->RecordSynced(path_, base_->Size());
    return Status::OK();
  }
  Status Close() override { return base_->Close(); }
  uint64_t Size() const override { return base_->Size(); }

 private:
  FaultEnv* env_;
  std::string path_;
  std::unique_ptr<WritableFile> base_;
};

}  // namespace

bool FaultEnv::Matches(const std::string& path) {
  std::lock_guard<std::mutex> l(mu_);
  return path_filter_.empty() || path.find(path_filter_) != std::string::npos;
}

void FaultEnv::RecordSynced(const std::string& path, uint64_t size) {
  std::lock_guard<std::mutex> l(mu_);
  ++sync_counts_[path];
  files_[path].synced = size;
  files_[path].size = size;
}

void FaultEnv::RecordWritten(const std::string& path, uint64_t size) {
  std::lock_guard<std::mutex> l(mu_);
  files_[path].size = size;
}

Status FaultEnv::ChargeWrite(const std::string& path, size_t n, size_t* allowed) {
  *allowed = n;
  if (!Matches(path)) return Status::OK();
  int64_t budget = write_budget_.load();
  if (budget < 0) return Status::OK();
  if (static_cast<int64_t>(n) <= budget) {
    write_budget_ -= static_cast<int64_t>(n);
    return Status::OK();
  }
  *allowed = static_cast<size_t>(budget);
  write_budget_ = 0;
  return Status::ResourceExhausted("injected: no space left on device writing " + path);
}

void FaultEnv::BlockAt(Op op, std::string substr, int skip) {
  std::lock_guard<std::mutex> l(mu_);
  armed_ = true;
  held_ = false;
  block_op_ = op;
  block_substr_ = std::move(substr);
  block_skip_ = skip;
}

void FaultEnv::MaybeBlock(Op op, const std::string& path) {
  std::unique_lock<std::mutex> l(mu_);
  if (!armed_ || held_ || op != block_op_ || path.find(block_substr_) == std::string::npos) return;
  if (block_skip_ > 0) {
    --block_skip_;
    return;
  }
  held_ = true;
  const uint64_t gen = block_generation_;
  block_cv_.notify_all();
  block_cv_.wait(l, [&] { return block_generation_ != gen; });
}

bool FaultEnv::WaitUntilBlocked() {
  std::unique_lock<std::mutex> l(mu_);
  return block_cv_.wait_for(l, std::chrono::seconds(60), [&] { return held_; });
}

void FaultEnv::Unblock() {
  std::lock_guard<std::mutex> l(mu_);
  armed_ = false;
  held_ = false;
  ++block_generation_;
  block_cv_.notify_all();
}

uint64_t FaultEnv::CountOf(const std::map<std::string, uint64_t>& counts,
                           const std::string& substr) {
  std::lock_guard<std::mutex> l(mu_);
  uint64_t n = 0;
  for (const auto& [path, count] : counts)
    if (path.find(substr) != std::string::npos) n += count;
  return n;
}

Result<std::unique_ptr<WritableFile>> FaultEnv::NewWritableFile(const std::string& path) {
  MaybeBlock(Op::kCreate, path);
  MOSAIC_ASSIGN_OR_RETURN(auto f, base_->NewWritableFile(path));
  {
    std::lock_guard<std::mutex> l(mu_);
    files_[path] = FileState{};
  }
  return std::unique_ptr<WritableFile>(new FaultFile(this, path, std::move(f)));
}

Result<std::unique_ptr<WritableFile>> FaultEnv::NewAppendableFile(const std::string& path) {
  MOSAIC_ASSIGN_OR_RETURN(auto f, base_->NewAppendableFile(path));
  {
    std::lock_guard<std::mutex> l(mu_);
    auto it = files_.find(path);
    if (it == files_.end()) files_[path] = FileState{f->Size(), f->Size()};  // existing data: durable
  }
  return std::unique_ptr<WritableFile>(new FaultFile(this, path, std::move(f)));
}

Status FaultEnv::RemoveFile(const std::string& p) {
  {
    std::lock_guard<std::mutex> l(mu_);
    files_.erase(p);
  }
  return base_->RemoveFile(p);
}

Status FaultEnv::RenameFile(const std::string& from, const std::string& to) {
  if (fail_rename_ && Matches(to)) return Status::IOError("injected rename failure: " + to);
  MOSAIC_RETURN_IF_ERROR(base_->RenameFile(from, to));
  std::lock_guard<std::mutex> l(mu_);
  if (!sync_dir_trigger_.empty() && to.find(sync_dir_trigger_) != std::string::npos) {
    sync_dir_trigger_.clear();
    fail_sync_dir_ = true;
  }
  auto it = files_.find(from);
  if (it != files_.end()) {
    files_[to] = it->second;
    files_.erase(it);
  }
  return Status::OK();
}

Status FaultEnv::SyncDir(const std::string& d) {
  MaybeBlock(Op::kSyncDir, d);
  {
    std::lock_guard<std::mutex> l(mu_);
    ++sync_dir_counts_[d];
  }
  if (fail_sync_dir_ && Matches(d)) return Status::IOError("injected directory fsync failure: " + d);
  return base_->SyncDir(d);
}

Status FaultEnv::TruncateFile(const std::string& p, uint64_t size) {
  MOSAIC_RETURN_IF_ERROR(base_->TruncateFile(p, size));
  std::lock_guard<std::mutex> l(mu_);
  auto it = files_.find(p);
  if (it != files_.end()) {
    it->second.size = size;
    it->second.synced = std::min(it->second.synced, size);
  }
  return Status::OK();
}

uint64_t FaultEnv::UnsyncedBytes() {
  std::lock_guard<std::mutex> l(mu_);
  uint64_t n = 0;
  for (const auto& [path, st] : files_) n += st.size > st.synced ? st.size - st.synced : 0;
  return n;
}

Status FaultEnv::DropUnsyncedData() {
  std::lock_guard<std::mutex> l(mu_);
  for (const auto& [path, st] : files_) {
    if (!base_->FileExists(path)) continue;
    MOSAIC_ASSIGN_OR_RETURN(uint64_t size, base_->GetFileSize(path));
    if (size > st.synced) MOSAIC_RETURN_IF_ERROR(base_->TruncateFile(path, st.synced));
  }
  return Status::OK();
}

TempDir::TempDir() {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base ? base : "/tmp") + "/mosaic-test-XXXXXX";
  char* p = ::mkdtemp(tmpl.data());
  path_ = p ? p : "";
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

}  // namespace mosaic::testing
