#include "hit_format.h"

#include <cmath>

#include "query/evidence.h"

namespace mosaic::cli {
namespace {

// 75.3 -> "1:15.3"
std::string Clock(double s) {
  char buf[32];
  const int minutes = static_cast<int>(s / 60);
  std::snprintf(buf, sizeof(buf), "%d:%04.1f", minutes, s - 60 * minutes);
  return buf;
}

std::string Str(const Json& j, const char* key) {
  if (!j.is_object()) return "";
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : "";
}

// Bold on a terminal, [brackets] elsewhere.
std::string Marked(const std::string& text, const Json& highlights, bool tty) {
  return query::Highlight(text, highlights, tty ? "\033[1m" : "[", tty ? "\033[0m" : "]");
}

void PrintHit(const query::Hit& h, size_t rank, bool scored, bool explain, bool tty,
              std::FILE* out) {
  const Json payload = h.payload.value_or(Json());
  std::string kind = Str(payload, "kind");
  std::string title = Str(payload, "title");
  std::string file =
      payload.is_object() && payload.contains("file") ? Str(payload["file"], "name") : "";
  std::string where;
  if (payload.is_object() && payload.contains("start") && payload["start"].is_number() &&
      payload.contains("end") && payload["end"].is_number())
    where = Clock(payload["start"].get<double>()) + "-" + Clock(payload["end"].get<double>());
  else if (payload.is_object() && payload.contains("page") && payload["page"].is_number())
    where = "p. " + std::to_string(payload["page"].get<int>());
  std::string name = !file.empty() ? file : title;
  if (!file.empty() && !title.empty() && file.rfind(title, 0) != 0)
    name = title + " (" + file + ")";
  if (name.empty()) name = h.id.ToString();
  char score[32] = "-";
  if (scored) std::snprintf(score, sizeof(score), "%.5g", h.score);
  std::fprintf(out, "%3zu  %-9s %-9s %s%s%s\n", rank, score, kind.empty() ? "-" : kind.c_str(),
               name.c_str(), where.empty() ? "" : "  ", where.c_str());
  if (h.order_value && !h.order_value->is_null())
    std::fprintf(out, "     sorted by: %s\n", h.order_value->dump().c_str());
  if (!h.snippet.empty()) {
    std::string snippet = h.snippet;
    if (h.evidence.is_object() && h.evidence.contains("sentence") &&
        h.evidence["sentence"].value("text", "") == snippet)
      snippet = Marked(snippet, h.evidence["sentence"]["highlights"], tty);
    std::fprintf(out, "     %s\n", snippet.c_str());
  } else if (!h.payload) {
    // nothing
  } else if (kind.empty()) {
    std::string p = payload.dump();
    if (p.size() > 100) p = p.substr(0, 97) + "...";
    std::fprintf(out, "     %s\n", p.c_str());
  }
  if (!explain) return;
  std::fprintf(out, "     id %s\n", h.id.ToString().c_str());
  std::string signals;
  for (const query::SignalMatch& s : h.signals) {
    char buf[160];
    if (s.rank == 0)
      std::snprintf(buf, sizeof(buf), "%s -", s.signal.c_str());
    else
      std::snprintf(buf, sizeof(buf),
                    s.contribution != 0 ? "%s #%zu (%.4g, %+.4g)" : "%s #%zu (%.4g)",
                    s.signal.c_str(), s.rank, s.score, s.contribution);
    signals += (signals.empty() ? "" : ", ") + std::string(buf);
  }
  if (!signals.empty()) std::fprintf(out, "     signals: %s\n", signals.c_str());
  const Json& ev = h.evidence;
  if (!ev.is_object()) return;
  if (ev.contains("tags")) {
    std::string tags;
    for (const Json& t : ev["tags"]) {
      char buf[96];
      std::snprintf(buf, sizeof(buf), "%s %.2f", t.value("tag", "").c_str(),
                    t.value("confidence", 0.0));
      tags += (tags.empty() ? "" : ", ") + std::string(buf);
    }
    std::fprintf(out, "     tags: %s\n", tags.c_str());
  }
  if (ev.contains("ocr"))
    for (const Json& line : ev["ocr"])
      std::fprintf(out, "     ocr: %s\n",
                   Marked(line.value("text", ""), line.value("highlights", Json()), tty).c_str());
  if (ev.contains("words")) {
    std::string words;
    for (const Json& w : ev["words"]) {
      char buf[128];
      std::snprintf(buf, sizeof(buf), "\"%s\" %s-%s", w.value("text", "").c_str(),
                    Clock(w.value("start", 0.0)).c_str(), Clock(w.value("end", 0.0)).c_str());
      words += (words.empty() ? "" : ", ") + std::string(buf);
    }
    std::fprintf(out, "     said: %s\n", words.c_str());
  }
  if (ev.contains("transcript"))
    std::fprintf(
        out, "     transcript: %s\n",
        Marked(ev["transcript"].value("text", ""), ev["transcript"]["highlights"], tty).c_str());
  if (ev.contains("sentence") && ev["sentence"].value("text", "") != h.snippet)
    std::fprintf(
        out, "     %s: %s\n", ev["sentence"].value("field", "text").c_str(),
        Marked(ev["sentence"].value("text", ""), ev["sentence"]["highlights"], tty).c_str());
  for (const char* key : {"title", "names"})
    if (ev.contains(key))
      std::fprintf(out, "     %s: %s\n", key,
                   Marked(ev[key].value("text", ""), ev[key]["highlights"], tty).c_str());
  if (ev.contains("headings"))
    std::fprintf(out, "     in: %s\n",
                 ev["headings"].is_string() ? ev["headings"].get<std::string>().c_str()
                                            : ev["headings"].dump().c_str());
}

}  // namespace

void PrintHits(const query::QueryResponse& r, size_t first_rank, bool explain, std::FILE* out) {
  const bool tty = isatty(fileno(out));
  if (r.explain.contains("understood"))
    for (const Json& u : r.explain["understood"]) {
      std::string as = u.value("as", "");
      std::string detail;
      if (as == "date") detail = u.value("from", "...") + " .. " + u.value("to", "...");
      if (as == "kind") detail = u["kinds"].dump();
      if (as == "ignored") detail = u.value("why", "");
      std::fprintf(out, "understood \"%s\" as %s %s\n", u.value("text", "").c_str(), as.c_str(),
                   detail.c_str());
    }
  size_t rank = first_rank;
  if (!r.groups.empty()) {
    for (const query::HitGroup& g : r.groups) {
      std::fprintf(out, "group %s\n",
                   g.key.is_string() ? g.key.get<std::string>().c_str() : g.key.dump().c_str());
      for (const query::Hit& h : g.hits)
        PrintHit(h, rank++, r.scored, explain, tty, out);
    }
  } else {
    for (const query::Hit& h : r.hits)
      PrintHit(h, rank++, r.scored, explain, tty, out);
  }
  if (r.hits.empty() && r.groups.empty()) std::fprintf(out, "no hits\n");
  for (const auto& [key, counts] : r.facets) {
    std::string line;
    for (const FacetCount& c : counts)
      line += (line.empty() ? "" : ", ") +
              (c.value.is_string() ? c.value.get<std::string>() : c.value.dump()) + " " +
              std::to_string(c.count);
    std::fprintf(out, "facet %s: %s\n", key.c_str(), line.empty() ? "(none)" : line.c_str());
  }
  if (r.next_cursor)
    std::fprintf(
        out, "next page: --after '%s'\n",
        Json({{"order_value", r.next_cursor->order_value}, {"id", r.next_cursor->id.ToJson()}})
            .dump()
            .c_str());
}

}  // namespace mosaic::cli

namespace mosaic::cli {

std::string HighlightedSentence(const Json& sentence) {
  if (!sentence.is_object()) return "";
  const bool tty = isatty(fileno(stdout));
  return query::Highlight(sentence.value("text", ""), sentence["highlights"],
                          tty ? "\033[1m" : "**", tty ? "\033[0m" : "**");
}

}  // namespace mosaic::cli
