// Benchmarks of the Get ICP path. Run from a release build:
//   cmake --preset release && cmake --build --preset release
//   build/release/bench/icp_bench --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
// It ends with the ratio of the SQLite service get to its floor (medians).
// The SQLite database of 100,000 ICPs is built once into the temp directory
// (ICP_BENCH_DB overrides the path) and reused by later runs.
//
// With ICP_BENCH_POSTGRES set to a PostgreSQL URL, it also measures get and
// list-for-user on PostgreSQL (schema `icp_bench`, seeded once with the same
// 100,000 ICPs) beside bare libpq statements of the same rows, in wall-clock
// time (the work is in the server); with ICP_BENCH_PGBOUNCER, also through
// PgBouncer in transaction mode. E.g. on a throwaway server:
//   scripts/with-postgres --pgbouncer bench/postgres.sh
#include <icp/clerk.hpp>
#include <icp/icp.hpp>
#include <icp/testing/store_conformance.hpp>

#include "json/stored_icp_reader.hpp"
#include "jwt_support.hpp"

#ifdef ICP_BENCH_WITH_POSTGRES
#include <libpq-fe.h>
#endif
#include <SQLiteCpp/SQLiteCpp.h>
#include <benchmark/benchmark.h>
#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <array>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <random>

namespace {

constexpr std::size_t kIcpCount = 100'000;
constexpr std::string_view kCaller = "user_abc123";

constexpr std::string_view kLister = "user_lister";
constexpr std::size_t kListerIcps = 100;

/// ICPs shaped like the reference peer's seed data (about 700 bytes of JSON
/// each), all listing kCaller among one to five members; ICP `first + i` is
/// the i-th made. Deterministic for a given seed.
std::vector<icp::Icp> make_icps(std::size_t first, std::size_t count, std::uint64_t seed) {
  constexpr std::array kTitles{"CTO", "CIO",        "CISO", "VP Engineering", "Head of Technology",
                               "CFO", "VP Finance", "CMO",  "VP Sales",       "Director of IT"};
  constexpr std::array kSizes{"1-10",     "11-50",     "51-200", "201-500",
                              "501-1000", "1001-5000", "5001+"};
  constexpr std::array kProviders{"baseProvider", "apolloProvider", "clearbitProvider"};
  std::mt19937_64 random(seed);
  auto below = [&](std::size_t n) { return static_cast<std::size_t>(random() % n); };
  std::vector<icp::Icp> icps;
  icps.reserve(count);
  for (std::size_t i = first; i < first + count; ++i) {
    icp::Icp icp = icp::testing::spec_example();
    icp.id = fmt::format("{:08x}-{:04x}-4{:03x}-a{:03x}-{:012x}", random() & 0xffffffffU,
                         random() & 0xffffU, random() & 0xfffU, random() & 0xfffU,
                         random() & 0xffffffffffffU);
    icp.name = fmt::format("Segment {} decision makers", below(1000));
    icp.description = fmt::format("Technology leaders at companies of segment {}, ICP #{}",
                                  below(100), below(1'000'000));
    icp.created_at = icp::Timestamp{std::chrono::milliseconds{
        1'672'531'200'000LL + static_cast<long long>(below(43'200'000'000ULL))}};
    icp.updated_at = icp.created_at + std::chrono::hours{static_cast<int>(below(1440))};
    icp.user_ids = {std::string(kCaller)};
    for (std::size_t u = below(5); u > 0; --u)
      icp.user_ids.push_back(fmt::format("user_{:06}", i * 7 + u));
    boost::json::array titles;
    for (std::size_t t = 1 + below(4); t > 0; --t)
      titles.emplace_back(kTitles.at(below(kTitles.size())));
    boost::json::array sizes;
    for (std::size_t s = 1 + below(3); s > 0; --s)
      sizes.emplace_back(kSizes.at(below(kSizes.size())));
    icp.lead_provider_criteria = {
        {kProviders.at(below(3)), below(5) == 0 ? "company" : "person",
         boost::json::object{{"job_titles", titles},
                             {"company_size", sizes},
                             {"industries", boost::json::array{"software", "banking"}}}}};
    icp.crm_filters =
        below(3) == 0
            ? icp::OpaqueJson(boost::json::object{
                  {"provider", "hubspot"}, {"excludeStages", boost::json::array{"closed_won"}}})
            : icp::OpaqueJson(nullptr);
    icps.push_back(std::move(icp));
  }
  return icps;
}

const std::vector<icp::Icp>& bench_icps() {
  static const auto icps = make_icps(0, kIcpCount, 42);
  return icps;
}

/// The ids in a shuffled order, so lookups do not walk the table in sequence.
const std::vector<std::string>& lookup_ids() {
  static const auto ids = [] {
    std::vector<std::string> out;
    for (const auto& icp : bench_icps()) out.push_back(icp.id);
    // A fixed seed: every run looks the ids up in the same order.
    // NOLINTNEXTLINE(cert-msc32-c,cert-msc51-cpp)
    std::shuffle(out.begin(), out.end(), std::mt19937_64(7));
    return out;
  }();
  return ids;
}

std::filesystem::path bench_db_path() {
  // Read before any benchmark starts a thread.
  // NOLINTNEXTLINE(concurrency-mt-unsafe)
  if (const char* path = std::getenv("ICP_BENCH_DB")) return path;
  return std::filesystem::temp_directory_path() / "icp-bench-100k.db";
}

/// Reads every ICP once, so timing starts in a server's steady state: every
/// page of the file in the connection's memory map, none faulted in while timed.
void warm_up(icp::IcpStore& store, const std::vector<std::string>& ids) {
  for (const auto& id : ids) (void)store.get({.id = id}).value();
}

std::shared_ptr<icp::IcpStore> sqlite_store() {
  static const auto store = [] {
    const auto path = bench_db_path();
    auto opened = icp::open_sqlite_store(path, {.create_if_missing = true});
    if (!opened) throw icp::Exception(opened.error());
    const auto& first = bench_icps().front();
    if (!(*opened)->get({.id = first.id}).value()) {
      if (auto written = (*opened)->write({.icps = bench_icps()}); !written) {
        throw icp::Exception(written.error());
      }
    }
    warm_up(**opened, lookup_ids());
    return *opened;
  }();
  return store;
}

std::shared_ptr<icp::IcpStore> memory_store() {
  static const auto store = [] {
    auto created = icp::make_memory_store();
    (void)created->write({.icps = bench_icps()}).value();
    return created;
  }();
  return store;
}

void service_get(benchmark::State& state, const std::shared_ptr<icp::IcpStore>& store) {
  const icp::IcpService service(store);
  const auto caller = icp::AuthContext::user(std::string(kCaller));
  const auto& ids = lookup_ids();
  std::size_t next = 0;
  for (auto _ : state) {
    auto icp = service.get(ids[next], caller);
    if (!icp) state.SkipWithError(icp.error().message.c_str());
    benchmark::DoNotOptimize(icp);
    next = (next + 1) % ids.size();
  }
}

void BM_ServiceGet_Memory(benchmark::State& state) { service_get(state, memory_store()); }
BENCHMARK(BM_ServiceGet_Memory);

void BM_ServiceGet_Sqlite(benchmark::State& state) { service_get(state, sqlite_store()); }
BENCHMARK(BM_ServiceGet_Sqlite);

/// The floor for the SQLite get: one autocommit prepared-statement read of the
/// same row through SQLiteCpp, with nothing decoded.
void BM_SqliteFloor_Lookup(benchmark::State& state) {
  (void)sqlite_store();  // make sure the file exists
  SQLite::Database db(bench_db_path().string(), SQLite::OPEN_READWRITE);
  // The store's connection settings, so the ratio shows only what it adds.
  db.exec(fmt::format("PRAGMA mmap_size = {}", icp::SqliteOptions{}.mmap_size));
  // The store's own key: the ICPs are of no organization ('').
  SQLite::Statement lookup(db, "SELECT doc FROM icps WHERE organization = '' AND id = ?1");
  const auto& ids = lookup_ids();
  for (const auto& id : ids) {  // the same warm-up as the store's
    lookup.bind(1, id);
    (void)lookup.executeStep();
    lookup.reset();
  }
  std::size_t next = 0;
  for (auto _ : state) {
    lookup.bind(1, ids[next]);
    if (!lookup.executeStep()) state.SkipWithError("row not found");
    const auto doc = lookup.getColumn(0);
    benchmark::DoNotOptimize(doc.getText());
    benchmark::DoNotOptimize(doc.getBytes());
    lookup.reset();
    next = (next + 1) % ids.size();
  }
}
BENCHMARK(BM_SqliteFloor_Lookup);

void BM_ToJson_SpecExample(benchmark::State& state) {
  const auto icp = icp::testing::spec_example();
  for (auto _ : state) {
    auto json = icp::to_json(icp);
    benchmark::DoNotOptimize(json);
  }
}
BENCHMARK(BM_ToJson_SpecExample);

void BM_ParseIcp_SpecExample(benchmark::State& state) {
  const auto text = icp::to_json(icp::testing::spec_example());
  for (auto _ : state) {
    auto icp = icp::parse_icp(text);
    benchmark::DoNotOptimize(icp);
  }
}
BENCHMARK(BM_ParseIcp_SpecExample);

/// Decoding one stored document of the benchmark's shape, as every store read
/// does (the reader for to_json's layout), beside the general reader on the
/// same text.
void BM_DecodeStored_BenchIcp(benchmark::State& state) {
  const auto text = icp::to_json(bench_icps().front());
  for (auto _ : state) {
    auto icp = icp::detail::parse_stored_icp(text);
    if (!icp) state.SkipWithError(icp.error().message.c_str());
    benchmark::DoNotOptimize(icp);
  }
}
BENCHMARK(BM_DecodeStored_BenchIcp);

void BM_ParseIcp_BenchIcp(benchmark::State& state) {
  const auto text = icp::to_json(bench_icps().front());
  for (auto _ : state) {
    auto icp = icp::parse_icp(text);
    benchmark::DoNotOptimize(icp);
  }
}
BENCHMARK(BM_ParseIcp_BenchIcp);

// ---- scale: the same operations at 1,000 and 1,000,000 ICPs -----------------

struct ScaleDb {
  std::shared_ptr<icp::IcpStore> store;
  std::vector<std::string> ids;  // shuffled
};

/// Seeding a database takes from seconds to minutes, once: it says how far it
/// is on stderr (the results go to stdout), a line every tenth.
class SeedProgress {
 public:
  SeedProgress(std::string what, std::size_t total) : what_(std::move(what)), total_(total) {
    fmt::print(stderr, "seeding {}: {} ICPs, once (later runs reuse it)\n", what_, total_);
  }
  void done(std::size_t count) {
    const auto tenth = count * 10 / std::max<std::size_t>(total_, 1);
    if (tenth == reported_) return;
    reported_ = tenth;
    fmt::print(stderr, "seeding {}: {} of {} ({}%)\n", what_, count, total_, tenth * 10);
  }

 private:
  std::string what_;
  std::size_t total_;
  std::size_t reported_ = 0;
};

/// An SQLite database of `count` ICPs, kLister a member of kListerIcps of
/// them; built once into the temp directory and reused by later runs.
const ScaleDb& scale_db(std::size_t count) {
  static std::map<std::size_t, ScaleDb> dbs;
  if (const auto found = dbs.find(count); found != dbs.end()) return found->second;
  const auto path =
      std::filesystem::temp_directory_path() / fmt::format("icp-bench-scale-{}.db", count);
  auto opened = icp::open_sqlite_store(path, {.create_if_missing = true});
  if (!opened) throw icp::Exception(opened.error());
  auto count_rows = [&] {
    SQLite::Database db(path.string());
    return static_cast<std::size_t>(db.execAndGet("SELECT count(*) FROM icps").getInt64());
  };
  if (count_rows() != count) {
    constexpr std::size_t kChunk = 50'000;
    SeedProgress progress(path.string(), count);
    for (std::size_t first = 0; first < count; first += kChunk) {
      auto chunk = make_icps(first, std::min(kChunk, count - first), first + 1);
      for (std::size_t i = 0; i < chunk.size(); ++i) {
        if ((first + i) % (count / kListerIcps) == 0) chunk[i].user_ids.emplace_back(kLister);
      }
      (void)(*opened)->write({.icps = chunk}).value();
      progress.done(first + chunk.size());
    }
  }
  ScaleDb db{.store = *opened};
  SQLite::Database reader(path.string());
  SQLite::Statement ids(reader, "SELECT id FROM icps");
  while (ids.executeStep()) db.ids.push_back(ids.getColumn(0).getString());
  // NOLINTNEXTLINE(cert-msc32-c,cert-msc51-cpp): the same order every run
  std::shuffle(db.ids.begin(), db.ids.end(), std::mt19937_64(11));
  warm_up(*db.store, db.ids);
  return dbs.emplace(count, std::move(db)).first->second;
}

void BM_Scale_ServiceGet(benchmark::State& state) {
  const auto& db = scale_db(static_cast<std::size_t>(state.range(0)));
  const icp::IcpService service(db.store);
  const auto caller = icp::AuthContext::user(std::string(kCaller));
  std::size_t next = 0;
  for (auto _ : state) {
    auto icp = service.get(db.ids[next], caller);
    if (!icp) state.SkipWithError(icp.error().message.c_str());
    benchmark::DoNotOptimize(icp);
    next = (next + 1) % db.ids.size();
  }
}
BENCHMARK(BM_Scale_ServiceGet)->Arg(1'000)->Arg(1'000'000);

/// The first page (50) of kLister's listing, of the kListerIcps listing them.
void service_list(benchmark::State& state, const std::shared_ptr<icp::IcpStore>& store) {
  const icp::IcpService service(store);
  const auto caller = icp::AuthContext::user(std::string(kLister));
  for (auto _ : state) {
    auto page = service.list(caller);
    if (!page || page->icps.size() != icp::kDefaultListLimit) {
      state.SkipWithError("unexpected listing");
    }
    benchmark::DoNotOptimize(page);
  }
}

void BM_Scale_ListForUser(benchmark::State& state) {
  service_list(state, scale_db(static_cast<std::size_t>(state.range(0))).store);
}
BENCHMARK(BM_Scale_ListForUser)->Arg(1'000)->Arg(1'000'000);

/// A Clerk-shaped RS256 session token (2048-bit key, generated here) and the
/// authenticator for its public key.
struct ClerkFixture {
  std::shared_ptr<icp::clerk::ClerkAuthenticator> clerk;
  std::string token;
};

const ClerkFixture& clerk_fixture() {
  static const ClerkFixture fixture = [] {
    const auto key = icp::test::rsa_key(2048);
    const auto exp = std::chrono::duration_cast<std::chrono::seconds>(
                         std::chrono::system_clock::now().time_since_epoch())
                         .count() +
                     3600;
    auto token = icp::test::jwt(
        key, R"({"alg":"RS256","kid":"ins_2abc","typ":"JWT"})",
        fmt::format(
            R"({{"azp":"https://app.example","exp":{},"fva":[0,-1],"iat":{},"iss":"https://clerk.app.example","nbf":{},"sid":"sess_2abcdefghijklmnop","sts":"active","sub":"user_2abcdefghijklmnopqrstuvwx","v":2,"metadata":{{"role":"admin"}}}})",
            exp, exp - 3600, exp - 3600));
    auto clerk =
        icp::clerk::ClerkAuthenticator::create({.public_key_pem = icp::test::public_pem(key)});
    if (!clerk) throw icp::Exception(clerk.error());
    return ClerkFixture{*clerk, std::move(token)};
  }();
  return fixture;
}

/// One whole verification: split, decode, algorithm, RSA signature, claims.
/// Compare its items_per_second with `openssl speed rsa2048` (bench/clerk.sh).
void BM_ClerkVerify_RS256(benchmark::State& state) {
  const auto& fixture = clerk_fixture();
  for (auto _ : state) {
    auto caller = fixture.clerk->verify(fixture.token);
    if (!caller) state.SkipWithError(caller.error().message.c_str());
    benchmark::DoNotOptimize(caller);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ClerkVerify_RS256);

/// What `openssl speed rsa2048` times, in process: EVP_PKEY_verify of a
/// ready SHA-256 digest on a context initialised once; no JWT, no hashing.
void BM_OpenSslFloor_VerifyRS256(benchmark::State& state) {
  const auto key = icp::test::rsa_key(2048);
  std::array<unsigned char, 32> digest{};
  digest.fill(7);
  const std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> signer(
      EVP_PKEY_CTX_new(key.get(), nullptr), &EVP_PKEY_CTX_free);
  std::array<unsigned char, 256> signature{};
  std::size_t size = signature.size();
  const std::unique_ptr<EVP_PKEY_CTX, decltype(&EVP_PKEY_CTX_free)> verifier(
      EVP_PKEY_CTX_new(key.get(), nullptr), &EVP_PKEY_CTX_free);
  if (EVP_PKEY_sign_init(signer.get()) != 1 ||
      EVP_PKEY_CTX_set_signature_md(signer.get(), EVP_sha256()) != 1 ||
      EVP_PKEY_sign(signer.get(), signature.data(), &size, digest.data(), digest.size()) != 1 ||
      EVP_PKEY_verify_init(verifier.get()) != 1 ||
      EVP_PKEY_CTX_set_signature_md(verifier.get(), EVP_sha256()) != 1) {
    state.SkipWithError("OpenSSL setup failed");
    return;
  }
  for (auto _ : state) {
    if (EVP_PKEY_verify(verifier.get(), signature.data(), size, digest.data(), digest.size()) !=
        1) {
      state.SkipWithError("signature does not verify");
    }
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_OpenSslFloor_VerifyRS256);

#ifdef ICP_BENCH_WITH_POSTGRES

constexpr const char* kPgSchema = "icp_bench";

// NOLINTBEGIN(concurrency-mt-unsafe): read before any benchmark starts a thread
/// The server, direct.
std::string postgres_url() {
  const char* url = std::getenv("ICP_BENCH_POSTGRES");
  return url != nullptr ? url : "";
}

/// The same server behind PgBouncer in transaction mode; empty: not measured.
std::string pgbouncer_url() {
  const char* url = std::getenv("ICP_BENCH_PGBOUNCER");
  return url != nullptr ? url : "";
}
// NOLINTEND(concurrency-mt-unsafe)

// The floors' statements, schema-qualified: a transaction pooler keeps no
// search_path between them.
constexpr const char* kFloorLookup =
    "SELECT doc, revision FROM icp_bench.icps WHERE organization = '' AND id = $1";
constexpr const char* kFloorList = R"sql(
SELECT i.doc, i.revision FROM icp_bench.icp_members m
JOIN icp_bench.icps i ON i.organization = m.organization AND i.id = m.icp_id
WHERE m.organization = '' AND m.user_id = $1 ORDER BY m.created_at DESC, m.icp_id LIMIT 50)sql";

/// A bare libpq session, for seeding checks and floors: direct, it runs a
/// prepared statement; through a transaction pooler, the unnamed statement
/// such a pooler allows (one round trip either way).
class PgFloor {
 public:
  enum class Through { server, transaction_pooler };
  explicit PgFloor(const std::string& url, const char* sql = nullptr,
                   Through through = Through::server)
      : connection_(PQconnectdb(url.c_str()), &PQfinish),
        sql_(sql),
        pooled_(through == Through::transaction_pooler) {
    if (PQstatus(connection_.get()) != CONNECTION_OK) {
      throw std::runtime_error(PQerrorMessage(connection_.get()));
    }
    if (sql_ != nullptr && !pooled_)
      PQclear(PQprepare(connection_.get(), "floor", sql_, 0, nullptr));
  }
  void run(const char* sql) { PQclear(PQexec(connection_.get(), sql)); }
  /// Rows of the floor's statement, results in binary form as the store asks.
  int rows(const char* param) {
    const std::unique_ptr<PGresult, decltype(&PQclear)> result(
        pooled_ ? PQexecParams(connection_.get(), sql_, 1, nullptr, &param, nullptr, nullptr, 1)
                : PQexecPrepared(connection_.get(), "floor", 1, &param, nullptr, nullptr, 1),
        &PQclear);
    if (PQresultStatus(result.get()) != PGRES_TUPLES_OK) return -1;
    const int count = PQntuples(result.get());
    for (int row = 0; row < count; ++row) {
      benchmark::DoNotOptimize(PQgetvalue(result.get(), row, 0));
      benchmark::DoNotOptimize(PQgetlength(result.get(), row, 0));
    }
    return count;
  }
  std::size_t count_icps() {
    const std::unique_ptr<PGresult, decltype(&PQclear)> result(
        PQexec(connection_.get(), "SELECT count(*) FROM icp_bench.icps"), &PQclear);
    if (PQresultStatus(result.get()) != PGRES_TUPLES_OK) return 0;
    return std::stoul(PQgetvalue(result.get(), 0, 0));
  }

 private:
  std::unique_ptr<PGconn, decltype(&PQfinish)> connection_;
  const char* sql_;
  bool pooled_;
};

/// The bench ICPs in PostgreSQL, kLister a member of kListerIcps of them;
/// seeded once, reused by later runs.
std::shared_ptr<icp::IcpStore> postgres_store() {
  static const auto store = [] {
    auto opened = icp::open_postgres_store(postgres_url(), {.schema = kPgSchema});
    if (!opened) throw icp::Exception(opened.error());
    if (PgFloor(postgres_url()).count_icps() != kIcpCount) {
      constexpr std::size_t kChunk = 1'000;
      auto icps = bench_icps();
      for (std::size_t i = 0; i < icps.size(); i += kIcpCount / kListerIcps) {
        icps[i].user_ids.emplace_back(kLister);
      }
      SeedProgress progress(fmt::format("PostgreSQL schema {}", kPgSchema), icps.size());
      for (std::size_t first = 0; first < icps.size(); first += kChunk) {
        const std::span chunk(icps.data() + first, std::min(kChunk, icps.size() - first));
        (void)(*opened)->write({.icps = chunk}).value();
        progress.done(first + chunk.size());
      }
      PgFloor(postgres_url()).run("ANALYZE");
    }
    warm_up(**opened, lookup_ids());
    return *opened;
  }();
  return store;
}

/// The same ICPs through PgBouncer in transaction mode, the store in
/// transaction-pooling mode.
std::shared_ptr<icp::IcpStore> pgbouncer_store() {
  static const auto store = [] {
    (void)postgres_store();  // seeded
    auto opened = icp::open_postgres_store(pgbouncer_url(),
                                           {.schema = kPgSchema, .transaction_pooling = true});
    if (!opened) throw icp::Exception(opened.error());
    warm_up(**opened, lookup_ids());
    return *opened;
  }();
  return store;
}

/// The floor for a PostgreSQL get: one lookup of the same row through bare
/// libpq on a connection of its own, nothing decoded.
void floor_lookup(benchmark::State& state, const std::string& url, PgFloor::Through through) {
  (void)postgres_store();
  PgFloor floor(url, kFloorLookup, through);
  const auto& ids = lookup_ids();
  std::size_t next = 0;
  for (auto _ : state) {
    if (floor.rows(ids[next].c_str()) != 1) state.SkipWithError("row not found");
    next = (next + 1) % ids.size();
  }
}

/// The floor for a list: the same page by the same indexed query.
void floor_list(benchmark::State& state, const std::string& url, PgFloor::Through through) {
  (void)postgres_store();
  PgFloor floor(url, kFloorList, through);
  const std::string lister(kLister);
  for (auto _ : state) {
    if (floor.rows(lister.c_str()) != 50) state.SkipWithError("unexpected listing");
  }
}

void register_postgres_benchmarks() {
  if (postgres_url().empty()) return;
  const auto add = [](const char* name, auto body) {
    benchmark::RegisterBenchmark(name, body)->UseRealTime();
  };
  add("BM_ServiceGet_Postgres", [](auto& state) { service_get(state, postgres_store()); });
  constexpr auto kDirect = PgFloor::Through::server;
  constexpr auto kPooled = PgFloor::Through::transaction_pooler;
  add("BM_PostgresFloor_Lookup", [](auto& state) { floor_lookup(state, postgres_url(), kDirect); });
  add("BM_ServiceList_Postgres", [](auto& state) { service_list(state, postgres_store()); });
  add("BM_PostgresFloor_List", [](auto& state) { floor_list(state, postgres_url(), kDirect); });
  if (pgbouncer_url().empty()) return;
  add("BM_ServiceGet_PgBouncer", [](auto& state) { service_get(state, pgbouncer_store()); });
  add("BM_PgBouncerFloor_Lookup",
      [](auto& state) { floor_lookup(state, pgbouncer_url(), kPooled); });
  add("BM_ServiceList_PgBouncer", [](auto& state) { service_list(state, pgbouncer_store()); });
  add("BM_PgBouncerFloor_List", [](auto& state) { floor_list(state, pgbouncer_url(), kPooled); });
}

#else

void register_postgres_benchmarks() {}

#endif

/// Prints the usual console table, then each Get as a ratio to its floor:
/// the SQLite service get over the bare lookup, measured in the same run.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const auto& run : runs) {
      if (run.run_type == Run::RT_Iteration || run.aggregate_name == "median") {
        // Wall-clock time where the benchmark asked for it (the PostgreSQL
        // ones: their work is in the server process), else CPU time.
        ns_[run.run_name.function_name +
            (run.run_name.args.empty() ? "" : "/" + run.run_name.args)] =
            run.run_name.time_type.empty() ? run.GetAdjustedCPUTime() : run.GetAdjustedRealTime();
      }
    }
    ConsoleReporter::ReportRuns(runs);
  }

  void print_ratios() const {
    print_ratio("IcpService::get on SQLite / bare SQLiteCpp lookup", "BM_ServiceGet_Sqlite",
                "BM_SqliteFloor_Lookup");
    print_ratio("get at 1,000,000 ICPs / at 1,000", "BM_Scale_ServiceGet/1000000",
                "BM_Scale_ServiceGet/1000");
    print_ratio("list-for-user at 1,000,000 ICPs / at 1,000", "BM_Scale_ListForUser/1000000",
                "BM_Scale_ListForUser/1000");
    print_ratio("decoding a stored ICP / parse_icp of the same text", "BM_DecodeStored_BenchIcp",
                "BM_ParseIcp_BenchIcp");
    print_ratio("ClerkAuthenticator::verify (RS256, 2048 bits) / bare EVP_PKEY_verify",
                "BM_ClerkVerify_RS256", "BM_OpenSslFloor_VerifyRS256");
    print_ratio("IcpService::get on PostgreSQL / bare libpq lookup (wall clock)",
                "BM_ServiceGet_Postgres", "BM_PostgresFloor_Lookup");
    print_ratio("IcpService::list on PostgreSQL / bare libpq query (wall clock)",
                "BM_ServiceList_Postgres", "BM_PostgresFloor_List");
    print_ratio("IcpService::get through PgBouncer, transaction pooling / bare libpq (wall clock)",
                "BM_ServiceGet_PgBouncer", "BM_PgBouncerFloor_Lookup");
    print_ratio("IcpService::list through PgBouncer, transaction pooling / bare libpq (wall clock)",
                "BM_ServiceList_PgBouncer", "BM_PgBouncerFloor_List");
  }

 private:
  void print_ratio(const char* what, const std::string& numerator,
                   const std::string& denominator) const {
    const auto top = ns_.find(numerator);
    const auto bottom = ns_.find(denominator);
    if (top == ns_.end() || bottom == ns_.end()) return;
    fmt::print("{}: {:.2f}x ({:.0f} ns / {:.0f} ns)\n", what, top->second / bottom->second,
               top->second, bottom->second);
  }

  std::map<std::string, double> ns_;
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  register_postgres_benchmarks();
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  benchmark::Shutdown();
  fmt::print("\n");
  reporter.print_ratios();
  return 0;
}
