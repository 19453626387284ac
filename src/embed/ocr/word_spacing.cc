#include "embed/ocr/word_spacing.h"

#include <algorithm>
#include <cmath>

namespace mosaic::embed::ocr {

namespace {

// Advance widths of the printable ASCII characters '!'..'~', in units of the mean advance of
// the lower-case letters, averaged over LiberationSans-Bold, LiberationSans-BoldItalic,
// LiberationSerif-Italic, LiberationSerif-BoldItalic and DejaVuSerif-Bold.
constexpr float kAsciiAdvance[94] = {
    0.71f, 0.95f, 1.12f, 1.08f, 1.70f, 1.51f, 0.49f, 0.69f, 0.69f, 0.90f, 1.25f, 0.54f,
    0.67f, 0.54f, 0.57f, 1.08f, 1.08f, 1.08f, 1.08f, 1.08f, 1.08f, 1.08f, 1.08f, 1.08f,
    1.08f, 0.66f, 0.66f, 1.25f, 1.25f, 1.25f, 1.08f, 1.82f, 1.35f, 1.37f, 1.38f, 1.45f,
    1.30f, 1.24f, 1.49f, 1.50f, 0.67f, 0.98f, 1.40f, 1.19f, 1.73f, 1.44f, 1.49f, 1.27f,
    1.49f, 1.36f, 1.19f, 1.21f, 1.45f, 1.31f, 1.82f, 1.31f, 1.24f, 1.20f, 0.72f, 0.57f,
    0.72f, 1.14f, 1.01f, 0.70f, 1.06f, 1.12f, 1.00f, 1.12f, 1.01f, 0.65f, 1.12f, 1.15f,
    0.57f, 0.57f, 1.05f, 0.57f, 1.66f, 1.15f, 1.11f, 1.12f, 1.12f, 0.80f, 0.94f, 0.64f,
    1.15f, 0.99f, 1.44f, 1.02f, 0.99f, 0.90f, 0.82f, 0.54f, 0.82f, 1.19f,
};

constexpr int kMinPairs = 3;  // fewer distances than this give no usable median

// The first code point of a UTF-8 string (U+FFFD for a malformed or empty one).
char32_t FirstCodePoint(const std::string& s) {
  if (s.empty()) return 0xFFFD;
  const auto c = static_cast<unsigned char>(s[0]);
  const int len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
  if (static_cast<int>(s.size()) < len) return 0xFFFD;
  char32_t cp = len == 1 ? c : c & (0x7F >> len);
  for (int k = 1; k < len; ++k)
    cp = (cp << 6) | (static_cast<unsigned char>(s[k]) & 0x3F);
  return cp;
}

// Full-width ASCII forms ("，" for ",") as their ASCII characters.
char32_t FoldWidth(char32_t c) {
  return c >= 0xFF01 && c <= 0xFF5E ? c - 0xFEE0 : c;
}

bool IsLatin(char32_t c) {
  c = FoldWidth(c);
  return (c >= 0x21 && c < 0x7F) || (c >= 0xC0 && c < 0x250);
}

bool IsSpace(char32_t c) {
  return c == U' ' || c == 0x3000;
}

float Advance(char32_t c) {
  c = FoldWidth(c);
  return c >= 0x21 && c < 0x7F ? kAsciiAdvance[c - 0x21] : 1.0f;
}

bool IsDigit(char32_t c) {
  c = FoldWidth(c);
  return c >= U'0' && c <= U'9';
}

bool IsLower(char32_t c) {
  c = FoldWidth(c);
  return c >= U'a' && c <= U'z';
}

bool IsUpper(char32_t c) {
  c = FoldWidth(c);
  return c >= U'A' && c <= U'Z';
}

bool IsSentencePunctuation(char32_t c) {
  c = FoldWidth(c);
  return c == U'.' || c == U',' || c == U';' || c == U':' || c == U'!' || c == U'?';
}

bool IsNumberPunctuation(char32_t c) {
  c = FoldWidth(c);
  return c == U',' || c == U'.' || c == U':';
}

float Median(std::vector<float> v) {
  const auto mid = v.begin() + static_cast<std::ptrdiff_t>(v.size() / 2);
  std::nth_element(v.begin(), mid, v.end());
  return *mid;
}

// Mean absolute deviation from the median, relative to it: how well one unit explains all
// values. (The median deviation is too coarse: with distances of 3 or 4 steps it is often 0.)
float RelativeSpread(const std::vector<float>& v, float median) {
  double sum = 0;
  for (float x : v)
    sum += std::abs(x - median);
  return static_cast<float>(sum / static_cast<double>(v.size())) / median;
}

}  // namespace

std::string JoinWithInferredSpaces(const std::vector<DecodedChar>& chars,
                                   const WordSpacingParams& params) {
  std::string joined;
  for (const DecodedChar& c : chars)
    joined += c.text;

  std::vector<char32_t> cp(chars.size());
  size_t latin = 0, non_space = 0;
  size_t read_spaces = 0;
  for (size_t i = 0; i < chars.size(); ++i) {
    cp[i] = FirstCodePoint(chars[i].text);
    if (IsSpace(cp[i])) {
      ++read_spaces;
      continue;
    }
    ++non_space;
    if (IsLatin(cp[i])) ++latin;
  }
  if (non_space == 0 || latin < params.min_latin_fraction * static_cast<float>(non_space)) {
    return joined;
  }

  // Distances between the step centres of adjacent characters with no space read between them.
  struct Pair {
    size_t right;  // index of the right-hand character
    float distance;
    float expected;  // proportional model: the mean advance of the two characters
  };
  std::vector<Pair> pairs;
  for (size_t i = 1; i < chars.size(); ++i) {
    if (IsSpace(cp[i - 1]) || IsSpace(cp[i])) continue;
    const float left = 0.5f * static_cast<float>(chars[i - 1].first_step + chars[i - 1].last_step);
    const float right = 0.5f * static_cast<float>(chars[i].first_step + chars[i].last_step);
    pairs.push_back({i, right - left, 0.5f * (Advance(cp[i - 1]) + Advance(cp[i]))});
  }
  if (pairs.size() < static_cast<size_t>(kMinPairs)) return joined;

  std::vector<float> flat(pairs.size()), proportional(pairs.size());
  for (size_t p = 0; p < pairs.size(); ++p) {
    flat[p] = pairs[p].distance;
    proportional[p] = pairs[p].distance / pairs[p].expected;
  }
  const float flat_unit = Median(flat);
  const float prop_unit = Median(proportional);
  if (flat_unit <= 0 || prop_unit <= 0) return joined;
  const bool use_flat = RelativeSpread(flat, flat_unit) <= RelativeSpread(proportional, prop_unit);

  const bool saw_gaps =
      read_spaces * static_cast<size_t>(std::max(1, params.read_spaces_min_ratio)) >= non_space;
  const float unit = use_flat ? flat_unit : prop_unit;
  float threshold = saw_gaps ? params.read_spaces_gap_threshold : params.gap_threshold;
  if (unit < params.min_unit_steps) threshold = std::max(threshold, params.coarse_gap_steps / unit);
  std::vector<bool> space_before(chars.size(), false);
  for (const Pair& p : pairs) {
    const size_t r = p.right, l = r - 1;
    if (!IsLatin(cp[l]) || !IsLatin(cp[r])) continue;
    const float excess = (p.distance - (use_flat ? unit : unit * p.expected)) / unit;
    const bool in_number =
        (IsDigit(cp[l]) && IsNumberPunctuation(cp[r]) && r + 1 < chars.size() &&
         IsDigit(cp[r + 1])) ||
        (IsNumberPunctuation(cp[l]) && IsDigit(cp[r]) && l > 0 && IsDigit(cp[l - 1]));
    const bool sentence_break =
        IsSentencePunctuation(cp[l]) && IsUpper(cp[r]) && l > 0 && IsLower(cp[l - 1]);
    space_before[r] = excess > (in_number        ? params.numeric_gap_threshold
                                : sentence_break ? params.sentence_gap_threshold
                                                 : threshold);
  }

  std::string out;
  for (size_t i = 0; i < chars.size(); ++i) {
    if (space_before[i]) out += ' ';
    out += chars[i].text;
  }
  return out;
}

}  // namespace mosaic::embed::ocr
