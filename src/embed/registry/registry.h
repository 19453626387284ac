// ModelRegistry: the models installed on this machine, one folder per model:
//
//   <dir>/<name>/manifest.json     what the files are (embed/registry/manifest.h)
//   <dir>/<name>/<file paths>      the files, as the manifest names them
//   <dir>/.downloads/<name>/       partial downloads of `mosaic models pull`, kept for resuming
//
// Installing builds the whole folder under a temporary name and renames it into place, so a
// model folder is either absent or complete; a failed Add leaves nothing behind. Several
// processes may use one registry: installs of one name race safely (one wins, or with
// replace=true the last wins). A ModelRegistry object holds only its directory path, so it is
// safe to use from several threads. Format: docs/model_registry.md.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "embed/registry/manifest.h"
#include "mosaic/status.h"

namespace mosaic::embed {

class ModelRegistry {
 public:
  /// Opens (creating it if needed) the registry in `dir`, and clears leftovers of installs that
  /// crashed.
  static Result<ModelRegistry> Open(std::string dir);

  /// $MOSAIC_MODELS if set, else $XDG_DATA_HOME/mosaic/models, else
  /// ~/.local/share/mosaic/models.
  static std::string DefaultDir();

  /// The registry's directory, absolute.
  const std::string& dir() const { return dir_; }
  /// Where model `name` lives (whether or not it is installed).
  std::string ModelDir(std::string_view name) const;
  /// Where `pull` keeps partial downloads of `name`.
  std::string DownloadDir(std::string_view name) const;

  /// Installed models, sorted by name. A folder whose manifest cannot be read is left out and,
  /// when `problems` is given, reported there.
  std::vector<ModelManifest> List(std::vector<Status>* problems = nullptr) const;

  bool Contains(std::string_view name) const;

  /// The manifest of installed model `name`. NotFound lists the installed models and the catalog
  /// models that can be pulled.
  Result<ModelManifest> Get(std::string_view name) const;

  /// Absolute path of the manifest's file with `role`; NotFound lists the roles it has.
  Result<std::string> ModelPath(const ModelManifest& manifest, std::string_view role) const;

  struct AddOptions {
    /// Replace an installed model of the same name (else AlreadyExists).
    bool replace = false;
    /// role -> file to take instead of <source_dir>/<path>.
    std::map<std::string, std::string> sources;
    /// Rename the source files into the registry instead of copying them (same file system).
    /// A failed add then deletes the files it had moved.
    bool move = false;
  };

  /// Installs `manifest`'s files from `source_dir`. Each file is hashed; a file whose hash or
  /// size differs from a value the manifest gives fails the add with Corruption ("file X has
  /// sha256 A, manifest says B") and nothing is installed. Returns the installed manifest, with
  /// every file's sha256 and bytes filled in (recorded on first use where the manifest had none).
  Result<ModelManifest> Add(const ModelManifest& manifest, const std::string& source_dir,
                            const AddOptions& options) const;
  Result<ModelManifest> Add(const ModelManifest& manifest, const std::string& source_dir) const {
    return Add(manifest, source_dir, AddOptions{});
  }

  /// Uninstalls `name` (NotFound if it is not installed).
  Status Remove(std::string_view name) const;

  /// Re-hashes `name`'s files against its manifest. Corruption lists every missing, resized or
  /// changed file.
  Status Verify(std::string_view name) const;

 private:
  explicit ModelRegistry(std::string dir) : dir_(std::move(dir)) {}
  Status CheckName(std::string_view name) const;
  Status NotInstalled(std::string_view name) const;

  std::string dir_;
};

}  // namespace mosaic::embed
