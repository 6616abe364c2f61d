#pragma once

// The store contract as executable checks, for every IcpStore: the shipped
// ones and yours. Framework-free, so it runs under Catch2, GoogleTest or a
// plain main():
//
//   for (auto name : icp::testing::store_conformance_cases()) {
//     auto failures = icp::testing::run_store_conformance_case(name, make_my_store);
//     EXPECT_TRUE(failures.empty()) << name;   // each failure: "line N: expression"
//   }

#include <icp/store.hpp>
#include <icp/testing_export.hpp>

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace icp::testing {

/// Makes a new, empty store; called once per case.
using StoreFactory = std::function<std::shared_ptr<IcpStore>()>;

/// The names of the suite's cases, in the order they run.
[[nodiscard]] ICP_TESTING_EXPORT std::vector<std::string_view> store_conformance_cases();

/// Runs the named case against a fresh store; returns its failed checks
/// (empty when it passed). An unknown name is one failure that says so.
[[nodiscard]] ICP_TESTING_EXPORT std::vector<std::string> run_store_conformance_case(
    std::string_view name, const StoreFactory& make_store);

/// Runs every case; each failure is prefixed with its case's name.
[[nodiscard]] ICP_TESTING_EXPORT std::vector<std::string> run_store_conformance(
    const StoreFactory& make_store);

/// The example ICP of the Get ICP page, as JSON text and as a value.
[[nodiscard]] ICP_TESTING_EXPORT std::string_view spec_example_json();
/// spec_example_json() parsed: revision 0, no organization.
[[nodiscard]] ICP_TESTING_EXPORT Icp spec_example();

}  // namespace icp::testing
