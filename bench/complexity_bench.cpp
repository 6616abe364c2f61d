// How the cost of a request grows with its body: create, update and a stored
// read, over the number of keys in an opaque object, of user ids, and the
// depth of opaque nesting, each fitted by Google Benchmark's Complexity().
// Then the cost per byte of the worst 1 MiB bodies beside a typical one.
//
//   cmake --preset release && cmake --build --preset release
//   build/release/bench/complexity_bench --benchmark_repetitions=3
//   --benchmark_report_aggregates_only=true
//
// The service runs over a store that keeps nothing, so what is measured is
// reading, validating and merging the body, not a map growing by 1 MiB an
// iteration.
#include <icp/icp.hpp>
#include <icp/testing/store_conformance.hpp>

#include "json/checked_json.hpp"
#include "json/stored_icp_reader.hpp"

#include <benchmark/benchmark.h>
#include <boost/json/monotonic_resource.hpp>
#include <fmt/format.h>

#include <array>
#include <map>
#include <string>

namespace {

constexpr std::string_view kUser = "user_abc123";
constexpr std::size_t kMiB = std::size_t{1} << 20;

/// Answers every get with one small ICP and accepts every write, keeping
/// nothing: a stand-in for a store whose cost does not depend on the body.
class NullStore final : public icp::IcpStore {
 public:
  NullStore() : current_(icp::testing::spec_example()) {}

  icp::Result<std::optional<icp::Icp>> get(const icp::GetIcpRequest& /*request*/) override {
    return std::optional<icp::Icp>{current_};
  }
  icp::Result<void> write(const icp::WriteIcpsRequest& /*request*/) override { return {}; }
  icp::Result<bool> erase(const icp::EraseIcpRequest& /*request*/) override { return true; }
  icp::Result<std::vector<icp::Icp>> list(const icp::ListIcpsRequest& /*request*/) override {
    return std::vector<icp::Icp>{};
  }

