// The 80 COCO object classes in the order COCO-trained detectors number them (0 = person),
// with the names @vladmandic/human and most tools use.
#pragma once

#include <array>
#include <string_view>

namespace mosaic::embed::objects {

inline constexpr int kCocoClasses = 80;

/// kCocoLabels[i] is the name of class index i.
extern const std::array<std::string_view, kCocoClasses> kCocoLabels;

}  // namespace mosaic::embed::objects
