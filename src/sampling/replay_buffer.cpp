#include "genzoo/sampling/replay_buffer.h"

#include <algorithm>
#include <map>
#include <vector>

namespace genzoo {

ReplayBufferImpl::ReplayBufferImpl(int64_t capacity, std::vector<int64_t> sample_shape, int64_t partitions)
    : requested_capacity_(capacity), partitions_(partitions), per_partition_(0), sample_shape_(std::move(sample_shape)) {
  reset();
}

void ReplayBufferImpl::reset() {
  TORCH_CHECK(requested_capacity_ >= 1, "replay buffer: capacity must be >= 1");
  TORCH_CHECK(partitions_ >= 1, "replay buffer: partitions must be >= 1");
  TORCH_CHECK(!sample_shape_.empty(), "replay buffer: empty sample shape");
  per_partition_ = (requested_capacity_ + partitions_ - 1) / partitions_;
  std::vector<int64_t> shape{partitions_, per_partition_};
  shape.insert(shape.end(), sample_shape_.begin(), sample_shape_.end());
  store = register_buffer("store", torch::zeros(shape, torch::kUInt8));
  filled = register_buffer("filled", torch::zeros({partitions_}, torch::kLong));
  next = register_buffer("next", torch::zeros({partitions_}, torch::kLong));
}

torch::Tensor ReplayBufferImpl::slots() const {
  std::vector<int64_t> flat{partitions_ * per_partition_};
  flat.insert(flat.end(), sample_shape_.begin(), sample_shape_.end());
  return store.view(flat);
}

namespace {
void check_partitions(const torch::Tensor& part, int64_t partitions, const char* who) {
  TORCH_CHECK(part.dim() == 1, "replay buffer ", who, ": partitions must be [B]");
  if (part.numel() > 0)
    TORCH_CHECK(part.min().item<int64_t>() >= 0 && part.max().item<int64_t>() < partitions, "replay buffer ", who,
                ": partitions must be in [0, ", partitions, ")");
}
}  // namespace

ReplayStarts ReplayBufferImpl::draw(const torch::Tensor& part_in, double reinit) const {
  TORCH_CHECK(reinit >= 0 && reinit <= 1, "replay buffer: the re-initialised share must be in [0, 1]");
  auto part = part_in.to(torch::kLong);
  check_partitions(part, partitions_, "draw");
  const int64_t b = part.size(0);
  std::vector<int64_t> shape{b};
  shape.insert(shape.end(), sample_shape_.begin(), sample_shape_.end());
  auto noise = torch::rand(shape);
  if (b == 0) return {noise, torch::zeros({0}, torch::kBool)};
  auto held = filled.index_select(0, part);                     // [B]
  auto fresh = (torch::rand({b}) < reinit) | (held == 0);      // [B]
  auto slot = (torch::rand({b}, torch::kFloat64) * held.to(torch::kFloat64)).floor().to(torch::kLong);
  slot = torch::minimum(slot, (held - 1).clamp_min(0));
  auto kept = slots().index_select(0, part * per_partition_ + slot).to(torch::kFloat32) / 255.0;
  std::vector<int64_t> row(shape.size(), 1);
  row[0] = b;
  return {torch::where(fresh.view(row), noise, kept), fresh};
}

torch::Tensor ReplayBufferImpl::mix_partitions(const torch::Tensor& part_in, double share) const {
  TORCH_CHECK(share >= 0 && share <= 1, "replay buffer: the share drawn from other partitions must be in [0, 1]");
  auto part = part_in.to(torch::kLong).clone();
  check_partitions(part, partitions_, "mix_partitions");
  const int64_t b = part.size(0);
  if (b == 0 || share == 0) return part;
  auto moved = torch::rand({b}) < share;                  // [B]
  auto pick = torch::rand({b}, torch::kFloat64);           // [B]
  std::vector<int64_t> nonempty;
  auto fill = filled.accessor<int64_t, 1>();
  for (int64_t k = 0; k < partitions_; ++k)
    if (fill[k] > 0) nonempty.push_back(k);
  auto p = part.accessor<int64_t, 1>();
  auto m = moved.accessor<bool, 1>();
  auto u = pick.accessor<double, 1>();
  for (int64_t r = 0; r < b; ++r) {
    if (!m[r]) continue;
    std::vector<int64_t> others;
    for (int64_t k : nonempty)
      if (k != p[r]) others.push_back(k);
    if (others.empty()) continue;
    const auto i = std::min<int64_t>(static_cast<int64_t>(u[r] * static_cast<double>(others.size())),
                                     static_cast<int64_t>(others.size()) - 1);
    p[r] = others[static_cast<size_t>(i)];
  }
  return part;
}

void ReplayBufferImpl::push(const torch::Tensor& x, const torch::Tensor& part_in) {
  auto part = part_in.to(torch::kLong);
  check_partitions(part, partitions_, "push");
  TORCH_CHECK(x.dim() == static_cast<int64_t>(sample_shape_.size()) + 1 && x.size(0) == part.size(0) &&
                  std::vector<int64_t>(x.sizes().begin() + 1, x.sizes().end()) == sample_shape_,
              "replay buffer push: expected [", part.size(0), ", sample shape] rows, got ", x.sizes());
  torch::NoGradGuard no_grad;
  auto q = (x.detach().to(torch::kFloat32).clamp(0, 1) * 255.0).round().to(torch::kUInt8);
  auto p = part.accessor<int64_t, 1>();
  auto fill = filled.accessor<int64_t, 1>();
  auto pos = next.accessor<int64_t, 1>();
  std::map<int64_t, int64_t> slot_row;  // flat slot -> the last row written there
  for (int64_t r = 0; r < part.size(0); ++r) {
    const int64_t k = p[r];
    slot_row[k * per_partition_ + pos[k]] = r;
    pos[k] = (pos[k] + 1) % per_partition_;
    fill[k] = std::min(fill[k] + 1, per_partition_);
  }
  if (slot_row.empty()) return;
  std::vector<int64_t> written, rows;
  for (const auto& sr : slot_row) {
    written.push_back(sr.first);
    rows.push_back(sr.second);
  }
  slots().index_copy_(0, torch::tensor(written, torch::kLong), q.index_select(0, torch::tensor(rows, torch::kLong)));
}

int64_t ReplayBufferImpl::size() const { return filled.sum().item<int64_t>(); }

int64_t ReplayBufferImpl::size(int64_t p) const {
  TORCH_CHECK(p >= 0 && p < partitions_, "replay buffer: no partition ", p);
  return filled[p].item<int64_t>();
}

torch::Tensor ReplayBufferImpl::contents(int64_t p) const {
  const int64_t n = size(p);
  auto ring = store[p];
  if (n < per_partition_) return ring.slice(0, 0, n).to(torch::kFloat32) / 255.0;
  const int64_t start = next[p].item<int64_t>();
  return torch::cat({ring.slice(0, start), ring.slice(0, 0, start)}).to(torch::kFloat32) / 255.0;
}

}  // namespace genzoo
