// OCR with PaddleOCR (PP-OCR v3/v4 style) ONNX models: a DB text detector, an optional 0/180
// degree direction classifier and a CTC text recogniser with its character dictionary.
//
// Read() runs the whole pipeline on one image: detection at a limited resolution, DB
// post-processing into quadrilaterals, perspective crops, direction correction, batched
// recognition, and returns the lines in reading order with boxes in the image's pixels.
// As an Encoder it produces no vectors, only data = {"lines": [{"text", "confidence", "box"}],
// "text": the lines joined by "\n"}.
//
// Thread safety: an opened engine is immutable; Read() and Encode() may be called from several
// threads at once (the ONNX Runtime sessions are shared and thread-safe for runs).
#pragma once

#include <array>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "embed/encoder.h"
#include "embed/ocr/ctc_decoder.h"
#include "embed/ocr/db_postprocess.h"
#include "embed/runtime/session.h"
#include "media/image.h"
#include "mosaic/status.h"

namespace mosaic::embed {

struct OcrOptions {
  // Detection: the image is scaled down (never up) so its longer side is at most this, then
  // each side is rounded to a multiple of 32.
  int det_limit_side_len = 960;
  float det_db_thresh = 0.3f;        // probability-map binarization threshold
  float det_db_box_thresh = 0.6f;    // minimum mean probability inside a box
  float det_db_unclip_ratio = 1.5f;  // box growth: area * ratio / perimeter
  int max_candidates = 1000;         // regions examined per image
  // kSlow (score over the detected region) rather than PaddleOCR's default kFast (over its
  // rectangle): on a photographed page the lines bend, and kFast drops three of its seven lines.
  ocr::DbScoreMode det_db_score_mode = ocr::DbScoreMode::kSlow;
  // Direction: crops classified "180" with a score above cls_thresh are turned round. Ignored
  // when no classifier model is given. A line longer than the classifier's input aspect is
  // classified in up to cls_max_windows undistorted windows whose scores are averaged (squashing
  // a whole line into the 48x192 input, as PaddleOCR does, makes the score unreliable).
  bool use_angle_cls = true;
  float cls_thresh = 0.9f;
  int cls_batch = 6;
  int cls_max_windows = 8;
  // Recognition.
  int rec_batch = 8;
  int rec_image_height = 48;
  float drop_score = 0.5f;  // lines with a lower confidence are dropped
  // Put back the spaces between words that the recogniser left out of mostly-Latin lines,
  // judged from the gaps between its characters (see ocr/word_spacing.h).
  bool infer_spaces = true;
  std::string model_name = "ppocr-v4";  // EncoderInfo::model
};

struct OcrModelPaths {
  std::string det;   // DB detector (required)
  std::string rec;   // CTC recogniser (required)
  std::string cls;   // direction classifier (optional: empty for none)
  std::string dict;  // recogniser's character dictionary, one entry per line (required)
};

struct OcrLine {
  std::string text;
  float confidence = 0;
  std::array<std::array<float, 2>, 4> box{};  // image pixels, clockwise from top-left
};

class OcrEngine : public Encoder {
 public:
  /// Opens and validates the models. NotFound for a missing file; InvalidArgument naming the
  /// file and the expectation for a file that is not a model or not the right kind of model
  /// (e.g. the classifier given as the detector), or a dictionary that does not match the
  /// recogniser's class count.
  static Result<std::unique_ptr<OcrEngine>> Open(const OcrModelPaths& paths,
                                                 const OcrOptions& options = {},
                                                 const SessionOptions& session_options = {});

  /// The text lines of `image` (RGB, gray or RGBA), in reading order. InvalidArgument for an
  /// empty image.
  Result<std::vector<OcrLine>> Read(const media::Image& image) const;

  const EncoderInfo& info() const override { return info_; }
  Result<std::vector<EncoderOutput>> Encode(std::span<const EncoderInput> batch) override;
  int max_batch() const override { return 1; }

  /// The lines as the JSON stored by Encode().
  static nlohmann::json LinesToJson(const std::vector<OcrLine>& lines);

 private:
  OcrEngine() = default;

  struct Crop;
  Result<std::vector<Crop>> Detect(const media::Image& rgb) const;
  Status Classify(std::vector<Crop>& crops) const;
  Status Recognize(std::vector<Crop>& crops) const;

  OcrOptions options_;
  EncoderInfo info_;
  std::shared_ptr<Session> det_;
  std::shared_ptr<Session> rec_;
  std::shared_ptr<Session> cls_;  // null without a classifier
  ocr::CtcDecoder decoder_;
  int cls_height_ = 48;
  int cls_width_ = 192;
};

}  // namespace mosaic::embed