 private:
  icp::Icp current_;
};

const icp::IcpService& service() {
  // Bodies of 1 MiB make ICPs past the default max_icp_bytes; raised so that
  // the whole path, the size check included, is what is measured.
  static const icp::IcpService instance(std::make_shared<NullStore>(),
                                        {.max_icp_bytes = 64 * kMiB});
  return instance;
}

// ---- bodies of a chosen shape -------------------------------------------------

/// `{"k0":0,"k1":1,...}`
std::string object_with_keys(std::size_t count) {
  std::string out = "{";
  for (std::size_t i = 0; i < count; ++i) {
    fmt::format_to(std::back_inserter(out), R"({}"k{}":{})", i > 0 ? "," : "", i, i % 10);
  }
  out.push_back('}');
  return out;
}

/// `["u0","u1",...]`, the caller among them.
std::string user_ids(std::size_t count) {
  std::string out = fmt::format(R"(["{}")", kUser);
  for (std::size_t i = 1; i < count; ++i) fmt::format_to(std::back_inserter(out), R"(,"u{}")", i);
  out.push_back(']');
  return out;
}

/// `{"a":[{"a":[...]}]}` nested `depth` levels (the parser allows 32 in all).
std::string nested(std::size_t depth) {
  std::string out;
  for (std::size_t i = 0; i < depth; ++i) out += R"({"a":[)";
  out += "0";
  for (std::size_t i = 0; i < depth; ++i) out += "]}";
  return out;
}

std::string create_body(std::string_view filters, std::string_view users = R"([])") {
  return fmt::format(
      R"({{"name":"Enterprise Tech Decision Makers","userIds":{},"leadsPerList":25,)"
      R"("leadProviderCriteria":[{{"provider":"baseProvider","type":"person","filters":{}}}],)"
      R"("customFilterCriteria":[{{"type":"maxPeoplePerCompany","value":3}}]}})",
      users, filters);
}

/// The spec's example as a Create body: about 700 bytes, a typical request.
std::string typical_body() {
  return create_body(R"({"job_titles":["CTO","VP Engineering","Head of Technology"],)"
                     R"("company_size":["501-1000","1001-5000","5001+"]})",
                     R"(["user_abc123","user_def456"])");
}

/// The largest n for which `make(n)` stays within `bytes`.
template <class Make>
std::size_t fill(std::size_t bytes, Make make) {
  std::size_t low = 1;
  std::size_t high = bytes;
  while (low < high) {
    const auto mid = (low + high + 1) / 2;
    if (make(mid).size() <= bytes) {
      low = mid;
    } else {
      high = mid - 1;
    }
  }
  return low;
}

// ---- the measurements ------------------------------------------------------------

void run_create(benchmark::State& state, const std::string& body) {
  const auto caller = icp::AuthContext::user(std::string(kUser));
  for (auto _ : state) {
    auto created = service().create(std::string_view(body), caller);
    benchmark::DoNotOptimize(created);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(body.size()));
}

void run_update(benchmark::State& state, const std::string& patch) {
  const auto caller = icp::AuthContext::user(std::string(kUser));
  const auto id = icp::testing::spec_example().id;
  for (auto _ : state) {
    auto updated = service().update(id, std::string_view(patch), caller);
    benchmark::DoNotOptimize(updated);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(patch.size()));
}

void run_stored_read(benchmark::State& state, const std::string& document) {
  for (auto _ : state) {
    auto read = icp::detail::parse_stored_icp(document);
    benchmark::DoNotOptimize(read);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(document.size()));
}

/// A stored document: the body created, as the store writes it.
std::string stored(const std::string& body) {
  auto icp = service().create(std::string_view(body), icp::AuthContext::user(std::string(kUser)));
  return icp ? icp::to_json(*icp) : std::string();
}

std::size_t n_of(const benchmark::State& state) { return static_cast<std::size_t>(state.range(0)); }

void BM_Create_FilterKeys(benchmark::State& state) {
  run_create(state, create_body(object_with_keys(n_of(state))));
  state.SetComplexityN(state.range(0));
}
void BM_Create_UserIds(benchmark::State& state) {
  run_create(state, create_body("{}", user_ids(n_of(state))));
  state.SetComplexityN(state.range(0));
}
void BM_Create_FilterDepth(benchmark::State& state) {
  run_create(state, create_body(nested(n_of(state))));
  state.SetComplexityN(state.range(0));
}
/// The refusal path: a duplicate key at the very end is found by the counts
/// and named by a second, path-tracking pass.
void BM_Create_DuplicateKeyAtEnd(benchmark::State& state) {
  auto filters = object_with_keys(n_of(state));
  filters.insert(filters.size() - 1, R"(,"k0":0)");
  run_create(state, create_body(filters));
  state.SetComplexityN(state.range(0));
}
void BM_Update_FilterKeys(benchmark::State& state) {
  run_update(state, fmt::format(R"({{"leadProviderCriteria":[{{"provider":"p","filters":{}}}]}})",
                                object_with_keys(n_of(state))));
  state.SetComplexityN(state.range(0));
}
void BM_Update_UserIds(benchmark::State& state) {
  run_update(state, fmt::format(R"({{"userIds":{}}})", user_ids(n_of(state))));
  state.SetComplexityN(state.range(0));
}
void BM_StoredRead_FilterKeys(benchmark::State& state) {
  run_stored_read(state, stored(create_body(object_with_keys(n_of(state)))));
  state.SetComplexityN(state.range(0));
}
void BM_StoredRead_UserIds(benchmark::State& state) {
  run_stored_read(state, stored(create_body("{}", user_ids(n_of(state)))));
  state.SetComplexityN(state.range(0));
}

/// A Clerk token's header as verify() parses it, before any signature is
/// checked (into a buffer on the stack), with `n` keys; verify() refuses
/// headers past icp::clerk::kMaxTokenHeaderBytes first, this shows the
/// parse itself is linear.
void BM_TokenHeader_Keys(benchmark::State& state) {
  std::string header = R"({"alg":"RS256","typ":"JWT")";
  for (std::size_t i = 0; i < n_of(state); ++i) header += fmt::format(R"(,"k{}":{})", i, i);
  header += '}';
  for (auto _ : state) {
    std::array<unsigned char, 4096> buffer;  // NOLINT(cppcoreguidelines-pro-type-member-init)
    boost::json::monotonic_resource memory(buffer.data(), buffer.size());
    auto parsed = icp::detail::parse_json(header, &memory);
    benchmark::DoNotOptimize(parsed);
  }
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(header.size()));
  state.SetComplexityN(state.range(0));
}

