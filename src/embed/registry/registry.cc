#include "embed/registry/registry.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "embed/registry/catalog.h"
#include "embed/registry/sha256.h"

namespace mosaic::embed {
namespace {

namespace fs = std::filesystem;

constexpr char kManifestFile[] = "manifest.json";
constexpr char kTmpPrefix[] = ".tmp-";
constexpr char kTrashPrefix[] = ".trash-";

std::string Errno(const std::string& what) {
  return what + ": " + std::strerror(errno);
}

// A name for a private scratch folder: <prefix><name>-<pid>-<counter>.
std::string ScratchName(const char* prefix, std::string_view name) {
  static std::atomic<uint64_t> counter{0};
  return std::string(prefix) + std::string(name) + "-" + std::to_string(::getpid()) + "-" +
         std::to_string(counter++);
}

// The pid in a scratch folder name, or 0.
pid_t ScratchPid(const std::string& entry) {
  auto last = entry.rfind('-');
  if (last == std::string::npos || last == 0) return 0;
  auto prev = entry.rfind('-', last - 1);
  if (prev == std::string::npos) return 0;
  return static_cast<pid_t>(std::atoi(entry.c_str() + prev + 1));
}

Status SyncPath(const std::string& path, bool directory) {
  int fd = ::open(path.c_str(), (directory ? O_RDONLY | O_DIRECTORY : O_RDONLY) | O_CLOEXEC);
  if (fd < 0) return Status::IOError(Errno("cannot open " + path));
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return Status::IOError("cannot sync " + path + ": " + std::strerror(err));
  return Status::OK();
}

// Copies src to dst (created, synced) and hashes the bytes on the way.
Status CopyAndHash(const std::string& src, const std::string& dst, Sha256& hash, uint64_t* bytes) {
  int in = ::open(src.c_str(), O_RDONLY | O_CLOEXEC);
  if (in < 0) return Status::IOError(Errno("cannot open " + src));
  int out = ::open(dst.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (out < 0) {
    ::close(in);
    return Status::IOError(Errno("cannot create " + dst));
  }
  std::vector<char> buf(1 << 20);
  Status s;
  *bytes = 0;
  for (;;) {
    ssize_t n = ::read(in, buf.data(), buf.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      s = Status::IOError(Errno("cannot read " + src));
      break;
    }
    if (n == 0) break;
    hash.Update(buf.data(), static_cast<size_t>(n));
    *bytes += static_cast<uint64_t>(n);
    for (ssize_t off = 0; off < n;) {
      ssize_t w = ::write(out, buf.data() + off, static_cast<size_t>(n - off));
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) {
        s = Status::IOError(Errno("cannot write " + dst));
        break;
      }
      off += w;
    }
    if (!s.ok()) break;
  }
  if (s.ok() && ::fsync(out) != 0) s = Status::IOError(Errno("cannot sync " + dst));
  ::close(in);
  ::close(out);
  return s;
}

Status WriteFileSynced(const std::string& path, const std::string& data) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Status::IOError(Errno("cannot create " + path));
  size_t off = 0;
  while (off < data.size()) {
    ssize_t w = ::write(fd, data.data() + off, data.size() - off);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) {
      int err = errno;
      ::close(fd);
      return Status::IOError("cannot write " + path + ": " + std::strerror(err));
    }
    off += static_cast<size_t>(w);
  }
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (rc != 0) return Status::IOError("cannot sync " + path + ": " + std::strerror(err));
  return Status::OK();
}

Result<ModelManifest> ReadManifest(const std::string& folder) {
  const std::string path = folder + "/" + kManifestFile;
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("cannot read " + path + ": " + std::strerror(errno));
  std::stringstream ss;
  ss << in.rdbuf();
  auto j = nlohmann::json::parse(ss.str(), nullptr, false);
  if (j.is_discarded()) return Status::Corruption(path + " is not valid JSON");
  auto m = ModelManifest::FromJson(j);
  if (!m.ok()) return m.status().WithContext(path);
  const std::string folder_name = fs::path(folder).filename().string();
  if (m->name != folder_name)
    return Status::Corruption(path + " names model '" + m->name + "' but lives in folder '" +
                              folder_name + "'");
  return m;
}

