#include <icp/testing/store_conformance.hpp>

#include "test_stores.hpp"

// Every shipped store runs the one suite; a store is added in test_stores.hpp.
TEST_CASE("every store passes the conformance suite", "[store][conformance]") {
  const auto kind = GENERATE(from_range(icp::test::store_kinds()));
  const icp::test::TempDir dir;
  for (const auto name : icp::testing::store_conformance_cases()) {
    DYNAMIC_SECTION(kind << ": " << name) {
      const auto failures = icp::testing::run_store_conformance_case(
          name, [&] { return icp::test::make_store(kind, dir); });
      for (const auto& failure : failures) FAIL_CHECK(failure);
      CHECK(failures.empty());
    }
  }
}

TEST_CASE("the suite catches a broken store", "[store][conformance]") {
  // A store that forgets every write: the suite must notice, or it tests nothing.
  class ForgetfulStore final : public icp::IcpStore {
   public:
    icp::Result<std::optional<icp::Icp>> get(const icp::GetIcpRequest&) override {
      return std::optional<icp::Icp>{};
    }
    icp::Result<void> write(const icp::WriteIcpsRequest&) override { return {}; }
    icp::Result<bool> erase(const icp::EraseIcpRequest&) override { return false; }
    icp::Result<std::vector<icp::Icp>> list(const icp::ListIcpsRequest&) override {
      return std::vector<icp::Icp>{};
    }
  };
  const auto failures =
      icp::testing::run_store_conformance([] { return std::make_shared<ForgetfulStore>(); });
  CHECK(failures.size() >= 10);
  CHECK(icp::testing::run_store_conformance_case("no such case", icp::make_memory_store) ==
        std::vector<std::string>{"no conformance case named \"no such case\""});
}
