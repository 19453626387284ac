// mosaic people cluster|recluster|list|show|name|merge|split: faces grouped into persons
// (src/query/people.h, docs/people.md).
#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>

#include "cli.h"
#include "query/people.h"
#include "query_input.h"
#include "wire/apps_codec.h"
#include "wire/point_codec.h"

namespace mosaic::cli {
namespace {

constexpr char kHelp[] =
    "usage:\n"
    "  mosaic people cluster --collection C [--threshold X]    group the faces not yet in a "
    "person\n"
    "  mosaic people recluster --collection C [--threshold X]  group again all but named persons\n"
    "  mosaic people list --collection C [--json]               persons: faces, name, a sample "
    "file\n"
    "  mosaic people show --collection C PERSON [--json]        a person's faces: file, box, time\n"
    "  mosaic people name --collection C PERSON NAME            name or rename a person\n"
    "  mosaic people merge --collection C PERSON OTHER          OTHER's faces join PERSON\n"
    "  mosaic people split --collection C PERSON [--threshold X | --faces ID,ID...]\n"
    "\n"
    "Faces come from `mosaic ingest` with the faces model; run `people cluster` after each "
    "ingest.\n"
    "Two groups of faces are one person while their mean cosine similarity is at least the\n"
    "threshold (default 0.7, chosen on dev data: docs/people.md). Named persons are searchable:\n"
    "`mosaic search --collection C --text \"Ada\"` finds the photos and video shots showing Ada,\n"
    "`--filter '{\"must\": [{\"key\": \"person_id\", \"match\": {\"value\": \"p-3\"}}]}'` those of "
    "p-3.\n"
    "split without --faces groups the person's faces again at --threshold (default: the last\n"
    "clustering's + 0.05); the largest group keeps the id and the name.\n";

Result<float> Threshold(const Args& args, float fallback) {
  auto v = args.Get("threshold");
  if (!v) return fallback;
  char* end = nullptr;
  errno = 0;
  const float t = std::strtof(v->c_str(), &end);
  if (v->empty() || *end != '\0' || errno != 0 || !std::isfinite(t))
    return Status::InvalidArgument("--threshold '" + *v + "' is not a number");
  return t;
}

std::string Box(const std::vector<float>& box) {
  std::string s = "[";
  for (size_t i = 0; i < box.size(); ++i) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%s%.0f", i ? ", " : "", box[i]);
    s += buf;
  }
  return s + "]";
}

int Cluster(query::People& people, const Args& args, bool reset) {
  auto t = Threshold(args, query::kDefaultPersonThreshold);
  if (!t.ok()) return Usage(t.status().message(), kHelp);
  auto r = people.Cluster({.threshold = *t, .reset = reset});
  if (!r.ok()) return Fail(r.status());
  std::printf(
      "%zu faces, %zu grouped now: %zu joined existing persons, %zu new persons; "
      "%zu persons (threshold %.2f)\n",
      r->faces, r->clustered, r->joined, r->new_persons, r->persons, *t);
  return kExitOk;
}

int List(query::People& people, const Args& args) {
  size_t unassigned = 0;
  auto list = people.List(&unassigned);
  if (!list.ok()) return Fail(list.status());
  if (args.Has("json")) {
    Json out = {{"persons", Json::array()}, {"unassigned_faces", unassigned}};
    for (const auto& p : *list)
      out["persons"].push_back(
          {{"id", p.id}, {"name", p.name}, {"faces", p.faces}, {"sample_file", p.sample_file}});
    std::printf("%s\n", out.dump(2).c_str());
    return kExitOk;
  }
  std::printf("%-8s %6s  %-24s %s\n", "person", "faces", "name", "sample");
  for (const auto& p : *list)
    std::printf("%-8s %6zu  %-24s %s\n", p.id.c_str(), p.faces,
                p.name.empty() ? "-" : p.name.c_str(), p.sample_file.c_str());
  if (unassigned > 0)
    std::printf("%zu faces are in no person yet: run `mosaic people cluster`\n", unassigned);
  return kExitOk;
}

int Show(query::People& people, const Args& args, const std::string& person) {
  auto faces = people.Show(person);
  if (!faces.ok()) return Fail(faces.status());
  if (args.Has("json")) {
    PrintJsonArray(*faces, wire::PersonFaceToJson);
    return kExitOk;
  }
  for (const auto& f : *faces) {
    std::string when;
    if (f.time) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "  %d:%04.1f", static_cast<int>(*f.time / 60),
                    std::fmod(*f.time, 60.0));
      when = buf;
    }
    const std::string id = f.id.is_num() ? std::to_string(f.id.num()) : f.id.str();
    std::printf("%s  %s  box %s%s\n", id.c_str(), f.file.c_str(), Box(f.box).c_str(), when.c_str());
  }
  return kExitOk;
}

}  // namespace

