#pragma once

// Reading a small configuration file (a tokens file, a PEM key) that may
// name anything: bounded in bytes, and only if it is a regular file.

#include <icp/error.hpp>

#include <fmt/format.h>
#include <fmt/std.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>

namespace icp::detail {

/// The file's contents, at most `max_bytes`. Regular files only: opening a
/// FIFO would wait for a writer for ever, and a device such as /dev/zero
/// never ends (stat() does not block). `not_found` when it cannot be read,
/// `bad_request` when larger; both name `what` and the path. Inline: used
/// by two libraries, exported by neither.
[[nodiscard]] inline Result<std::string> read_small_file(const std::filesystem::path& path,
                                                         std::size_t max_bytes,
                                                         std::string_view what) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return Error{Errc::not_found,
                 fmt::format("cannot read the {} {}: not a regular file", what, path)};
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{Errc::not_found, fmt::format("cannot read the {} {}", what, path)};
  std::string text(max_bytes + 1, '\0');
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<std::size_t>(in.gcount()));
  if (text.size() > max_bytes) {
    return Error{Errc::bad_request,
                 fmt::format("{}: the {} is larger than {} bytes", path, what, max_bytes)};
  }
  if (in.bad()) return Error{Errc::not_found, fmt::format("cannot read the {} {}", what, path)};
  return text;
}

}  // namespace icp::detail
