// libFuzzer target: any bytes into the JSON entry points. They must answer
// with a value or a bad_request, never crash, hang or leak; whatever parses
// must serialise and parse back to the same ICP; and the stores' fast reader
// (read_stored_icp) must read only what the general reader reads, as the
// same ICP, and read back everything to_json writes, exactly.
#include <icp/json.hpp>
#include <icp/model.hpp>

#include "json/checked_json.hpp"
#include "json/same_json.hpp"
#include "json/stored_icp_reader.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/value_from.hpp>

#include <cstdint>
#include <cstdlib>
#include <string_view>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  // NOLINTNEXTLINE(cppcoreguidelines-pro-type-reinterpret-cast): libFuzzer gives bytes
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto icp = icp::parse_icp(text);
  if (icp) {
    // What parses serialises and reads back as the same ICP, as JSON: numbers
    // may come back one unit in the last place away (Boost.JSON 1.81 reads
    // doubles imprecisely), nothing else may change.
    const auto written = icp::to_json(*icp);
    const auto again = icp::parse_icp(written);
    if (!again ||
        !icp::detail::same_json(boost::json::value_from(*again), boost::json::value_from(*icp),
                                icp::detail::Doubles::within_one_ulp)) {
      std::abort();
    }
    // A store reads what it wrote through the fast path, exactly: the same
    // text back. (The fast reader reads doubles exactly, the general one may
    // be one unit in the last place away: the ICPs compare as JSON.)
    const auto stored = icp::detail::read_stored_icp(written);
    if (!stored || icp::to_json(*stored) != written ||
        !icp::detail::same_json(boost::json::value_from(*stored), boost::json::value_from(*icp),
                                icp::detail::Doubles::within_one_ulp)) {
      std::abort();
    }
  } else if (icp.error().code != icp::Errc::bad_request) {
    std::abort();
  }
  if (const auto fast = icp::detail::read_stored_icp(text)) {
    boost::system::error_code ec;
    const auto value = boost::json::parse(text, ec);
    if (ec) std::abort();
    const auto general = icp::icp_from_json(value);
    if (!general ||
        !icp::detail::same_json(boost::json::value_from(*fast), boost::json::value_from(*general),
                                icp::detail::Doubles::within_one_ulp)) {
      std::abort();
    }
  }
  if (const auto value = icp::parse_json(text)) {
    (void)icp::detail::find_duplicate_key(text);
    (void)icp::icp_from_json(*value);
  }
  return 0;
}