// Removes a folder tree, ignoring errors: used to clean up after failures.
void RemoveQuietly(const std::string& path) {
  std::error_code ec;
  fs::remove_all(path, ec);
}

// Moves `from` to the (absent) path `to`; swaps them when `exchange` and `to` exists.
// Returns errno-style failure as IOError; AlreadyExists when `to` exists and !exchange.
Status InstallRename(const std::string& from, const std::string& to, bool exchange,
                     bool* exchanged) {
  *exchanged = false;
  if (exchange && ::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_EXCHANGE) == 0) {
    *exchanged = true;
    return Status::OK();
  }
  if (exchange && errno != ENOENT && errno != EINVAL && errno != ENOSYS)
    return Status::IOError(Errno("cannot replace " + to));
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0)
    return Status::OK();
  if (errno == EEXIST) return Status::AlreadyExists(to + " exists");
  if (errno != EINVAL && errno != ENOSYS)
    return Status::IOError(Errno("cannot rename " + from + " to " + to));
  // File systems without renameat2 flags: rename(2) cannot replace a non-empty folder, so it
  // still refuses to clobber an installed model.
  if (::rename(from.c_str(), to.c_str()) == 0) return Status::OK();
  if (errno == EEXIST || errno == ENOTEMPTY) return Status::AlreadyExists(to + " exists");
  return Status::IOError(Errno("cannot rename " + from + " to " + to));
}

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& s : items)
    out += (out.empty() ? "" : ", ") + s;
  return out;
}

}  // namespace