int RunPeople(Args& args) {
  if (auto rc = CheckFlags(args, {"collection", "threshold", "faces", "json"}, kHelp)) return *rc;
  auto verb = args.Next();
  if (!verb) return Usage("people: missing a verb", kHelp);
  const std::vector<std::string> verbs = {"cluster", "recluster", "list", "show",
                                          "name",    "merge",     "split"};
  if (std::find(verbs.begin(), verbs.end(), *verb) == verbs.end())
    return Usage("people: unknown verb '" + *verb + "'", kHelp);
  auto name = args.Get("collection");
  if (!name || name->empty()) return Usage("people " + *verb + ": missing --collection", kHelp);
  std::vector<std::string> words;
  while (auto w = args.Next())
    words.push_back(*w);
  const size_t want = *verb == "show" || *verb == "split"   ? 1
                      : *verb == "name" || *verb == "merge" ? 2
                                                            : 0;
  if (words.size() != want)
    return Usage("people " + *verb + ": expected " + std::to_string(want) + " argument" +
                     (want == 1 ? "" : "s") + ", got " + std::to_string(words.size()),
                 kHelp);
  if (args.Has("faces") && *verb != "split")
    return Usage("people " + *verb + ": --faces is for split", kHelp);
  if (args.Has("threshold") && *verb != "cluster" && *verb != "recluster" && *verb != "split")
    return Usage("people " + *verb + ": --threshold is for cluster, recluster and split", kHelp);
  if (args.Has("faces") && args.Has("threshold"))
    return Usage("people split: give --faces or --threshold, not both", kHelp);

  auto db = OpenDb(args);
  if (!db.ok()) return Fail(db.status());
  auto c = (*db)->GetCollection(*name);
  if (!c.ok()) return Fail(c.status());
  auto people = query::People::Open(**c);
  if (!people.ok()) return Fail(people.status());

  if (*verb == "cluster" || *verb == "recluster")
    return Cluster(*people, args, *verb == "recluster");
  if (*verb == "list") return List(*people, args);
  if (*verb == "show") return Show(*people, args, words[0]);
  if (*verb == "name") {
    Status s = people->Name(words[0], words[1]);
    if (!s.ok()) return Fail(s);
    std::printf("%s is now '%s'\n", words[0].c_str(), words[1].c_str());
    return kExitOk;
  }
  if (*verb == "merge") {
    Status s = people->Merge(words[0], words[1]);
    if (!s.ok()) return Fail(s);
    std::printf("%s merged into %s\n", words[1].c_str(), words[0].c_str());
    return kExitOk;
  }
  // split
  std::optional<float> threshold;
  if (args.Has("threshold")) {
    auto t = Threshold(args, 0);
    if (!t.ok()) return Usage(t.status().message(), kHelp);
    threshold = *t;
  }
  std::vector<PointId> faces;
  for (const auto& f : args.GetList("faces"))
    faces.push_back(wire::PointIdFromText(f));
  if (args.Has("faces") && faces.empty()) return Usage("people split: --faces is empty", kHelp);
  auto created = people->Split(words[0], threshold, faces);
  if (!created.ok()) return Fail(created.status());
  if (created->empty()) {
    std::printf("%s stays one person\n", words[0].c_str());
    return kExitOk;
  }
  std::string ids;
  for (const auto& id : *created)
    ids += (ids.empty() ? "" : ", ") + id;
  std::printf("%s split: new persons %s\n", words[0].c_str(), ids.c_str());
  return kExitOk;
}

}  // namespace mosaic::cli
