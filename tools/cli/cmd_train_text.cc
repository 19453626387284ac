// mosaic models train-text: fastText text vectors trained on a collection's own text
// (docs/text_vectors.md).
#include <cstdio>

#include "cli.h"
#include "embed/registry/registry.h"
#include "query/input/text_vectors.h"

namespace mosaic::cli {
namespace {

constexpr char kHelp[] =
    "usage: mosaic models train-text --collection C [--fields title,text] [--dim 100]\n"
    "           [--epochs 10] [--maxn 6] [--cbow] [--min-count 2] [--pooling sif|mean]\n"
    "           [--threads 1] [--seed 1] [--name NAME] [--replace] [--write NEW_COLLECTION]\n"
    "\n"
    "Trains fastText word vectors on the text of collection C's points (the payload fields\n"
    "given, default title,text) and installs them into the model registry as NAME (default\n"
    "fasttext-C; family fasttext, modality text). A text's vector is its words' vectors pooled\n"
    "(SIF by default, or the mean) and L2-normalized. Character n-grams of 3..6 bytes give\n"
    "unseen words a vector (--maxn 0: none; a smaller model, faster to train). One thread and a\n"
    "fixed seed train the same model every time; more threads are faster, not deterministic.\n"
    "\n"
    "A collection's vectors are fixed when it is created, so --write copies C into the new\n"
    "collection NEW_COLLECTION with one more vector, 'fasttext', on every point with text\n"
    "(payload indexes kept). `mosaic search --collection NEW_COLLECTION --text ...` then fuses\n"
    "it with BM25, unless the collection has CLIP vectors, whose text model replaces fastText.\n"
    "On SciFact the fastText vector alone is far below BM25; the engine weighs it 0.05 (chosen\n"
    "on SciFact's train queries), so a text search ranks about as BM25 alone (docs/text_vectors.md).\n";

}  // namespace

int RunModelsTrainText(Args& args) {
  if (auto rc = CheckFlags(args,
                           {"models", "collection", "fields", "dim", "epochs", "cbow", "min-count",
                            "maxn", "pooling", "threads", "seed", "name", "replace", "write"},
                           kHelp))
    return *rc;
  if (auto extra = args.Next())
    return Usage("models train-text: unexpected '" + *extra + "'", kHelp);
  const auto collection = args.Get("collection");
  if (!collection) return Usage("models train-text: --collection is required", kHelp);
  query::TextVectorOptions o;
  if (args.Has("fields")) o.fields = args.GetList("fields");
  if (o.fields.empty()) return Usage("models train-text: --fields names no field", kHelp);
  o.models_dir = args.GetOr("models", embed::ModelRegistry::DefaultDir());
  o.replace = args.Has("replace");
  o.train.name = args.GetOr("name", "fasttext-" + *collection);
  o.train.skipgram = !args.Has("cbow");
  for (auto [flag, target, fallback] : {std::tuple{"dim", &o.train.dim, o.train.dim},
                                        {"epochs", &o.train.epochs, o.train.epochs},
                                        {"maxn", &o.train.maxn, o.train.maxn},
                                        {"min-count", &o.train.min_count, o.train.min_count},
                                        {"threads", &o.train.threads, o.train.threads},
                                        {"seed", &o.train.seed, o.train.seed}}) {
    auto v = args.GetInt(flag, fallback);
    if (!v.ok()) return Usage("models train-text: " + v.status().message(), kHelp);
    *target = static_cast<int>(*v);
  }
  if (auto p = args.Get("pooling")) {
    auto pooling = embed::ParseTextPooling(*p);
    if (!pooling.ok()) return Usage("models train-text: " + pooling.status().message(), kHelp);
    o.train.pooling = *pooling;
  }
  const auto write = args.Get("write");
  if (write && write->empty()) return Usage("models train-text: --write needs a name", kHelp);

  auto db = OpenDb(args);
  if (!db.ok()) return Fail(db.status());
  auto c = (*db)->GetCollection(*collection);
  if (!c.ok()) return Fail(c.status());
  if (write) {
    // Checked before training, which can take minutes.
    for (const auto& name : (*db)->ListCollections())
      if (name == *write)
        return Fail(Status::AlreadyExists("collection '" + *write + "' already exists"));
    if ((*c)->schema().Find(query::kFastTextRole) != nullptr)
      return Fail(Status::AlreadyExists("collection '" + *collection +
                                        "' already has a vector 'fasttext'"));
  }
  auto m = query::TrainTextModel(**c, o);
  if (!m.ok()) return Fail(m.status());
  std::printf("installed model '%s': %s, %d dims, %s pooling\n", m->name.c_str(),
              m->description.c_str(), m->dim, m->preprocess.value("pooling", "").c_str());
  if (!write) return kExitOk;
  auto copied = query::WriteTextVectors(**db, **c, *write, m->name, o);
  if (!copied.ok()) return Fail(copied.status());
  std::printf("wrote collection '%s': %llu points, %llu with a 'fasttext' vector\n", write->c_str(),
              static_cast<unsigned long long>(copied->points),
              static_cast<unsigned long long>(copied->with_vector));
  return kExitOk;
}

}  // namespace mosaic::cli