Result<ModelRegistry> ModelRegistry::Open(std::string dir) {
  if (dir.empty()) return Status::InvalidArgument("models directory is empty");
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return Status::IOError("cannot create models directory " + dir + ": " + ec.message());
  if (!fs::is_directory(dir, ec))
    return Status::InvalidArgument("models directory " + dir + " is not a directory");
  std::string abs = fs::absolute(dir, ec).lexically_normal().string();
  while (abs.size() > 1 && abs.back() == '/')
    abs.pop_back();
  ModelRegistry reg(abs);
  // Scratch folders of crashed installs and removals: their owner process is gone.
  for (auto it = fs::directory_iterator(abs, ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    std::string entry = it->path().filename().string();
    if (entry.rfind(kTmpPrefix, 0) != 0 && entry.rfind(kTrashPrefix, 0) != 0) continue;
    pid_t pid = ScratchPid(entry);
    if (pid > 0 && pid != ::getpid() && ::kill(pid, 0) != 0 && errno == ESRCH)
      RemoveQuietly(it->path().string());
  }
  return reg;
}

std::string ModelRegistry::DefaultDir() {
  if (const char* m = std::getenv("MOSAIC_MODELS"); m != nullptr && *m != '\0') return m;
  if (const char* x = std::getenv("XDG_DATA_HOME"); x != nullptr && *x != '\0')
    return std::string(x) + "/mosaic/models";
  const char* home = std::getenv("HOME");
  return std::string(home != nullptr && *home != '\0' ? home : ".") + "/.local/share/mosaic/models";
}

std::string ModelRegistry::ModelDir(std::string_view name) const {
  return dir_ + "/" + std::string(name);
}

std::string ModelRegistry::DownloadDir(std::string_view name) const {
  return dir_ + "/.downloads/" + std::string(name);
}

Status ModelRegistry::CheckName(std::string_view name) const {
  if (!IsValidModelName(name))
    return Status::InvalidArgument("'" + std::string(name) +
                                   "' is not a valid model name (1-64 characters [a-z0-9._-], "
                                   "starting with a letter or digit)");
  return Status::OK();
}

std::vector<ModelManifest> ModelRegistry::List(std::vector<Status>* problems) const {
  std::vector<ModelManifest> out;
  std::error_code ec;
  for (auto it = fs::directory_iterator(dir_, ec); !ec && it != fs::directory_iterator();
       it.increment(ec)) {
    std::string entry = it->path().filename().string();
    if (!IsValidModelName(entry) || !it->is_directory()) continue;
    auto m = ReadManifest(it->path().string());
    if (m.ok()) {
      out.push_back(std::move(m).value());
    } else if (problems != nullptr) {
      problems->push_back(m.status());
    }
  }
  if (ec && problems != nullptr)
    problems->push_back(Status::IOError("cannot list " + dir_ + ": " + ec.message()));
  std::sort(out.begin(), out.end(),
            [](const ModelManifest& a, const ModelManifest& b) { return a.name < b.name; });
  return out;
}

bool ModelRegistry::Contains(std::string_view name) const {
  std::error_code ec;
  return IsValidModelName(name) && fs::exists(ModelDir(name) + "/" + kManifestFile, ec);
}

Status ModelRegistry::NotInstalled(std::string_view name) const {
  std::vector<std::string> installed, pullable;
  for (const auto& m : List())
    installed.push_back(m.name);
  for (const auto& m : Catalog())
    if (std::find(installed.begin(), installed.end(), m.name) == installed.end())
      pullable.push_back(m.name);
  std::string msg = "model '" + std::string(name) + "' is not installed in " + dir_ +
                    "; installed: " + (installed.empty() ? "none" : Join(installed));
  if (!pullable.empty()) msg += "; available to pull: " + Join(pullable);
  return Status::NotFound(msg);
}

Result<ModelManifest> ModelRegistry::Get(std::string_view name) const {
  MOSAIC_RETURN_IF_ERROR(CheckName(name));
  if (!Contains(name)) return NotInstalled(name);
  return ReadManifest(ModelDir(name));
}

Result<std::string> ModelRegistry::ModelPath(const ModelManifest& manifest,
                                             std::string_view role) const {
  const ModelFile* f = manifest.FindFile(role);
  if (f == nullptr) {
    std::vector<std::string> roles;
    for (const auto& file : manifest.files)
      roles.push_back(file.role);
    return Status::NotFound("model '" + manifest.name + "' has no file with role '" +
                            std::string(role) + "' (roles: " + Join(roles) + ")");
  }
  return ModelDir(manifest.name) + "/" + f->path;
}

Result<ModelManifest> ModelRegistry::Add(const ModelManifest& manifest,
                                         const std::string& source_dir,
                                         const AddOptions& options) const {
  // Validate through the JSON form, so a hand-built manifest meets the same rules as a file.
  MOSAIC_ASSIGN_OR_RETURN(ModelManifest m, ModelManifest::FromJson(manifest.ToJson()));
  for (const auto& [role, path] : options.sources)
    if (m.FindFile(role) == nullptr) {
      std::vector<std::string> roles;
      for (const auto& f : m.files)
        roles.push_back(f.role);
      return Status::InvalidArgument("model '" + m.name + "' has no file with role '" + role +
                                     "' (roles: " + Join(roles) + ")");
    }
  const std::string target = ModelDir(m.name);
  if (!options.replace && Contains(m.name))
    return Status::AlreadyExists("model '" + m.name + "' is already installed in " + target);

  const std::string tmp = dir_ + "/" + ScratchName(kTmpPrefix, m.name);
  std::error_code ec;
  fs::create_directory(tmp, ec);
  if (ec) return Status::IOError("cannot create " + tmp + ": " + ec.message());
  bool installed = false;
  struct Cleanup {
    const std::string& path;
    const bool& keep;
    ~Cleanup() {
      if (!keep) RemoveQuietly(path);
    }
  } cleanup{tmp, installed};

  for (auto& f : m.files) {
    auto src_it = options.sources.find(f.role);
    const std::string src =
        src_it != options.sources.end() ? src_it->second : source_dir + "/" + f.path;
    if (!fs::is_regular_file(src, ec))
      return Status::NotFound("model '" + m.name + "': file '" + f.path + "' (role " + f.role +
                              ") not found at " + src);
    const std::string dst = tmp + "/" + f.path;
    fs::create_directories(fs::path(dst).parent_path(), ec);
    if (ec) return Status::IOError("cannot create folder for " + dst + ": " + ec.message());
    Sha256 hash;
    uint64_t bytes = 0;
    bool moved = options.move && ::rename(src.c_str(), dst.c_str()) == 0;
    if (moved) {
      MOSAIC_RETURN_IF_ERROR(HashFileInto(dst, hash));
      bytes = fs::file_size(dst, ec);
    } else {
      MOSAIC_RETURN_IF_ERROR(CopyAndHash(src, dst, hash, &bytes));
    }
    const std::string got = hash.HexDigest();
    if (!f.sha256.empty() && got != f.sha256)
      return Status::Corruption("file " + f.path + " has sha256 " + got + ", manifest says " +
                                f.sha256);
    if (f.bytes != 0 && bytes != f.bytes)
      return Status::Corruption("file " + f.path + " has " + std::to_string(bytes) +
                                " bytes, manifest says " + std::to_string(f.bytes));
    f.sha256 = got;
    f.bytes = bytes;
  }
  MOSAIC_RETURN_IF_ERROR(WriteFileSynced(tmp + "/" + kManifestFile, m.ToJson().dump(2) + "\n"));
  for (auto it = fs::recursive_directory_iterator(tmp, ec);
       !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
    if (it->is_directory()) MOSAIC_RETURN_IF_ERROR(SyncPath(it->path().string(), true));
  MOSAIC_RETURN_IF_ERROR(SyncPath(tmp, true));

  bool exchanged = false;
  Status s = InstallRename(tmp, target, options.replace, &exchanged);
  if (s.IsAlreadyExists() && options.replace) {
    // No atomic exchange on this file system: move the old model aside, then install.
    const std::string trash = dir_ + "/" + ScratchName(kTrashPrefix, m.name);
    if (::rename(target.c_str(), trash.c_str()) != 0)
      return Status::IOError(Errno("cannot replace " + target));
    s = InstallRename(tmp, target, false, &exchanged);
    RemoveQuietly(trash);
  }
  if (s.IsAlreadyExists())
    return Status::AlreadyExists("model '" + m.name + "' is already installed in " + target);
  MOSAIC_RETURN_IF_ERROR(s);
  // After an exchange `tmp` holds the replaced model, which the cleanup removes.
  installed = !exchanged;
  MOSAIC_RETURN_IF_ERROR(SyncPath(dir_, true));
  return m;
}

Status ModelRegistry::Remove(std::string_view name) const {
  MOSAIC_RETURN_IF_ERROR(CheckName(name));
  const std::string target = ModelDir(name);
  std::error_code ec;
  if (!fs::is_directory(target, ec)) return NotInstalled(name);
  // Rename first, so the model disappears at once even if deleting its files takes a while.
  const std::string trash = dir_ + "/" + ScratchName(kTrashPrefix, name);
  if (::rename(target.c_str(), trash.c_str()) != 0)
    return Status::IOError(Errno("cannot remove " + target));
  MOSAIC_RETURN_IF_ERROR(SyncPath(dir_, true));
  fs::remove_all(trash, ec);
  if (ec)
    return Status::IOError("removed model '" + std::string(name) + "' but cannot delete " + trash +
                           ": " + ec.message());
  return Status::OK();
}

Status ModelRegistry::Verify(std::string_view name) const {
  MOSAIC_ASSIGN_OR_RETURN(ModelManifest m, Get(name));
  std::vector<std::string> problems;
  for (const auto& f : m.files) {
    const std::string path = ModelDir(name) + "/" + f.path;
    std::error_code ec;
    if (!fs::is_regular_file(path, ec)) {
      problems.push_back("file " + f.path + " is missing");
      continue;
    }
    uint64_t bytes = fs::file_size(path, ec);
    if (f.bytes != 0 && bytes != f.bytes) {
      problems.push_back("file " + f.path + " has " + std::to_string(bytes) +
                         " bytes, manifest says " + std::to_string(f.bytes));
      continue;
    }
    auto got = Sha256File(path);
    if (!got.ok()) {
      problems.push_back(got.status().message());
    } else if (!f.sha256.empty() && *got != f.sha256) {
      problems.push_back("file " + f.path + " has sha256 " + *got + ", manifest says " + f.sha256);
    }
  }
  if (problems.empty()) return Status::OK();
  std::string msg = "model '" + m.name + "' failed verification: ";
  for (size_t i = 0; i < problems.size(); ++i)
    msg += (i ? "; " : "") + problems[i];
  return Status::Corruption(msg);
}

}  // namespace mosaic::embed
