// Hand-made segment (and snapshot) files for tests and fuzzers: after a test edits a segment's
// bytes (a section moved, a count changed), its checksums are made valid again, so the damage
// reaches the checks behind them (docs/segment_format.md). Pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace mosaic::testing {

// `segment` with the CRC of every section its table places inside the file recomputed, then the
// table's CRC in the footer. A file too short for a footer, or whose table lies outside it, is
// returned unchanged.
std::string RecomputeSegmentChecksums(std::string_view segment);

// The byte offset of the section table entry of section `kind`, or std::string::npos.
size_t SegmentTableEntry(std::string_view segment, uint32_t kind);

}  // namespace mosaic::testing
