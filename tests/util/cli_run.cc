#include "util/cli_run.h"

#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>

namespace mosaic::testing {

std::string MosaicBinary() { return std::string(MOSAIC_BINARY_DIR) + "/bin/mosaic"; }

CliRun RunMosaic(const std::string& args) {
  char err_path[] = "/tmp/mosaic-cli-stderr-XXXXXX";
  int fd = mkstemp(err_path);
  if (fd >= 0) close(fd);
  FILE* p = popen((MosaicBinary() + " " + args + " 2>" + err_path).c_str(), "r");
  CliRun r;
  if (p == nullptr) return r;
  std::array<char, 4096> buf;
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) r.out.append(buf.data(), n);
  int status = pclose(p);
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  std::ifstream e(err_path);
  std::stringstream ss;
  ss << e.rdbuf();
  r.err = ss.str();
  unlink(err_path);
  return r;
}

}  // namespace mosaic::testing
