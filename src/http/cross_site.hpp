#pragma once
// Whether a browser says a request was made by another site's page, for
// the routes that refuse such posts (the console's every POST, the intake's
// sign-up form): no secret or cookie is needed to tell, browsers say it.
#include <algorithm>
#include <initializer_list>
#include <span>
#include <string>
#include <string_view>

#include "http/server.hpp"

namespace rempart::http {

// True when `Sec-Fetch-Site` is there and is neither `same-origin` nor
// `none` (typed or bookmarked), or, from a browser that does not send it,
// `Origin` is there and is none of `own` (the server's own origins,
// "https://host[:port]"): unless `Origin` is one of `allowed`, other
// sites' pages the server lets post. Two Origin headers: true. A request
// with neither header is not from a browser another site can steer: false.
inline bool from_another_site(const Request& req, std::initializer_list<std::string_view> own,
                              std::span<const std::string> allowed = {}) {
  const auto origins = req.count(boost::beast::http::field::origin);
  if (origins > 1) return true;  // no browser sends two
  const bool has_origin = origins == 1;
  const std::string_view origin = has_origin ? req[boost::beast::http::field::origin] : std::string_view();
  if (has_origin && std::find(allowed.begin(), allowed.end(), origin) != allowed.end()) return false;
  // Sec-Fetch-Site, where a browser sends it, decides: a page cannot set
  // it, while Origin may be "null" on our own page's posts (privacy settings).
  const std::string_view site = req["Sec-Fetch-Site"];
  if (!site.empty()) return site != "same-origin" && site != "none";
  return has_origin && std::find(own.begin(), own.end(), origin) == own.end();
}

}  // namespace rempart::http
