// Test-time augmentation (TTA) of the image vectors at ingest: besides an image itself, the
// vector encoders ("clip", "visual") see a few augmented views of it (mirrored, cropped), and the
// image's vector is the mean of the views' vectors, re-normalized. A mirrored or slightly cropped
// copy of a photo then gets nearly the same vector as the original (docs/dedup.md).
//
// Views are made on the fly, model batch by model batch, so at most one batch of views is held.
// There is no "scale" view: both image encoders resize their input to a fixed 224 px, so a
// rescaled view would feed them nearly the same pixels as the image itself.
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "embed/encoder.h"
#include "media/image.h"
#include "mosaic/status.h"

namespace mosaic::ingest {

enum class TtaView { kFlip, kCrop };

// The central share of each side that the crop view keeps (80%: a 10% margin on every side).
inline constexpr double kTtaCropShare = 0.8;

// "none" or "" → no views; "flip", "crop" or "flip,crop" (any order, each once). InvalidArgument
// naming the item otherwise.
Result<std::vector<TtaView>> ParseTta(std::string_view spec);
// The canonical spelling: "none", "flip", "crop", "flip,crop".
std::string TtaName(const std::vector<TtaView>& views);

// The augmented views of `image`, one per view in order (the encoders see the image itself
// before them).
std::vector<media::Image> TtaViews(const media::Image& image, const std::vector<TtaView>& views);

// Runs `enc` over `images` in model batches, outputs in order. With views, each image is encoded
// with its views (made one model batch at a time, so few are held) and its vector is their mean,
// re-normalized. Ingest and the query encoder use it, so a query image is seen as ingest saw one.
Result<std::vector<embed::EncoderOutput>> EncodeImages(embed::Encoder& enc,
                                                       const std::vector<const media::Image*>& images,
                                                       const std::vector<TtaView>& views = {});

}  // namespace mosaic::ingest
