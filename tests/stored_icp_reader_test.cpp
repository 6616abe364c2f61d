#include "json/stored_icp_reader.hpp"

#include <icp/json.hpp>
#include <icp/testing/store_conformance.hpp>

#include "json/icp_reader.hpp"
#include "json/same_json.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include <thread>

namespace {

namespace json = boost::json;
using icp::detail::read_stored_icp;

/// What the stores' general reader makes of a text: the ICP, or nullopt when
/// it refuses it.
std::optional<icp::Icp> general(std::string_view text) {
  auto icp = icp::detail::parse_icp_keeping_nul(text);
  if (!icp) return std::nullopt;
  return std::move(*icp);
}

/// The same ICP as JSON (an absent crmFilters has no key, a null one is
/// null): custom filter values may differ by one unit in the last place,
/// where the general reader (Boost.JSON 1.81) is not exact.
bool same_icp(const icp::Icp& a, const icp::Icp& b) {
  return icp::detail::same_json(json::value_from(a), json::value_from(b),
                                icp::detail::Doubles::within_one_ulp);
}

/// ICPs exercising every field and every kind of value the writer produces.
std::vector<icp::Icp> varied_icps() {
  std::vector<icp::Icp> icps;
  icps.push_back(icp::testing::spec_example());

  auto bare = icp::testing::spec_example();
  bare.description.reset();
  bare.active_until.reset();
  bare.crm_filters.reset();
  bare.custom_filter_criteria.clear();
  bare.lead_provider_criteria.clear();
  bare.user_ids = {"u"};
  bare.leads_per_list = 1;
  icps.push_back(bare);

  auto text = icp::testing::spec_example();
  text.name = "Zürich \"HQ\" \\ back\nslash\t\x01 😀 [x]{y}";
  text.description = "";
  text.user_ids = {"user_ü", "user \"q\"", "user_000001_with_a_long_id"};
  text.lead_provider_criteria[0].provider = "p\"rov}ider";
  text.custom_filter_criteria = {{"naïve \"type\"", 1.5}};
  icps.push_back(text);

  auto numbers = icp::testing::spec_example();
  numbers.leads_per_list = 2147483647;
  numbers.custom_filter_criteria = {{"maxPeoplePerCompany", 0},
                                    {"minDaysUntilReuse", 9007199254740992.0},
                                    {"anything", -2.5},
                                    {"tiny", 5e-324},
                                    {"largest", 9007199254740992.0},
                                    {"smallest", -9007199254740992.0},
                                    {"tenth", 0.1},
                                    {"exponent", 1e15},
                                    {"negativeZero", -0.0},
                                    {"twentyOneE-300", 21e-300}};
  icps.push_back(numbers);

  auto opaque = icp::testing::spec_example();
  opaque.lead_provider_criteria.push_back(
      {"apolloProvider", "company",
       json::parse(R"({"z":{"y":[[],{},[{"x":"]}\"{["}]],"w":null},"a":[true,false,1.5e-7],)"
                   R"("esc":"\\\"\/\b\f\n\r\t\u0000é","":0})")
           .as_object()});
  opaque.lead_provider_criteria.push_back({"third", "person", json::object{}});
  opaque.crm_filters = json::parse(R"({"provider":"hubspot","stages":["closed_won"],"n":-0.5})");
  icps.push_back(opaque);

  auto crm_null = icp::testing::spec_example();
  crm_null.crm_filters = icp::OpaqueJson(nullptr);
  icps.push_back(crm_null);
  return icps;
}

std::string replace_once(std::string text, std::string_view from, std::string_view to) {
  const auto at = text.find(from);
  REQUIRE(at != std::string::npos);
  return text.replace(at, from.size(), to);
}

std::string spec_document() { return icp::to_json(icp::testing::spec_example()); }

}  // namespace

TEST_CASE("every document to_json writes is read by the fast path as the same ICP", "[json]") {
  for (const auto& icp : varied_icps()) {
    const auto text = icp::to_json(icp);
    INFO(text);
    const auto fast = read_stored_icp(text);
    REQUIRE(fast.has_value());
    CHECK(*fast == icp);  // exact, custom filter values included
    CHECK(icp::to_json(*fast) == text);
    const auto slow = general(text);
    REQUIRE(slow.has_value());
    CHECK(same_icp(*fast, *slow));
    CHECK(icp::detail::parse_stored_icp(text).value() == icp);
  }
}

