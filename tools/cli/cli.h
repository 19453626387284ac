// Shared pieces of the `mosaic` command: argument parsing, opening the database, output and
// error reporting. Every subcommand is a function `int RunX(Args&)` in its own file.
#pragma once

#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "mosaic/db.h"
#include "mosaic/status.h"

namespace mosaic::cli {

// Exit codes.
inline constexpr int kExitOk = 0;
inline constexpr int kExitError = 1;  // the operation failed
inline constexpr int kExitUsage = 2;  // the command line was wrong

// Parsed command line: positional words and --flags (`--flag value`, `--flag=value`, or a bare
// `--switch`). Flags listed as switches never take a value.
class Args {
 public:
  Args(int argc, char** argv, const std::vector<std::string>& switches);

  // Next positional word, consumed.
  std::optional<std::string> Next();
  bool Has(const std::string& flag) const { return flags_.count(flag) > 0; }
  std::optional<std::string> Get(const std::string& flag) const;
  std::vector<std::string> GetAll(const std::string& flag) const;
  // A comma-separated flag ("a,b,c") as its non-empty items; empty when absent.
  std::vector<std::string> GetList(const std::string& flag) const;
  std::string GetOr(const std::string& flag, const std::string& fallback) const;
  // Numeric flag; error names the flag and the value.
  Result<long long> GetInt(const std::string& flag, long long fallback) const;
  bool help() const { return Has("help") || Has("h"); }
  // Flags given that are not in `known` (reported as usage errors).
  std::vector<std::string> Unknown(const std::vector<std::string>& known) const;

 private:
  std::vector<std::string> positional_;
  size_t next_ = 0;
  std::multimap<std::string, std::string> flags_;
};

// Opens the database named by --db, $MOSAIC_DB, or ./mosaic-data.
Result<std::unique_ptr<Db>> OpenDb(const Args& args);
std::string DbPath(const Args& args);

// A collection and the database it lives in (which must outlive it).
struct OpenedCollection {
  std::unique_ptr<Db> db;
  std::shared_ptr<Collection> collection;
};
// Opens the database (OpenDb) and its collection `name`.
Result<OpenedCollection> OpenCollection(const Args& args, const std::string& name);
// The --filter flag's JSON, parsed; nullopt without the flag.
Result<std::optional<Filter>> FilterFlag(const Args& args);

std::string HumanBytes(uint64_t bytes);  // "1.50 MiB"

int Fail(const Status& s);                 // prints "mosaic: error: ..." and returns kExitError
int Usage(const std::string& message, const char* help);  // prints message + help, kExitUsage
// Checks unknown flags and --help; returns an exit code to stop with, or nullopt to go on.
std::optional<int> CheckFlags(const Args& args, const std::vector<std::string>& known,
                              const char* help);

// A terminal progress bar on stderr (only when stderr is a terminal); Finish prints a summary.
class Progress {
 public:
  Progress(std::string what, uint64_t total);
  void Update(uint64_t done);
  void Finish();

 private:
  std::string what_;
  uint64_t total_;
  uint64_t done_ = 0;
  double start_;
  double last_draw_ = 0;
  bool tty_;
};

int RunCollection(Args& args);
int RunUpsert(Args& args);
int RunSearch(Args& args);
int RunSnapshot(Args& args);
int RunPoints(const std::string& verb, Args& args);  // get, delete, scroll, count
int RunEval(Args& args);
int RunModels(Args& args);
int RunModelsTrainText(Args& args);  // models train-text (cmd_train_text.cc)
int RunEmbed(Args& args);
int RunIngest(Args& args);
// The applications (docs/applications.md), one file each.
int RunRecommend(Args& args);
int RunClassify(Args& args);
int RunCluster(Args& args);
int RunDedup(Args& args);
int RunPeople(Args& args);
int RunQa(Args& args);   // qa import
int RunAsk(Args& args);
int RunPassages(Args& args);
int RunServe(Args& args);
int RunRepair(Args& args);

}  // namespace mosaic::cli
