// The one duplicate check for strings from outside: pairwise while few,
// hashed beyond, with the same answers on both sides of the switch.
#include "util/unique_strings.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

namespace {

std::vector<std::string> numbered(std::size_t count) {
  std::vector<std::string> strings;
  for (std::size_t i = 0; i < count; ++i) strings.push_back("user_" + std::to_string(i));
  return strings;
}

}  // namespace

TEST_CASE("UniqueStrings refuses a repeat, however many it holds", "[util]") {
  using icp::detail::kPairwiseCheckLimit;
  for (const std::size_t count :
       {std::size_t{0}, std::size_t{1}, kPairwiseCheckLimit - 1, kPairwiseCheckLimit,
        kPairwiseCheckLimit + 1, std::size_t{1000}}) {
    CAPTURE(count);
    const auto strings = numbered(count);
    icp::detail::UniqueStrings seen;
    for (const auto& text : strings) CHECK(seen.insert(text));
    // Every one of them again, and one that is new: each answer as before.
    for (const auto& text : strings) CHECK_FALSE(seen.insert(text));
    CHECK(seen.insert("someone_else"));
    CHECK_FALSE(seen.insert("someone_else"));
  }
}

TEST_CASE("UniqueStrings compares by value: equal text in other memory repeats", "[util]") {
  icp::detail::UniqueStrings seen;
  const std::string first = "user_a";
  const std::string again(first.begin(), first.end());
  CHECK(seen.insert(first));
  CHECK_FALSE(seen.insert(again));
  CHECK(seen.insert(""));
  CHECK_FALSE(seen.insert(std::string_view()));
}

TEST_CASE("has_duplicates over short and long lists, the repeat first or last", "[util]") {
  using icp::detail::has_duplicates;
  for (const std::size_t count :
       {std::size_t{2}, std::size_t{16}, std::size_t{17}, std::size_t{500}}) {
    CAPTURE(count);
    auto strings = numbered(count);
    CHECK_FALSE(has_duplicates(strings));
    strings.push_back(strings.front());
    CHECK(has_duplicates(strings));
    strings.back() = strings[count - 1];
    CHECK(has_duplicates(strings));
  }
  CHECK_FALSE(has_duplicates(std::vector<std::string>{}));
}