TEST_CASE("a stored opaque part goes out as its stored text and is parsed only when read",
          "[json]") {
  // Not the writer's own number form (1.0, 1E2): kept as stored all the same.
  const auto text = replace_once(spec_document(), R"({"job_titles")",
                                 R"({"zeta":1.0,"big":1E2,"s":"a\u00e9","job_titles")");
  const auto fast = read_stored_icp(text);
  REQUIRE(fast.has_value());
  CHECK(icp::to_json(*fast) == text);
  const auto& filters = fast->lead_provider_criteria[0].filters->as_object();
  REQUIRE(filters.size() == 5);
  CHECK(filters.begin()->key() == "zeta");
  CHECK(filters.at("zeta") == 1.0);
  CHECK(filters.at("big") == 100.0);
  CHECK(filters.at("s") == "aé");

  // Equal as JSON, whatever the text: the same text, other key order or
  // number form, and a value built in memory.
  CHECK(*read_stored_icp(text) == *fast);
  const auto reordered =
      read_stored_icp(replace_once(text, R"("zeta":1.0,"big":1E2)", R"("big":100,"zeta":1)"));
  REQUIRE(reordered.has_value());
  CHECK(reordered->lead_provider_criteria[0].filters == fast->lead_provider_criteria[0].filters);
  CHECK(fast->lead_provider_criteria[0].filters == icp::OpaqueJson(filters));
  const auto changed = read_stored_icp(replace_once(text, R"("zeta":1.0)", R"("zeta":2.0)"));
  REQUIRE(changed.has_value());
  CHECK_FALSE(changed->lead_provider_criteria[0].filters ==
              fast->lead_provider_criteria[0].filters);
}

TEST_CASE("other layouts are left to the general reader, which still reads them", "[json]") {
  const auto document = spec_document();
  auto reordered = json::parse(document).as_object();
  const auto name = reordered.at("name");
  reordered.erase("name");
  reordered["name"] = name;
  auto without_custom = json::parse(document).as_object();
  without_custom.erase("customFilterCriteria");
  const std::vector<std::string> layouts{
      json::serialize(reordered),
      json::serialize(without_custom),
      "{ " + document.substr(1),
      document + "\n",
      replace_once(document, R"("name":)", R"("name" :)"),
      replace_once(document, R"("leadsPerList":25)", R"("leadsPerList":25.0)"),
      replace_once(document, R"("leadsPerList":25)", R"("leadsPerList":2.5e1)"),
      replace_once(document, R"("userIds":["user_abc123",)", R"("userIds":[ "user_abc123",)"),
      replace_once(document, R"("value":3})", R"("value":3 })"),
      replace_once(document, R"(,"type":"person")", ""),  // the type's default
  };
  for (const auto& text : layouts) {
    INFO(text);
    CHECK_FALSE(read_stored_icp(text).has_value());
    const auto slow = general(text);
    REQUIRE(slow.has_value());
    CHECK(icp::detail::parse_stored_icp(text).value() == *slow);
  }
}

