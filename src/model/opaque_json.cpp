// OpaqueJson: a JSON value kept as given, or the stored text it is parsed
// from on first use.
#include "model/opaque_json.hpp"

#include <icp/model.hpp>

#include "json/append.hpp"
#include "json/same_json.hpp"

#include <boost/json/parse.hpp>

namespace icp {

namespace json = boost::json;

const json::value& detail::OpaqueJsonState::value() const noexcept {
  if (!text_.empty()) {
    std::call_once(parsed_, [this] {
      boost::system::error_code ec;
      value_ = json::parse(text_, ec);  // cannot fail: the text was checked when it was read
    });
  }
  return value_;
}

OpaqueJson detail::OpaqueJsonAccess::from_valid_text(std::string_view text) {
  return OpaqueJson(std::make_shared<const OpaqueJsonState>(OpaqueJsonState::ValidText{text}));
}

void detail::append_opaque_json(std::string& out, const OpaqueJson& opaque) {
  const auto& state = OpaqueJsonAccess::state(opaque);
  if (const auto text = state.text(); !text.empty()) {
    out.append(text);
  } else {
    append_json_value(out, state.value());
  }
}

OpaqueJson::OpaqueJson() {
  static const auto empty = std::make_shared<const detail::OpaqueJsonState>(json::object{});
  state_ = empty;
}

OpaqueJson::OpaqueJson(json::object object)
    : state_(std::make_shared<const detail::OpaqueJsonState>(std::move(object))) {}

OpaqueJson::OpaqueJson(json::value value)
    : state_(std::make_shared<const detail::OpaqueJsonState>(std::move(value))) {}

OpaqueJson::OpaqueJson(std::nullptr_t)
    : state_(std::make_shared<const detail::OpaqueJsonState>(nullptr)) {}

OpaqueJson::OpaqueJson(std::shared_ptr<const detail::OpaqueJsonState> state) noexcept
    : state_(std::move(state)) {}

const json::value& OpaqueJson::value() const noexcept { return state_->value(); }

bool operator==(const OpaqueJson& a, const OpaqueJson& b) noexcept {
  if (a.state_ == b.state_) return true;
  // Two values read from the same text are equal without parsing either.
  if (const auto text = a.state_->text(); !text.empty() && text == b.state_->text()) return true;
  return detail::same_json(a.value(), b.value());
}

}  // namespace icp
