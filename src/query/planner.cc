#include "query/planner.h"

#include <cmath>
#include <functional>

#include "query/filters.h"
#include "query/vector_math.h"
#include "query/tag_words.h"
#include "query/understand.h"
#include "text/word_tokenizer.h"

namespace mosaic::query {
namespace {

const text::WordTokenizer& Tokenizer() {
  static const text::WordTokenizer* t = [] {
    auto created = text::WordTokenizer::Create();
    return created.ok() ? new text::WordTokenizer(std::move(created).value()) : nullptr;
  }();
  return *t;
}

// Every point id a request uses as an input, in order, once each.
void CollectReferenced(const Query& q, const std::vector<Prefetch>& prefetch,
                       std::vector<PointId>* out) {
  auto add = [&](const std::vector<Input>& inputs) {
    for (const Input& in : inputs)
      if (in.kind == InputKind::kPoint && std::find(out->begin(), out->end(), in.id) == out->end())
        out->push_back(in.id);
  };
  if (auto* n = std::get_if<NearestQuery>(&q)) add(n->inputs);
  if (auto* r = std::get_if<RecommendQuery>(&q)) {
    add(r->positive);
    add(r->negative);
  }
  if (auto* a = std::get_if<AutoQuery>(&q)) add(a->inputs);
  for (const Prefetch& p : prefetch)
    CollectReferenced(p.query, p.prefetch, out);
}



Json InputsJson(const std::vector<Input>& inputs) {
  Json a = Json::array();
  for (const Input& in : inputs)
    a.push_back(
        {{"input", in.Describe()}, {"kind", InputKindName(in.kind)}, {"weight", in.weight}});
  return a;
}

}  // namespace

Result<const VectorSpec*> Planner::VectorSpecFor(const std::string& name) const {
  const CollectionSchema& schema = c_.schema();
  if (name.empty()) return &schema.vectors[0];
  const VectorSpec* spec = schema.Find(name);
  if (spec == nullptr)
    return Status::InvalidArgument("collection '" + c_.name() + "' has no vector named '" + name +
                                   "'; it has: " + VectorNames(schema));
  return spec;
}

Result<const Point*> Planner::ExamplePoint(const PointId& id) {
  auto it = examples_.find(id);
  if (it != examples_.end()) return &it->second;
  std::vector<PointId> ids = {id};
  MOSAIC_ASSIGN_OR_RETURN(auto points, c_.Get(ids, /*with_payload=*/false, /*with_vectors=*/true));
  if (points.empty())
    return Status::NotFound("point " + id.ToString() + " is not in collection '" + c_.name() + "'");
  return &examples_.emplace(id, std::move(points[0])).first->second;
}

Result<const EncodedInput*> Planner::Encoded(const Input& input) {
  std::string key = std::string(InputKindName(input.kind)) + ":";
  if (input.kind == InputKind::kText) {
    key += input.text;
  } else if (!input.path.empty()) {
    key += "path:" + input.path;
  } else {
    key += "bytes:" + std::to_string(std::hash<std::string>()(input.bytes)) + ":" +
           std::to_string(input.bytes.size());
  }
  auto it = encoded_.find(key);
  if (it != encoded_.end()) return &it->second;
  if (encoder_ == nullptr)
    return Status::InvalidArgument(std::string("a query by ") + InputKindName(input.kind) + " (" +
                                   input.Describe() +
                                   ") needs the collection's models, and none are loaded");
  MOSAIC_ASSIGN_OR_RETURN(EncodedInput e, encoder_->Encode(input));
  return &encoded_.emplace(key, std::move(e)).first->second;
}

Result<std::vector<float>> Planner::VectorOf(const Input& input, const VectorSpec& spec) {
  switch (input.kind) {
    case InputKind::kVector:
      if (input.vector.size() != spec.dim)
        return Status::InvalidArgument("query vector has " + std::to_string(input.vector.size()) +
                                       " dims, vector '" + spec.name + "' of collection '" +
                                       c_.name() + "' expects " + std::to_string(spec.dim));
      return input.vector;
    case InputKind::kPoint: {
      MOSAIC_ASSIGN_OR_RETURN(const Point* p, ExamplePoint(input.id));
      auto it = p->vectors.find(spec.name);
      if (it == p->vectors.end())
        return Status::InvalidArgument("point " + input.id.ToString() + " has no vector '" +
                                       spec.name + "' to search with");
      return it->second;
    }
    default: {
      MOSAIC_ASSIGN_OR_RETURN(const EncodedInput* e, Encoded(input));
      auto it = e->vectors.find(spec.name);
      if (it == e->vectors.end())
        return Status::InvalidArgument("collection '" + c_.name() + "' has no model that puts a " +
                                       InputKindName(input.kind) + " (" + input.Describe() +
                                       ") into vector '" + spec.name + "'");
      return it->second;
    }
  }
}

Result<std::vector<float>> Planner::Combine(const std::vector<Input>& inputs,
                                            const VectorSpec& spec) {
  if (inputs.empty()) return Status::InvalidArgument("a nearest query needs at least one input");
  if (inputs.size() == 1 && inputs[0].weight > 0) return VectorOf(inputs[0], spec);
  // Cosine and dot product: directions, so each input counts by its weight whatever its length.
  // L2: a weighted mean of the points (negative weights extrapolate away from them).
  std::vector<double> sum(spec.dim, 0.0);
  double positive = 0;
  for (const Input& in : inputs) {
    if (!std::isfinite(in.weight) || in.weight == 0)
      return Status::InvalidArgument("input " + in.Describe() + " has weight " +
                                     std::to_string(in.weight) +
                                     "; weights must be finite and non-zero");
    MOSAIC_ASSIGN_OR_RETURN(std::vector<float> v, VectorOf(in, spec));
    if (spec.metric != Metric::kL2) v = Normalized(v);
    for (size_t d = 0; d < v.size(); ++d)
      sum[d] += in.weight * v[d];
    if (in.weight > 0) positive += in.weight;
  }
  if (spec.metric == Metric::kL2) {
    if (positive == 0) return Status::InvalidArgument("an l2 vector mix needs a positive weight");
    for (double& x : sum)
      x /= positive;
  }
  std::vector<float> out(sum.begin(), sum.end());
  double norm = 0;
  for (float x : out)
    norm += static_cast<double>(x) * x;
  if (!(norm > 0) && spec.metric != Metric::kL2)
    return Status::InvalidArgument("the weighted inputs cancel out in vector '" + spec.name + "'");
  return out;
}

Result<Plan> Planner::Build(const QueryRequest& request) {
  Plan plan;
  CollectReferenced(request.query, request.prefetch, &plan.referenced);
  MOSAIC_ASSIGN_OR_RETURN(std::optional<Filter> root_filter,
                          ExcludeIds(std::nullopt, plan.referenced));
  Spec spec{&request.prefetch,
            &request.query,
            &request.using_vector,
            &request.filter,
            request.score_threshold,
            std::nullopt,
            request.params,
            "",
            1.0f};
  MOSAIC_ASSIGN_OR_RETURN(plan.root, BuildNode(spec, root_filter, request.understand));
  plan.query_terms = std::move(query_terms_);
  plan.tag_words = std::move(tag_words_);
  plan.understood = std::move(understood_);
  return plan;
}

Result<PlanNode> Planner::BuildNode(const Spec& spec, const std::optional<Filter>& inherited,
                                    bool understand) {
  PlanNode node;
  node.id = NextId();
  node.name = spec.name;
  node.weight = spec.weight;
  node.limit = spec.limit;
  node.params = spec.params;
  node.score_threshold = spec.score_threshold;
  if (spec.limit && *spec.limit == 0)
    return Status::InvalidArgument("a prefetch limit must be at least 1");
  if (!std::isfinite(spec.weight))
    return Status::InvalidArgument("a prefetch weight must be finite");
  MOSAIC_ASSIGN_OR_RETURN(node.filter, AndFilters(inherited, *spec.filter));

  const Query& q = *spec.query;
  std::vector<std::string> auto_texts;  // AutoQuery: its texts after understanding
  if (auto* a = std::get_if<AutoQuery>(&q)) {
    // Understanding first, so that user prefetches under this node get its filter too.
    Json must = Json::array();
    for (const Input& in : a->inputs) {
      if (in.kind != InputKind::kText || !understand || in.weight <= 0) {
        auto_texts.push_back(in.text);
        continue;
      }
      Understanding u = Understand(in.text, {options_.now_unix_s});
      auto_texts.push_back(u.text);
      for (auto& item : u.understood)
        understood_.push_back(item);
      if (u.date_from || u.date_to) {
        Json range = Json::object();
        if (u.date_from) range["gte"] = *u.date_from;
        if (u.date_to) range["lt"] = *u.date_to;
        must.push_back({{"key", options_.signals.date_field}, {"range", range}});
      }
      if (!u.kinds.empty())
        must.push_back({{"key", options_.signals.kind_field}, {"match", {{"any", u.kinds}}}});
      std::vector<std::string> text_fields;
      for (const auto& [field, type] : c_.PayloadIndexes())
        if (type == PayloadIndexType::kText) text_fields.push_back(field);
      for (const std::string& phrase : u.phrases) {
        if (text_fields.empty()) {
          understood_.push_back({{"text", "\"" + phrase + "\""},
                                 {"as", "ignored"},
                                 {"why", "the collection has no text fields"}});
          continue;
        }
        Json any = Json::array();
        for (const std::string& f : text_fields)
          any.push_back({{"key", f}, {"match", {{"phrase", phrase}}}});
        must.push_back({{"should", any}});
      }
    }
    if (!must.empty()) {
      MOSAIC_ASSIGN_OR_RETURN(Filter understood, Filter::FromJson({{"must", must}}));
      MOSAIC_ASSIGN_OR_RETURN(node.filter, AndFilters(node.filter, understood));
    }
  }

  for (const Prefetch& p : *spec.prefetch) {
    Spec child{&p.prefetch, &p.query, &p.using_vector, &p.filter, p.score_threshold,
               p.limit,     p.params, p.name,          p.weight};
    MOSAIC_ASSIGN_OR_RETURN(PlanNode c, BuildNode(child, node.filter, understand));
    node.children.push_back(std::move(c));
  }

  if (std::holds_alternative<std::monostate>(q)) {
    node.kind = node.children.empty() ? NodeKind::kListing : NodeKind::kPass;
  } else if (auto* n = std::get_if<NearestQuery>(&q)) {
    MOSAIC_ASSIGN_OR_RETURN(const VectorSpec* vs, VectorSpecFor(*spec.using_vector));
    node.kind = NodeKind::kNearest;
    node.vector_name = vs->name;
    node.metric = vs->metric;
    MOSAIC_ASSIGN_OR_RETURN(node.vector, Combine(n->inputs, *vs));
    node.inputs = InputsJson(n->inputs);
    if (node.name.empty()) node.name = vs->name;
  } else if (auto* t = std::get_if<TextQuery>(&q)) {
    if (t->fields.empty())
      return Status::InvalidArgument("a text (BM25) query needs at least one field");
    node.kind = NodeKind::kText;
    node.text = *t;
    node.inputs = Json::array({{{"input", t->query}, {"kind", "text"}, {"weight", 1}}});
    if (node.weight > 0)
      for (auto& term : Tokenizer().Terms(t->query))
        query_terms_.push_back(term);
    if (node.name.empty()) node.name = "bm25";
  } else if (auto* g = std::get_if<TagsQuery>(&q)) {
    node.kind = NodeKind::kTags;
    node.tags = *g;
    node.inputs = Json::array({{{"input", g->query}, {"kind", "text"}, {"weight", 1}}});
    if (node.weight > 0) {
      for (auto& term : Tokenizer().Terms(g->query))
        query_terms_.push_back(term);
      for (auto& word : TagWords(g->query))
        tag_words_.push_back(word);
    }
    if (node.name.empty()) node.name = "tags";
  } else if (auto* r = std::get_if<RecommendQuery>(&q)) {
    if (r->positive.empty())
      return Status::InvalidArgument("recommend needs at least one positive example");
    MOSAIC_ASSIGN_OR_RETURN(const VectorSpec* vs, VectorSpecFor(*spec.using_vector));
    node.vector_name = vs->name;
    node.metric = vs->metric;
    node.inputs = InputsJson(r->positive);
    for (const Input& in : r->negative)
      node.inputs.push_back(
          {{"input", in.Describe()}, {"kind", InputKindName(in.kind)}, {"weight", -1}});
    if (node.name.empty()) node.name = "recommend";
    auto vectors =
        [&](const std::vector<Input>& inputs) -> Result<std::vector<std::vector<float>>> {
      std::vector<std::vector<float>> out;
      for (const Input& in : inputs) {
        MOSAIC_ASSIGN_OR_RETURN(std::vector<float> v, VectorOf(in, *vs));
        out.push_back(vs->metric == Metric::kCosine ? Normalized(v) : std::move(v));
      }
      return out;
    };
    MOSAIC_ASSIGN_OR_RETURN(node.positives, vectors(r->positive));
    MOSAIC_ASSIGN_OR_RETURN(node.negatives, vectors(r->negative));
    if (r->strategy == RecommendStrategy::kBestScore) {
      node.kind = NodeKind::kBestScore;
    } else {
      // avg(positive) + (avg(positive) - avg(negative))
      node.kind = NodeKind::kNearest;
      std::vector<double> pos(vs->dim, 0.0), neg(vs->dim, 0.0);
      for (const auto& v : node.positives)
        for (size_t d = 0; d < v.size(); ++d)
          pos[d] += v[d] / node.positives.size();
      for (const auto& v : node.negatives)
        for (size_t d = 0; d < v.size(); ++d)
          neg[d] += v[d] / node.negatives.size();
      node.vector.resize(vs->dim);
      for (size_t d = 0; d < vs->dim; ++d)
        node.vector[d] = static_cast<float>(node.negatives.empty() ? pos[d] : 2 * pos[d] - neg[d]);
      node.positives.clear();
      node.negatives.clear();
    }
  } else if (auto* f = std::get_if<FusionQuery>(&q)) {
    if (node.children.empty()) return Status::InvalidArgument("fusion needs prefetches to fuse");
    if (f->method == FusionMethod::kRrf && !(f->k >= 0 && std::isfinite(f->k)))
      return Status::InvalidArgument("rrf k must be a non-negative number, got " +
                                     std::to_string(f->k));
    node.kind = NodeKind::kFusion;
    node.fusion = *f;
    if (node.name.empty()) node.name = f->method == FusionMethod::kRrf ? "rrf" : "dbsf";
  } else if (auto* o = std::get_if<OrderByQuery>(&q)) {
    if (o->order_by.key.empty()) return Status::InvalidArgument("order_by needs a payload key");
    node.kind = node.children.empty() ? NodeKind::kListing : NodeKind::kOrderBy;
    node.order_by = o->order_by;
    if (node.name.empty()) node.name = "order_by " + o->order_by.key;
  } else if (auto* a = std::get_if<AutoQuery>(&q)) {
    AutoQuery cleaned = *a;
    for (size_t i = 0; i < cleaned.inputs.size(); ++i)
      if (cleaned.inputs[i].kind == InputKind::kText) cleaned.inputs[i].text = auto_texts[i];
    return ExpandAuto(cleaned, std::move(node), understand);
  }
  if (node.name.empty()) node.name = NodeKindName(node.kind);
  return node;
}

Result<PlanNode> Planner::ExpandAuto(const AutoQuery& q, PlanNode node, bool understand) {
  if (q.inputs.empty()) return Status::InvalidArgument("a query needs at least one input");
  const CollectionSchema& schema = c_.schema();
  const SignalDefaults& d = options_.signals;
  node.inputs = InputsJson(q.inputs);
  if (node.name.empty()) node.name = "auto";

  // Each input's vectors (by collection vector) and words.
  struct Item {
    const Input* input;
    std::map<std::string, std::vector<float>> vectors;
    std::string words;
  };
  std::vector<Item> items;
  std::vector<std::string> text_vectors =
      encoder_ ? encoder_->TextVectors() : std::vector<std::string>();
  for (const Input& in : q.inputs) {
    if (!std::isfinite(in.weight) || in.weight == 0)
      return Status::InvalidArgument("input " + in.Describe() + " has weight " +
                                     std::to_string(in.weight) +
                                     "; weights must be finite and non-zero");
    Item item{&in, {}, {}};
    switch (in.kind) {
      case InputKind::kText:
        item.words = in.text;
        if (!in.text.empty() && !text_vectors.empty()) {
          MOSAIC_ASSIGN_OR_RETURN(const EncodedInput* e, Encoded(in));
          item.vectors = e->vectors;
        }
        break;
      case InputKind::kPoint: {
        MOSAIC_ASSIGN_OR_RETURN(const Point* p, ExamplePoint(in.id));
        if (p->vectors.empty())
          return Status::InvalidArgument("point " + in.id.ToString() +
                                         " has no vectors to search with");
        item.vectors = p->vectors;
        break;
      }
      case InputKind::kVector: {
        // The collection's only vector, else the one vector of that dimension.
        std::vector<const VectorSpec*> fits;
        for (const auto& v : schema.vectors)
          if (schema.vectors.size() == 1 || v.dim == in.vector.size()) fits.push_back(&v);
        if (fits.size() != 1) {
          std::string dims;
          for (const auto& v : schema.vectors)
            dims += (dims.empty() ? "" : ", ") + v.name + " (" + std::to_string(v.dim) + ")";
          return Status::InvalidArgument("a raw vector of " + std::to_string(in.vector.size()) +
                                         " dims fits " + std::to_string(fits.size()) +
                                         " vectors of collection '" + c_.name() + "': " + dims +
                                         "; name one with `using`");
        }
        MOSAIC_ASSIGN_OR_RETURN(item.vectors[fits[0]->name], VectorOf(in, *fits[0]));
        break;
      }
      default: {
        MOSAIC_ASSIGN_OR_RETURN(const EncodedInput* e, Encoded(in));
        item.vectors = e->vectors;
        item.words = e->text;
        if (item.vectors.empty() && item.words.empty())
          return Status::InvalidArgument("collection '" + c_.name() + "' has no model for a " +
                                         InputKindName(in.kind) + " query (" + in.Describe() + ")");
        break;
      }
    }
    items.push_back(std::move(item));
  }

  // Vector signals: the inputs that reach each vector space, combined there.
  for (const VectorSpec& vs : schema.vectors) {
    std::vector<Input> in_space;
    double positive = 0, negative = 0;
    for (const Item& item : items) {
      auto it = item.vectors.find(vs.name);
      if (it == item.vectors.end()) continue;
      Input in = Input::Vector(it->second, item.input->weight);
      in_space.push_back(std::move(in));
      (item.input->weight > 0 ? positive : negative) += std::fabs(item.input->weight);
    }
    if (in_space.empty()) continue;
    PlanNode s;
    s.id = NextId();
    s.kind = NodeKind::kNearest;
    s.name = vs.name;
    s.vector_name = vs.name;
    s.metric = vs.metric;
    s.filter = node.filter;
    s.params = node.params;
    auto space = d.vector_weights.find(vs.name);
    const double space_weight =
        d.vector_weight * (space == d.vector_weights.end() ? 1.0 : space->second);
    if (positive == 0) {  // only inputs to avoid: their neighbours count against
      for (Input& in : in_space)
        in.weight = std::fabs(in.weight);
      s.weight = static_cast<float>(-space_weight * negative);
    } else {
      s.weight = static_cast<float>(space_weight * positive);
    }
    MOSAIC_ASSIGN_OR_RETURN(s.vector, Combine(in_space, vs));
    for (const Item& item : items)
      if (item.vectors.count(vs.name))
        s.inputs.push_back({{"input", item.input->Describe()},
                            {"kind", InputKindName(item.input->kind)},
                            {"weight", item.input->weight}});
    node.children.push_back(std::move(s));
  }

  // Text signals: BM25 over the text fields and object tags, for each text (or transcript).
  std::vector<std::string> fields;
  bool has_tags = false;
  for (const auto& [field, type] : c_.PayloadIndexes()) {
    if (type != PayloadIndexType::kText) continue;
    if (field == d.tags_field) {
      has_tags = true;
      continue;
    }
    auto w = d.field_weights.find(field);
    if (w == d.field_weights.end() || w->second == 1) {
      fields.push_back(field);
    } else if (w->second > 0) {
      char buf[32];
      std::snprintf(buf, sizeof(buf), "^%g", w->second);
      fields.push_back(field + buf);
    }
  }
  size_t texts = 0;
  for (const Item& item : items)
    texts += !item.words.empty();
  for (const Item& item : items) {
    if (item.words.empty()) continue;
    const float w = item.input->weight;
    const bool has_terms = !Tokenizer().Terms(item.words).empty();
    if (item.input->kind == InputKind::kText && item.vectors.empty() &&
        (fields.empty() && !has_tags))
      return Status::InvalidArgument(
          "collection '" + c_.name() + "' has no text signal for \"" + item.words +
          "\": no text-indexed payload field and no text model sharing a vector with it");
    if (!has_terms) continue;  // only stopwords: nothing for BM25
    const std::string suffix = texts > 1 ? " \"" + item.words + "\"" : "";
    auto add = [&](NodeKind kind, const std::string& name, float weight) {
      PlanNode s;
      s.id = NextId();
      s.kind = kind;
      s.name = name + suffix;
      s.filter = node.filter;
      s.weight = weight * w;
      s.inputs = Json::array({{{"input", item.words}, {"kind", "text"}, {"weight", w}}});
      if (kind == NodeKind::kText) s.text = TextQuery{item.words, fields};
      if (kind == NodeKind::kTags) s.tags = TagsQuery{item.words, d.tags_field, d.tag_scores_field};
      node.children.push_back(std::move(s));
    };
    if (!fields.empty() && d.text_weight != 0) add(NodeKind::kText, "text", d.text_weight);
    if (has_tags && d.tags_weight != 0) add(NodeKind::kTags, "tags", d.tags_weight);
    if (w > 0) {
      for (auto& term : Tokenizer().Terms(item.words))
        query_terms_.push_back(term);
      for (auto& word : TagWords(item.words))
        tag_words_.push_back(word);
    }
  }

  size_t positive_children = 0;
  for (const PlanNode& c : node.children)
    positive_children += c.weight > 0;
  if (node.children.empty()) {
    // Everything was understood as a filter ("videos from 2019"): list the matches, newest first.
    node.kind = NodeKind::kListing;
    node.order_by = OrderBy{d.date_field, /*descending=*/true};
    return node;
  }
  if (positive_children == 0)
    return Status::InvalidArgument(
        "a query needs an input with a positive weight (all weights are negative)");
  if (node.children.size() == 1) {
    node.kind = NodeKind::kPass;
    return node;
  }
  node.kind = NodeKind::kFusion;
  node.fusion = FusionQuery{d.fusion, d.rrf_k};
  return node;
}

}  // namespace mosaic::query
