#pragma once

// The layout to_json writes, declared once for its writer (icp_writer.cpp)
// and its exact reader (stored_icp_reader.cpp): each key with the
// punctuation before it, in the order written, no whitespace. Changing one
// here changes both; documents stored in an older layout are still read by
// the general reader.

#include <cstddef>
#include <string_view>

namespace icp::detail::layout {

// The ICP object. `crmFilters` is written only when present.
inline constexpr std::string_view kId = R"({"id":)";
inline constexpr std::string_view kName = R"(,"name":)";
inline constexpr std::string_view kDescription = R"(,"description":)";
inline constexpr std::string_view kCreatedAt = R"(,"createdAt":)";
inline constexpr std::string_view kUpdatedAt = R"(,"updatedAt":)";
inline constexpr std::string_view kUserIds = R"(,"userIds":)";
inline constexpr std::string_view kLeadsPerList = R"(,"leadsPerList":)";
inline constexpr std::string_view kActiveUntil = R"(,"activeUntil":)";
inline constexpr std::string_view kLeadProviderCriteria = R"(,"leadProviderCriteria":)";
inline constexpr std::string_view kCustomFilterCriteria = R"(,"customFilterCriteria":)";
inline constexpr std::string_view kCrmFilters = R"(,"crmFilters":)";
inline constexpr std::string_view kEnd = "}";

// One element of `leadProviderCriteria`.
inline constexpr std::string_view kProvider = R"({"provider":)";
inline constexpr std::string_view kProviderType = R"(,"type":)";
inline constexpr std::string_view kFilters = R"(,"filters":)";

// One element of `customFilterCriteria`.
inline constexpr std::string_view kCustomType = R"({"type":)";
inline constexpr std::string_view kCustomValue = R"(,"value":)";

inline constexpr std::string_view kNull = "null";

/// How deep the opaque objects sit (the document itself is level 1), for
/// the depth limit the general reader applies to the whole document.
inline constexpr std::size_t kCrmFiltersLevel = 2;
inline constexpr std::size_t kFiltersLevel = 4;  // document, criteria array, criterion, filters

}  // namespace icp::detail::layout