// 1 MiB bodies of the shapes above, against the typical 700 bytes, per byte.
void BM_PerByte_Typical(benchmark::State& state) { run_create(state, typical_body()); }
void BM_PerByte_FilterKeys(benchmark::State& state) {
  const auto n = fill(kMiB, [](std::size_t k) { return create_body(object_with_keys(k)); });
  run_create(state, create_body(object_with_keys(n)));
}
void BM_PerByte_UserIds(benchmark::State& state) {
  const auto n = fill(kMiB, [](std::size_t k) { return create_body("{}", user_ids(k)); });
  run_create(state, create_body("{}", user_ids(n)));
}
void BM_PerByte_SmallArrays(benchmark::State& state) {
  // {"a":[[0],[0],...]}: the most values and containers per byte.
  auto arrays = [](std::size_t k) {
    std::string out = R"({"a":[)";
    for (std::size_t i = 0; i < k; ++i) out += i > 0 ? ",[0]" : "[0]";
    return out + "]}";
  };
  const auto n = fill(kMiB, [&](std::size_t k) { return create_body(arrays(k)); });
  run_create(state, create_body(arrays(n)));
}
void BM_PerByte_DuplicateKeyAtEnd(benchmark::State& state) {
  auto with_duplicate = [](std::size_t k) {
    auto filters = object_with_keys(k);
    filters.insert(filters.size() - 1, R"(,"k0":0)");
    return create_body(filters);
  };
  run_create(state, with_duplicate(fill(kMiB, with_duplicate)));
}

constexpr std::int64_t kFrom = 1 << 6;
constexpr std::int64_t kTo = 1 << 16;

BENCHMARK(BM_Create_FilterKeys)->RangeMultiplier(4)->Range(kFrom, kTo)->Complexity(benchmark::oN);
BENCHMARK(BM_Create_UserIds)->RangeMultiplier(4)->Range(kFrom, kTo)->Complexity(benchmark::oN);
BENCHMARK(BM_Create_FilterDepth)->DenseRange(1, 13, 2)->Complexity(benchmark::oN);
BENCHMARK(BM_Create_DuplicateKeyAtEnd)
    ->RangeMultiplier(4)
    ->Range(kFrom, kTo)
    ->Complexity(benchmark::oN);
BENCHMARK(BM_Update_FilterKeys)->RangeMultiplier(4)->Range(kFrom, kTo)->Complexity(benchmark::oN);
BENCHMARK(BM_Update_UserIds)->RangeMultiplier(4)->Range(kFrom, kTo)->Complexity(benchmark::oN);
BENCHMARK(BM_StoredRead_FilterKeys)
    ->RangeMultiplier(4)
    ->Range(kFrom, kTo)
    ->Complexity(benchmark::oN);
BENCHMARK(BM_StoredRead_UserIds)->RangeMultiplier(4)->Range(kFrom, kTo)->Complexity(benchmark::oN);
BENCHMARK(BM_TokenHeader_Keys)->RangeMultiplier(4)->Range(kFrom, kTo)->Complexity(benchmark::oN);
BENCHMARK(BM_PerByte_Typical);
BENCHMARK(BM_PerByte_FilterKeys);
BENCHMARK(BM_PerByte_UserIds);
BENCHMARK(BM_PerByte_SmallArrays);
BENCHMARK(BM_PerByte_DuplicateKeyAtEnd);

/// The console table, then each 1 MiB body's cost per byte as a ratio to
/// the typical body's, from the same run (medians when repeated).
class PerByteReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const auto& run : runs) {
      const auto& name = run.run_name.function_name;
      if (!name.starts_with("BM_PerByte_")) continue;
      if (run.run_type != Run::RT_Iteration && run.aggregate_name != "median") continue;
      const auto bytes = run.counters.find("bytes_per_second");
      if (bytes != run.counters.end()) ns_per_byte_[name] = 1e9 / bytes->second.value;
    }
    ConsoleReporter::ReportRuns(runs);
  }

  void print() const {
    const auto typical = ns_per_byte_.find("BM_PerByte_Typical");
    if (typical == ns_per_byte_.end()) return;
    fmt::print(
        "\ncost per byte of a 1 MiB create body / the typical 700-byte body (target: "
        "at most 10x)\n");
    for (const auto& [name, ns] : ns_per_byte_) {
      if (name == typical->first) continue;
      fmt::print("  {:<32} {:6.2f}x ({:.2f} ns/byte / {:.2f} ns/byte)\n", name,
                 ns / typical->second, ns, typical->second);
    }
  }

 private:
  std::map<std::string, double> ns_per_byte_;
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  PerByteReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  reporter.print();
  return 0;
}
