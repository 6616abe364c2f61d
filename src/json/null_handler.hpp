#pragma once

// A Boost.JSON basic_parser handler that accepts everything and keeps
// nothing: the parser alone checks syntax, UTF-8 and depth. The handlers of
// the checked parser and the stored-ICP reader derive from it and override
// what they look at.

#include <boost/json/array.hpp>
#include <boost/json/error.hpp>
#include <boost/json/object.hpp>
#include <boost/json/string.hpp>
#include <boost/json/string_view.hpp>

#include <cstddef>
#include <cstdint>

namespace icp::detail {

// NOLINTBEGIN(readability-convert-member-functions-to-static): the parser's handler interface
struct NullHandler {
  // The limits of Boost.JSON's own parser: nothing is read that it refuses.
  static constexpr std::size_t max_object_size = boost::json::object::max_size();
  static constexpr std::size_t max_array_size = boost::json::array::max_size();
  static constexpr std::size_t max_key_size = boost::json::string::max_size();
  static constexpr std::size_t max_string_size = boost::json::string::max_size();

  using error_code = boost::json::error_code;
  using string_view = boost::json::string_view;

  bool on_document_begin(error_code& /*ec*/) { return true; }
  bool on_document_end(error_code& /*ec*/) { return true; }
  bool on_array_begin(error_code& /*ec*/) { return true; }
  bool on_array_end(std::size_t /*n*/, error_code& /*ec*/) { return true; }
  bool on_object_begin(error_code& /*ec*/) { return true; }
  bool on_object_end(std::size_t /*n*/, error_code& /*ec*/) { return true; }
  bool on_string_part(string_view /*s*/, std::size_t /*n*/, error_code& /*ec*/) { return true; }
  bool on_string(string_view /*s*/, std::size_t /*n*/, error_code& /*ec*/) { return true; }
  bool on_key_part(string_view /*s*/, std::size_t /*n*/, error_code& /*ec*/) { return true; }
  bool on_key(string_view /*s*/, std::size_t /*n*/, error_code& /*ec*/) { return true; }
  bool on_number_part(string_view /*s*/, error_code& /*ec*/) { return true; }
  bool on_int64(std::int64_t /*i*/, string_view /*s*/, error_code& /*ec*/) { return true; }
  bool on_uint64(std::uint64_t /*u*/, string_view /*s*/, error_code& /*ec*/) { return true; }
  bool on_double(double /*d*/, string_view /*s*/, error_code& /*ec*/) { return true; }
  bool on_bool(bool /*b*/, error_code& /*ec*/) { return true; }
  bool on_null(error_code& /*ec*/) { return true; }
  bool on_comment_part(string_view /*s*/, error_code& /*ec*/) { return true; }
  bool on_comment(string_view /*s*/, error_code& /*ec*/) { return true; }
};
// NOLINTEND(readability-convert-member-functions-to-static)

}  // namespace icp::detail
