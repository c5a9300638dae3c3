// Micro-benchmarks of the pieces every training step goes through: gathering
// a shuffled batch from the in-memory dataset, and the independent model's
// log-probability and its gradient. Run: build/bench/genzoo_micro_bench
#include <benchmark/benchmark.h>

#include "genzoo/data/batches.h"
#include "genzoo/models/explicit/independent.h"

namespace {

void BM_GatherBatch(benchmark::State& state) {
  auto data = torch::rand({60000, 1, 28, 28});  // Fashion-MNIST sized
  genzoo::BatchSampler sampler(60000, state.range(0), 0);
  int64_t b = 0;
  for (auto _ : state) {
    auto x = data.index_select(0, sampler.indices(0, b));
    benchmark::DoNotOptimize(x.data_ptr<float>());
    b = (b + 1) % sampler.batches_per_epoch();
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_GatherBatch)->Arg(100)->Arg(1000);

void BM_IndependentLogProbBackward(benchmark::State& state) {
  genzoo::Independent model;
  auto x = torch::bernoulli(torch::full({state.range(0), 1, 28, 28}, 0.3));
  for (auto _ : state) {
    model->zero_grad();
    auto loss = -model->log_prob(x).mean();
    loss.backward();
    benchmark::DoNotOptimize(model->logits.grad().data_ptr<float>());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_IndependentLogProbBackward)->Arg(100);

}  // namespace

BENCHMARK_MAIN();
