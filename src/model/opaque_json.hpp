#pragma once

// OpaqueJson's insides: a parsed value, or JSON text from a store that is
// parsed on first use.

#include <icp/model.hpp>

#include <mutex>
#include <string>
#include <string_view>

namespace icp::detail {

class OpaqueJsonState {
 public:
  explicit OpaqueJsonState(boost::json::value value) noexcept : value_(std::move(value)) {}

  /// `text` must be one valid JSON value (the caller checked it), so parsing
  /// it later cannot fail.
  struct ValidText {
    std::string_view text;
  };
  explicit OpaqueJsonState(ValidText valid) : text_(valid.text) {}

  [[nodiscard]] const boost::json::value& value() const noexcept;

  /// The JSON text the value was read from, empty when it was not read from
  /// text (valid JSON text is never empty).
  [[nodiscard]] std::string_view text() const noexcept { return text_; }

 private:
  std::string text_;
  mutable std::once_flag parsed_;
  mutable boost::json::value value_;
};

struct OpaqueJsonAccess {
  /// An OpaqueJson over `text`, which must be one valid JSON value.
  [[nodiscard]] static OpaqueJson from_valid_text(std::string_view text);

  [[nodiscard]] static const OpaqueJsonState& state(const OpaqueJson& opaque) noexcept {
    return *opaque.state_;
  }
};

/// Appends `opaque` as JSON: the text it was read from when it has one (so
/// that a stored value goes out exactly as it was stored, unparsed), else its
/// value written out.
void append_opaque_json(std::string& out, const OpaqueJson& opaque);

}  // namespace icp::detail
