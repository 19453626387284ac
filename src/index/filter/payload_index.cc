#include "index/filter/payload_index.h"

#include "index/filter/payload_index_impl.h"

namespace mosaic::index {

PayloadIndexSet::PayloadIndexSet() : impl_(std::make_unique<Impl>()) {}
PayloadIndexSet::~PayloadIndexSet() = default;
PayloadIndexSet::PayloadIndexSet(PayloadIndexSet&&) noexcept = default;
PayloadIndexSet& PayloadIndexSet::operator=(PayloadIndexSet&&) noexcept = default;

Status PayloadIndexSet::Create(const std::string& field, PayloadIndexType type) {
  Result<JsonPath> path = JsonPath::Parse(field);
  if (!path.ok()) return path.status().WithContext("payload index");
  auto it = impl_->fields.find(field);
  if (it != impl_->fields.end())
    return Status::AlreadyExists("payload index on \"" + field + "\" already exists (" +
                                 PayloadIndexTypeName(it->second->type()) + ")");
  auto index = fields::MakeFieldIndex(std::move(path).value(), type);
  if (index == nullptr)
    return Status::Internal(std::string("cannot create a ") + PayloadIndexTypeName(type) + " index on \"" + field + "\"");
  impl_->fields.emplace(field, std::move(index));
  return Status::OK();
}

Status PayloadIndexSet::Drop(const std::string& field) {
  if (impl_->fields.erase(field) == 0)
    return Status::NotFound("no payload index on \"" + field + "\"");
  return Status::OK();
}

std::map<std::string, PayloadIndexType> PayloadIndexSet::List() const {
  std::map<std::string, PayloadIndexType> out;
  for (const auto& [field, index] : impl_->fields)
    out.emplace(field, index->type());
  return out;
}

void PayloadIndexSet::Insert(uint32_t slot, const Json& payload) {
  for (auto& [field, index] : impl_->fields)
    index->Insert(slot, payload);
}

PayloadIndexSet::Prepared PayloadIndexSet::Prepare(const Json& payload) const {
  Prepared out;
  out.reserve(impl_->fields.size());
  for (const auto& [field, index] : impl_->fields) out.push_back(index->Terms(payload));
  return out;
}

void PayloadIndexSet::Insert(uint32_t slot, const Json& payload, const Prepared& prepared) {
  size_t i = 0;
  for (auto& [field, index] : impl_->fields) {
    if (i < prepared.size())
      index->InsertTerms(slot, payload, prepared[i++]);
    else
      index->Insert(slot, payload);
  }
}

void PayloadIndexSet::Erase(uint32_t slot, const Json& payload) {
  for (auto& [field, index] : impl_->fields)
    index->Erase(slot, payload);
}

void PayloadIndexSet::TakeFields(PayloadIndexSet* from) {
  for (auto& [field, index] : from->impl_->fields)
    if (!impl_->fields.contains(field)) impl_->fields.emplace(field, std::move(index));
  from->impl_->fields.clear();
}

void PayloadIndexSet::InsertFields(std::span<const std::string> fields, uint32_t slot,
                                   const Json& payload) {
  for (const std::string& field : fields)
    if (auto it = impl_->fields.find(field); it != impl_->fields.end())
      it->second->Insert(slot, payload);
}

std::optional<std::vector<uint32_t>> PayloadIndexSet::Candidates(
    const FilterNode& filter,
    const std::function<std::optional<uint32_t>(const PointId&)>& id_to_slot,
    bool* exact) const {
  std::optional<Impl::Plan> plan = impl_->PlanNode(filter, id_to_slot);
  if (!plan) return std::nullopt;
  bool run_exact = true;
  Impl::SlotList slots = plan->run(&run_exact);
  if (exact != nullptr) *exact = plan->exact && run_exact;
  return slots;
}

const Bm25Index* PayloadIndexSet::Text(const std::string& field) const {
  auto it = impl_->fields.find(field);
  if (it == impl_->fields.end() || it->second->type() != PayloadIndexType::kText) return nullptr;
  return it->second->text();
}

const std::vector<uint32_t>* PayloadIndexSet::Others(const std::string& field) const {
  auto it = impl_->fields.find(field);
  return it == impl_->fields.end() ? nullptr : it->second->others();
}

bool PayloadIndexSet::WalkKeys(
    const std::string& field, bool descending, const Json* from,
    const std::function<bool(const std::vector<uint32_t>&)>& group) const {
  auto it = impl_->fields.find(field);
  return it != impl_->fields.end() && it->second->WalkKeys(descending, from, group);
}

bool PayloadIndexSet::WalkKeysAcross(
    std::span<const PayloadIndexSet* const> sets, std::span<const uint32_t> offsets,
    const std::string& field, bool descending, const Json* from,
    const std::function<bool(const std::vector<uint32_t>&)>& group) {
  std::vector<const fields::FieldIndex*> indexes;
  for (const PayloadIndexSet* set : sets) {
    auto it = set->impl_->fields.find(field);
    if (it == set->impl_->fields.end() ||
        (!indexes.empty() && it->second->type() != indexes[0]->type()))
      return false;
    indexes.push_back(it->second.get());
  }
  return !indexes.empty() &&
         indexes[0]->WalkKeysAcross(indexes, offsets, descending, from, group);
}

bool PayloadIndexSet::ForEachFacetValue(
    const std::string& field, FacetBucket bucket,
    const std::function<void(const Json&, const std::vector<uint32_t>&)>& fn) const {
  auto it = impl_->fields.find(field);
  return it != impl_->fields.end() && it->second->ForEachFacetValue(bucket, fn);
}

size_t PayloadIndexSet::MemoryBytes() const {
  size_t bytes = sizeof(Impl);
  for (const auto& [field, index] : impl_->fields)
    bytes += field.capacity() + index->MemoryBytes();
  return bytes;
}

}  // namespace mosaic::index
