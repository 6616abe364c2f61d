// libFuzzer target: any bytes into the JSON entry points. They must answer
// with a value or a bad_request, never crash, hang or leak; and whatever
// parses must serialise and parse back to the same ICP.
#include <icp/json.hpp>
#include <icp/model.hpp>

#include "../src/json_duplicates.hpp"
#include "../src/json_internal.hpp"

#include <boost/json/value_from.hpp>

#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto icp = icp::parse_icp(text);
  if (icp) {
    // What parses serialises and reads back as the same ICP, as JSON: numbers
    // may come back one unit in the last place away (Boost.JSON 1.81 reads
    // doubles imprecisely), nothing else may change.
    const auto again = icp::parse_icp(icp::to_json(*icp));
    if (!again ||
        !icp::detail::same_json(boost::json::value_from(*again), boost::json::value_from(*icp))) {
      std::abort();
    }
  } else if (icp.error().code != icp::Errc::bad_request) {
    std::abort();
  }
  if (const auto value = icp::parse_json(text)) {
    (void)icp::detail::find_duplicate_key(text);
    (void)icp::icp_from_json(*value);
  }
  return 0;
}