TEST_CASE("what the general reader refuses, the fast path refuses too", "[json]") {
  const auto document = spec_document();
  auto with = [&](std::string_view from, std::string_view to) {
    return replace_once(document, from, to);
  };
  const std::string filters = R"("filters":{"job_titles":["CTO","VP Engineering",)"
                              R"("Head of Technology"],"company_size":["501-1000","1001-5000",)"
                              R"("5001+"]})";
  const std::vector<std::string> refused{
      with("550e8400-e29b-41d4-a716-446655440000", "550e8400-e29b-41d4-a716-44665544000"),
      with("550e8400-e29b-41d4-a716-446655440000", "550e8400Xe29b-41d4-a716-446655440000"),
      with(R"("name":"Enterprise Tech Decision Makers")", R"("name":"")"),
      with(R"("name":"Enterprise Tech Decision Makers")", R"("name":42)"),
      with(R"("name":"Enterprise Tech Decision Makers")", R"("name":null)"),
      with("Enterprise Tech", "Enterprise\x01Tech"),   // raw control character
      with("Enterprise Tech", "Enterprise\xffTech"),   // not UTF-8
      with("Enterprise Tech", "Enterprise\xc3Tech"),   // truncated UTF-8
      with("Enterprise Tech", R"(Enterprise\qTech)"),  // no such escape
      with("Enterprise Tech", R"(Enterprise\u12Tech)"),
      with(R"("description":"C-level)", R"("description":7,"x":"C-level)"),
      with("2024-01-15T10:30:00.000Z", "2024-02-30T10:30:00.000Z"),
      with("2024-01-15T10:30:00.000Z", "2024-01-15T10:30:00.000"),
      with("2024-01-20T14:22:00.000Z", "yesterday"),
      with("2024-12-31T23:59:59.000Z", "2024-12-31T23:59:60.000Z"),
      with(R"("userIds":["user_abc123","user_def456"])",
           R"("userIds":["user_abc123","user_abc123"])"),
      with(R"("userIds":["user_abc123","user_def456"])", R"("userIds":["user_abc123",""])"),
      with(R"("userIds":["user_abc123","user_def456"])", R"("userIds":["user_abc123",7])"),
      with(R"("userIds":["user_abc123","user_def456"])", R"("userIds":"user_abc123")"),
      with(R"("userIds":["user_abc123","user_def456"])", R"("userIds":["user_abc123",])"),
      with(R"("leadsPerList":25)", R"("leadsPerList":0)"),
      with(R"("leadsPerList":25)", R"("leadsPerList":-1)"),
      with(R"("leadsPerList":25)", R"("leadsPerList":2147483648)"),
      with(R"("leadsPerList":25)", R"("leadsPerList":2.5)"),
      with(R"("leadsPerList":25)", R"("leadsPerList":"25")"),
      with(R"("leadsPerList":25)", R"("leadsPerList":025)"),
      with(R"("leadsPerList":25)", R"("leadsPerList":+25)"),
      with(R"("leadsPerList":25)", R"("leadsPerList":25.)"),
      with(R"("leadsPerList":25)", R"("leadsPerList":2e)"),
      with(R"("leadsPerList":25)", R"("leadsPerList":-)"),
      with(R"("provider":"baseProvider")", R"("provider":"")"),
      with(R"("type":"person")", R"("type":"robot")"),
      with(filters, R"("filters":[])"),
      with(filters, R"("filters":"x")"),
      with(filters, R"("filters":null)"),
      with(filters, R"("filters":{"a":})"),
      with(filters, R"("filters":{"a":1,})"),
      with(filters, R"("filters":{"a" 1})"),
      with(filters, R"("filters":{"a":[}])"),
      with(filters, R"("filters":{"a":"\x"})"),
      with(filters, R"("filters":{"a":01})"),
      with(filters, R"("filters":{"a":NaN})"),
      with(filters, "\"filters\":{\"a\":\"\xff\"}"),
      with(R"("value":3})", R"("value":2.5})"),  // maxPeoplePerCompany takes integers
      with(R"("value":3})", R"("value":-1})"),
      with(R"("value":3})", R"("value":9007199254740994})"),
      with(R"("value":3})", R"("value":"3"})"),
      with(R"("value":3})", R"("value":.5})"),
      with(R"("value":3})", R"("value":1.e5})"),
      with(R"("value":3})", R"("value":Infinity})"),
      // Any type's value stays within +-2^53, where a double is exact.
      with(R"("maxPeoplePerCompany","value":3})", R"("anything","value":9007199254740993})"),
      with(R"("maxPeoplePerCompany","value":3})", R"("anything","value":-9007199254740993})"),
      with(R"("maxPeoplePerCompany","value":3})", R"("anything","value":1e16})"),
      with(R"("maxPeoplePerCompany","value":3})", R"("anything","value":1.7976931348623157e308})"),
      with(R"("maxPeoplePerCompany","value":3})", R"("anything","value":18446744073709551615})"),
      with(R"("crmFilters":null)", R"("crmFilters":null,"crmFilters":null)"),
      with(R"("crmFilters":null)", R"("crmFilters":[])"),
      with(R"("crmFilters":null)", R"("crmFilters":"none")"),
      with(R"("crmFilters":null)", R"("crmFilters":{"a":1}x)"),
      with(R"("crmFilters":null)", R"("crmFilters":null,"extra":1)"),
      document + "x",
      document + "{}",
      "",
      "null",
      "[]",
  };
  for (const auto& text : refused) {
    INFO(text);
    CHECK_FALSE(read_stored_icp(text).has_value());
    CHECK_FALSE(general(text).has_value());
    CHECK_FALSE(icp::detail::parse_stored_icp(text).has_value());
  }
}

