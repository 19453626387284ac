#include "cli.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>

namespace mosaic::cli {

Args::Args(int argc, char** argv, const std::vector<std::string>& switches) {
  for (int i = 0; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--") {
      for (++i; i < argc; ++i) positional_.push_back(argv[i]);
      break;
    }
    if (a.size() > 1 && a[0] == '-' && !(a.size() > 1 && (isdigit(a[1]) || a[1] == '.'))) {
      std::string name = a.substr(a[1] == '-' ? 2 : 1);
      auto eq = name.find('=');
      if (eq != std::string::npos) {
        flags_.emplace(name.substr(0, eq), name.substr(eq + 1));
      } else if (std::find(switches.begin(), switches.end(), name) != switches.end() ||
                 name == "help" || name == "h" || i + 1 >= argc) {
        flags_.emplace(name, "");
      } else {
        flags_.emplace(name, argv[++i]);
      }
    } else {
      positional_.push_back(a);
    }
  }
}

std::optional<std::string> Args::Next() {
  if (next_ >= positional_.size()) return std::nullopt;
  return positional_[next_++];
}

std::optional<std::string> Args::Get(const std::string& flag) const {
  auto it = flags_.find(flag);
  if (it == flags_.end()) return std::nullopt;
  return it->second;
}

std::vector<std::string> Args::GetAll(const std::string& flag) const {
  std::vector<std::string> out;
  auto [b, e] = flags_.equal_range(flag);
  for (auto it = b; it != e; ++it) out.push_back(it->second);
  return out;
}

std::vector<std::string> Args::GetList(const std::string& flag) const {
  std::vector<std::string> out;
  std::stringstream ss(GetOr(flag, ""));
  for (std::string item; std::getline(ss, item, ',');)
    if (!item.empty()) out.push_back(item);
  return out;
}

std::string Args::GetOr(const std::string& flag, const std::string& fallback) const {
  auto v = Get(flag);
  return v ? *v : fallback;
}

Result<long long> Args::GetInt(const std::string& flag, long long fallback) const {
  auto v = Get(flag);
  if (!v) return fallback;
  char* end = nullptr;
  long long n = std::strtoll(v->c_str(), &end, 10);
  if (v->empty() || *end != '\0')
    return Status::InvalidArgument("--" + flag + " expects an integer, got '" + *v + "'");
  return n;
}

std::vector<std::string> Args::Unknown(const std::vector<std::string>& known) const {
  std::vector<std::string> out;
  for (const auto& [k, v] : flags_)
    if (k != "help" && k != "h" && k != "db" &&
        std::find(known.begin(), known.end(), k) == known.end())
      out.push_back(k);
  return out;
}

std::string DbPath(const Args& args) {
  std::string path = args.GetOr("db", "");
  if (path.empty()) {
    const char* env = std::getenv("MOSAIC_DB");
    path = env && *env ? env : "mosaic-data";
  }
  return path;
}

Result<std::unique_ptr<Db>> OpenDb(const Args& args) { return Db::Open(DbPath(args)); }

Result<OpenedCollection> OpenCollection(const Args& args, const std::string& name) {
  OpenedCollection o;
  MOSAIC_ASSIGN_OR_RETURN(o.db, OpenDb(args));
  MOSAIC_ASSIGN_OR_RETURN(o.collection, o.db->GetCollection(name));
  return o;
}

Result<std::optional<Filter>> FilterFlag(const Args& args) {
  auto f = args.Get("filter");
  if (!f) return std::optional<Filter>();
  MOSAIC_ASSIGN_OR_RETURN(Filter filter, Filter::Parse(*f));
  return std::optional<Filter>(std::move(filter));
}

int Fail(const Status& s) {
  std::fprintf(stderr, "mosaic: error: %s\n", s.ToString().c_str());
  return kExitError;
}

int Usage(const std::string& message, const char* help) {
  std::fprintf(stderr, "mosaic: %s\n\n%s", message.c_str(), help);
  return kExitUsage;
}

std::optional<int> CheckFlags(const Args& args, const std::vector<std::string>& known,
                              const char* help) {
  if (args.help()) {
    std::fputs(help, stdout);
    return kExitOk;
  }
  auto unknown = args.Unknown(known);
  if (!unknown.empty()) return Usage("unknown option --" + unknown[0], help);
  return std::nullopt;
}

namespace {
double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch())
      .count();
}
}  // namespace

Progress::Progress(std::string what, uint64_t total)
    : what_(std::move(what)), total_(total), start_(Now()), tty_(isatty(STDERR_FILENO)) {}

void Progress::Update(uint64_t done) {
  done_ = done;
  double now = Now();
  if (!tty_ || now - last_draw_ < 0.1) return;
  last_draw_ = now;
  double rate = done_ / std::max(1e-9, now - start_);
  constexpr int kWidth = 30;
  int filled = total_ ? static_cast<int>(kWidth * done_ / total_) : 0;
  std::string bar(filled, '#');
  bar.resize(kWidth, '.');
  double eta = rate > 0 && total_ > done_ ? (total_ - done_) / rate : 0;
  std::fprintf(stderr, "\r[%s] %llu/%llu %s  %.0f/s  ETA %.0fs ", bar.c_str(),
               static_cast<unsigned long long>(done_), static_cast<unsigned long long>(total_),
               what_.c_str(), rate, eta);
}

void Progress::Finish() {
  double secs = Now() - start_;
  if (tty_) std::fputs("\r\033[K", stderr);
  std::fprintf(stderr, "%llu %s in %.2fs (%.0f/s)\n", static_cast<unsigned long long>(done_),
               what_.c_str(), secs, done_ / std::max(1e-9, secs));
}

std::string HumanBytes(uint64_t b) {
  char buf[32];
  if (b >= (1ull << 30))
    std::snprintf(buf, sizeof(buf), "%.2f GiB", b / double(1ull << 30));
  else if (b >= (1ull << 20))
    std::snprintf(buf, sizeof(buf), "%.2f MiB", b / double(1ull << 20));
  else
    std::snprintf(buf, sizeof(buf), "%.1f KiB", b / 1024.0);
  return buf;
}

}  // namespace mosaic::cli