TEST_CASE("every truncation of a stored document is refused, not misread", "[json]") {
  for (const auto& icp : varied_icps()) {
    const auto text = icp::to_json(icp);
    for (std::size_t size = 0; size < text.size(); ++size) {
      const auto prefix = std::string_view(text).substr(0, size);
      INFO(prefix);
      CHECK_FALSE(read_stored_icp(prefix).has_value());
    }
  }
}

TEST_CASE("opaque parts may nest as deep as the general reader allows, and no deeper", "[json]") {
  // The general reader applies Boost.JSON's depth limit to the whole
  // document; the fast path checks each opaque part alone, so it must count
  // the levels around it: filters sit at level 4, crmFilters at level 2.
  auto nested = [](int levels) {
    std::string value = "{}";
    for (int i = 0; i < levels; ++i) value = std::string(R"({"a":)").append(value).append("}");
    return value;
  };
  const auto document = spec_document();
  for (const bool in_filters : {true, false}) {
    int accepted = 0;
    int refused = 0;
    for (int levels = 20; levels < 40; ++levels) {
      const auto text =
          in_filters
              ? replace_once(document, R"({"job_titles")",
                             R"({"deep":)" + nested(levels) + R"(,"job_titles")")
              : replace_once(document, R"("crmFilters":null)", R"("crmFilters":)" + nested(levels));
      INFO(text);
      const bool general_reads = general(text).has_value();
      CHECK(read_stored_icp(text).has_value() == general_reads);
      ++(general_reads ? accepted : refused);
    }
    CHECK(accepted > 0);  // the limit lies inside the range tried
    CHECK(refused > 0);
  }
}

TEST_CASE("a changed byte anywhere is read as the general reader reads it, or left to it",
          "[json]") {
  // A deterministic sweep in the spirit of fuzz/parse_icp_fuzz, which checks
  // the same property on random input.
  const auto documents = varied_icps();
  const std::string replacements = "\"\\{}[],:09e-.xn \x01\xc3\xff";
  std::size_t fast_reads = 0;
  for (const auto& icp : documents) {
    const auto text = icp::to_json(icp);
    for (std::size_t at = 0; at < text.size(); ++at) {
      auto deleted = text;
      deleted.erase(at, 1);
      std::vector<std::string> mutants{deleted};
      for (const char c : replacements) {
        if (c == text[at]) continue;
        auto changed = text;
        changed[at] = c;
        mutants.push_back(std::move(changed));
      }
      for (const auto& mutant : mutants) {
        const auto fast = read_stored_icp(mutant);
        if (!fast) continue;
        ++fast_reads;
        const auto slow = general(mutant);
        INFO(mutant);
        REQUIRE(slow.has_value());
        CHECK(same_icp(*fast, *slow));
      }
    }
  }
  CHECK(fast_reads > 1000);  // the sweep reaches the fast path, not only its refusals
}

TEST_CASE("a stored opaque part is parsed once, by whichever thread reads it first", "[json]") {
  const auto stored = read_stored_icp(icp::to_json(varied_icps().at(4)));
  REQUIRE(stored.has_value());
  const auto expected = json::parse(R"({"provider":"hubspot","stages":["closed_won"],"n":-0.5})");
  std::vector<const json::value*> seen(8);
  std::vector<std::thread> threads;
  threads.reserve(seen.size());
  for (auto& slot : seen) {
    threads.emplace_back([&stored, &slot] {
      const auto copy = stored->crm_filters;  // copies share the parsed value
      slot = &copy->value();
    });
  }
  for (auto& thread : threads) thread.join();
  for (const auto* value : seen) {
    CHECK(value == seen.front());
    CHECK(*value == expected);
  }
  CHECK(*stored->crm_filters == icp::OpaqueJson(expected));
}
