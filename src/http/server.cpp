#include "http/server.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <condition_variable>
#include <cstdint>
#include <limits>
#include <mutex>
#include <optional>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

namespace rempart::http {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;

namespace {

class Session;

// Lets responders that outlive the server find out, under a lock, that the
// io_context is gone, instead of posting into freed memory.
struct Gate {
  std::mutex m;
  bool closed = false;  // guarded by m
};

// After answering a protocol error we half-close and read what the client
// still sends for a short while, so that closing with unread input does not
// turn into a TCP reset that destroys the answer before the client reads it.
constexpr std::size_t kDrainLimit = 64 * 1024;
constexpr std::chrono::seconds kDrainTimeout{2};

const char* error_name(ProtocolError e) noexcept {
  switch (e) {
    case ProtocolError::malformed: return "malformed";
    case ProtocolError::header_too_large: return "header_too_large";
    case ProtocolError::body_too_large: return "body_too_large";
    case ProtocolError::internal: return "internal";
  }
  return "unknown";
}

}  // namespace

struct Server::State {
  ServerOptions opts;
  Handler handler;
  ErrorRenderer render_error;

  // Declared before everything holding sockets so that it is destroyed last.
  net::io_context ioc;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work;
  net::strand<net::io_context::executor_type> accept_strand;
  tcp::acceptor acceptor;
  net::steady_timer accept_retry;  // on accept_strand
  unsigned short port = 0;
  std::vector<std::thread> threads;
  std::shared_ptr<Gate> gate = std::make_shared<Gate>();

  std::mutex m;
  std::condition_variable drained;
  // Strong references to every live connection (guarded by m): a connection
  // waiting for its Handler has no pending I/O to keep it alive, and the
  // server must be able to cut every connection on stop.
  std::unordered_map<Session*, std::shared_ptr<Session>> sessions;
  bool stopping = false;  // guarded by m
  bool stopped = false;   // guarded by m

  State(ServerOptions o, Handler h, ErrorRenderer r)
      : opts(std::move(o)),
        handler(std::move(h)),
        render_error(std::move(r)),
        ioc(static_cast<int>(opts.threads)),
        accept_strand(net::make_strand(ioc)),
        acceptor(accept_strand),
        accept_retry(accept_strand) {}

  void remove(Session* s) {
    std::lock_guard lock(m);
    sessions.erase(s);
    if (sessions.empty()) drained.notify_all();
  }

  Response protocol_error_response(ProtocolError e) {
    if (render_error) {
      try {
        return render_error(e);
      } catch (...) {
        spdlog::error("http error renderer threw");
      }
    }
    return default_protocol_error_response(e);
  }

  void do_accept();
  void on_accept(error_code ec, tcp::socket socket);
};

namespace {

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(Server::State& st, tcp::socket&& socket) : st_(st), stream_(std::move(socket)) {
    error_code ec;
    auto ep = stream_.socket().remote_endpoint(ec);
    if (!ec) ctx_.client = ep.address();
  }

  net::any_io_executor executor() { return stream_.get_executor(); }

  void start() {
    net::dispatch(stream_.get_executor(),
                  beast::bind_front_handler(&Session::begin_request, shared_from_this()));
  }

  // On the strand. Connections that are between requests are cut now; the
  // others finish their current request and then close.
  void begin_shutdown() {
    stopping_ = true;
    if (phase_ == Phase::idle || phase_ == Phase::header || phase_ == Phase::draining) {
      stream_.cancel();
    }
  }

  // On the strand: the Handler's answer arrived.
  void on_response(Response res) {
    if (phase_ != Phase::handling) return;
    send(std::move(res), /*force_close=*/false);
  }

  // On the strand: the Handler dropped its Responder without answering.
  void on_abandoned() {
    if (phase_ != Phase::handling) return;
    spdlog::warn("http handler dropped a request without answering");
    close();
  }

 private:
  enum class Phase { idle, header, body, handling, writing, draining, closed };

  void begin_request() {
    if (stopping_) return close();
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(
        std::min<std::size_t>(st_.opts.header_limit, std::numeric_limits<std::uint32_t>::max())));
    parser_->body_limit(static_cast<std::uint64_t>(st_.opts.body_limit));
    if (fresh_ || buffer_.size() > 0) {
      stream_.expires_after(st_.opts.read_timeout);
      return read_header();
    }
    // Keep-alive: wait up to idle_timeout for the next request's first
    // bytes; from then on the whole request gets read_timeout, so a client
    // trickling its header one byte at a time is still cut.
    phase_ = Phase::idle;
    stream_.expires_after(st_.opts.idle_timeout);
    stream_.async_read_some(buffer_.prepare(1024),
                            beast::bind_front_handler(&Session::on_first_bytes, shared_from_this()));
  }

  void on_first_bytes(error_code ec, std::size_t n) {
    if (ec) return close();
    buffer_.commit(n);
    stream_.expires_after(st_.opts.read_timeout);
    read_header();
  }

  void read_header() {
    phase_ = Phase::header;
    bhttp::async_read_header(stream_, buffer_, *parser_,
                             beast::bind_front_handler(&Session::on_header, shared_from_this()));
  }

  void on_header(error_code ec, std::size_t) {
    if (ec) return on_read_error(ec);
    fresh_ = false;
    const auto& h = parser_->get();
    // The target is checked before anything else: only origin-form targets
    // reach a Handler, so no route ever sees "*", an authority or a URL.
    const auto target = h.target();
    if (target.empty() || target.front() != '/') return fail(ProtocolError::malformed);
    // RFC 7230 5.4: exactly one Host in HTTP/1.1.
    const auto hosts = h.count(bhttp::field::host);
    if (hosts > 1 || (hosts == 0 && h.version() >= 11)) return fail(ProtocolError::malformed);
    // Request smuggling: a body length must be unambiguous. Beast refuses
    // most combinations; refuse the rest (any Transfer-Encoding other than
    // a lone "chunked", or one next to a Content-Length). Beast calls
    // "identity, chunked" or "gzip, chunked" chunked, since chunked comes
    // last; a proxy in front may not, so only the exact value passes.
    if (h.count(bhttp::field::transfer_encoding) > 0) {
      if (h.count(bhttp::field::content_length) > 0 || h.count(bhttp::field::transfer_encoding) != 1 ||
          !parser_->chunked() || !beast::iequals(h[bhttp::field::transfer_encoding], "chunked")) {
        return fail(ProtocolError::malformed);
      }
    }
    if (parser_->is_done()) return dispatch();
    phase_ = Phase::body;
    if (beast::iequals(h[bhttp::field::expect], "100-continue")) {
      continue_.emplace(bhttp::status::continue_, h.version());
      return bhttp::async_write(stream_, *continue_,
                                beast::bind_front_handler(&Session::on_continue, shared_from_this()));
    }
    read_body();
  }

  void on_continue(error_code ec, std::size_t) {
    if (ec) return close();
    read_body();
  }

  void read_body() {
    bhttp::async_read(stream_, buffer_, *parser_,
                      beast::bind_front_handler(&Session::on_body, shared_from_this()));
  }

  void on_body(error_code ec, std::size_t) {
    if (ec) return on_read_error(ec);
    dispatch();
  }

  void on_read_error(error_code ec) {
    if (ec == bhttp::error::header_limit) return fail(ProtocolError::header_too_large);
    if (ec == bhttp::error::body_limit) return fail(ProtocolError::body_too_large);
    // end_of_stream / partial_message: the client went away. Timeouts and
    // cancellation: the deadline or stop() cut the connection. Neither gets
    // an answer.
    if (ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message) return close();
    if (ec.category() == bhttp::make_error_code(bhttp::error::bad_target).category()) {
      return fail(ProtocolError::malformed);
    }
    if (ec == beast::error::timeout) spdlog::debug("http read deadline expired");
    close();
  }

  void dispatch() {
    phase_ = Phase::handling;
    stream_.expires_never();
    Request req = parser_->release();
    head_ = req.method() == bhttp::verb::head;
    version_ = req.version();
    keep_alive_ = req.keep_alive();
    Responder responder = make_responder();
    try {
      st_.handler(std::move(req), ctx_, responder);
    } catch (...) {
      // Never crash on a Handler bug; answer once (ignored if it already did).
      spdlog::error("http handler threw");
      responder(st_.protocol_error_response(ProtocolError::internal));
    }
  }

  Responder make_responder();

  void fail(ProtocolError e) {
    spdlog::debug("http protocol_error code={}", error_name(e));
    version_ = 11;
    head_ = false;
    send(st_.protocol_error_response(e), /*force_close=*/true);
  }

  void send(Response res, bool force_close) {
    phase_ = Phase::writing;
    res.version(version_);
    res.erase(bhttp::field::server);
    const bool handler_close = res.count(bhttp::field::connection) > 0 && !res.keep_alive();
    close_after_ = force_close || stopping_ || !keep_alive_ || handler_close;
    res.keep_alive(!close_after_);
    const auto status = res.result_int();
    if (status < 200 || status == 204 || status == 304) res.body().clear();
    try {
      if (head_) {
        const auto size = res.body().size();
        res.body().clear();
        res.content_length(size);
      } else {
        res.prepare_payload();
      }
    } catch (...) {
      spdlog::error("http could not frame a response");
      return close();
    }
    res_.emplace(std::move(res));
    stream_.expires_after(st_.opts.read_timeout);
    bhttp::async_write(stream_, *res_,
                       beast::bind_front_handler(&Session::on_write, shared_from_this()));
  }

  void on_write(error_code ec, std::size_t) {
    res_.reset();
    if (ec) return close();
    if (close_after_) return graceful_close();
    begin_request();
  }

  void graceful_close() {
    if (stopping_) return close();
    phase_ = Phase::draining;
    error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
    if (ec) return close();
    buffer_.consume(buffer_.size());
    stream_.expires_after(std::min<std::chrono::seconds>(kDrainTimeout, st_.opts.read_timeout));
    drain();
  }

  void drain() {
    stream_.async_read_some(buffer_.prepare(4096), [self = shared_from_this()](error_code ec,
                                                                                std::size_t n) {
      self->drained_ += n;
      if (ec || self->drained_ >= kDrainLimit) return self->close();
      self->drain();
    });
  }

  void close() {
    if (phase_ == Phase::closed) return;
    phase_ = Phase::closed;
    error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.close();
    st_.remove(this);
  }

  Server::State& st_;
  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::optional<bhttp::response<bhttp::empty_body>> continue_;
  std::optional<Response> res_;
  RequestContext ctx_;
  Phase phase_ = Phase::header;
  bool fresh_ = true;  // no complete request header seen yet
  bool stopping_ = false;
  bool head_ = false;
  bool keep_alive_ = false;
  bool close_after_ = false;
  unsigned version_ = 11;
  std::size_t drained_ = 0;
};

// Shared by the copies of one Responder. Posting happens under the gate's
// lock so that it never reaches an io_context that stop() has finished with.
struct ResponderState {
  std::weak_ptr<Session> session;
  std::shared_ptr<Gate> gate;
  std::atomic<bool> called{false};

  void deliver(std::optional<Response> res) {
    std::lock_guard lock(gate->m);
    if (gate->closed) return;
    auto s = session.lock();
    if (!s) return;
    if (res) {
      net::post(s->executor(), [s, r = std::move(*res)]() mutable { s->on_response(std::move(r)); });
    } else {
      net::post(s->executor(), [s] { s->on_abandoned(); });
    }
  }

  ~ResponderState() {
    if (!called.load()) deliver(std::nullopt);
  }
};

Responder Session::make_responder() {
  auto rs = std::make_shared<ResponderState>();
  rs->session = weak_from_this();
  rs->gate = st_.gate;
  return [rs](Response res) {
    if (rs->called.exchange(true)) return;
    rs->deliver(std::move(res));
  };
}

}  // namespace

void Server::State::do_accept() {
  acceptor.async_accept(net::make_strand(ioc), [this](error_code ec, tcp::socket socket) {
    on_accept(ec, std::move(socket));
  });
}

void Server::State::on_accept(error_code ec, tcp::socket socket) {
  if (ec == net::error::operation_aborted || !acceptor.is_open()) return;
  if (ec) {
    // Typically out of file descriptors: back off instead of spinning.
    spdlog::warn("http accept failed: {}", ec.message());
    accept_retry.expires_after(std::chrono::milliseconds(50));
    accept_retry.async_wait([this](error_code wait_ec) {
      if (!wait_ec) do_accept();
    });
    return;
  }
  auto session = std::make_shared<Session>(*this, std::move(socket));
  {
    std::lock_guard lock(m);
    if (stopping) return;  // the socket closes with `session`
    sessions.emplace(session.get(), session);
  }
  session->start();
  do_accept();
}

Response default_protocol_error_response(ProtocolError e) {
  Response res;
  switch (e) {
    case ProtocolError::malformed:
      res.result(bhttp::status::bad_request);
      res.body() = "Bad request.\n";
      break;
    case ProtocolError::header_too_large:
      res.result(bhttp::status::request_header_fields_too_large);
      res.body() = "Request header too large.\n";
      break;
    case ProtocolError::body_too_large:
      res.result(bhttp::status::payload_too_large);
      res.body() = "Request body too large.\n";
      break;
    case ProtocolError::internal:
      res.result(bhttp::status::internal_server_error);
      res.body() = "Internal error.\n";
      break;
  }
  res.set(bhttp::field::content_type, "text/plain; charset=utf-8");
  return res;
}

Result<std::unique_ptr<Server>> Server::start(ServerOptions options, Handler handler,
                                              ErrorRenderer render_error) {
  if (!handler) return fail(Errc::config, "http server needs a handler");
  if (options.threads == 0) options.threads = std::max(1u, std::thread::hardware_concurrency());
  if (options.header_limit == 0 || options.header_limit > std::numeric_limits<std::uint32_t>::max()) {
    return fail(Errc::config, "http header_limit out of range");
  }
  if (options.read_timeout.count() <= 0 || options.idle_timeout.count() <= 0) {
    return fail(Errc::config, "http timeouts must be positive");
  }
  error_code ec;
  const auto address = net::ip::make_address(options.address, ec);
  if (ec) return fail(Errc::config, "http listen address is not an IP address");

  auto st = std::make_unique<State>(std::move(options), std::move(handler), std::move(render_error));
  const tcp::endpoint endpoint(address, st->opts.port);
  st->acceptor.open(endpoint.protocol(), ec);
  if (!ec) st->acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) st->acceptor.bind(endpoint, ec);
  if (!ec) st->acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) return fail(Errc::io, "http could not listen: " + ec.message());
  st->port = st->acceptor.local_endpoint(ec).port();
  if (ec) return fail(Errc::io, "http could not read the bound port");

  st->work.emplace(st->ioc.get_executor());
  net::post(st->accept_strand, [s = st.get()] { s->do_accept(); });
  st->threads.reserve(st->opts.threads);
  for (unsigned i = 0; i < st->opts.threads; ++i) {
    st->threads.emplace_back([s = st.get()] {
      for (;;) {
        try {
          s->ioc.run();
          return;
        } catch (...) {
          // A throwing completion handler must not take the process down;
          // the connection it belonged to is lost, the others carry on.
          spdlog::error("http server thread caught an exception");
        }
      }
    });
  }
  spdlog::info("http listening port={} threads={}", st->port, st->opts.threads);
  return std::unique_ptr<Server>(new Server(std::shared_ptr<State>(std::move(st))));
}

Server::Server(std::shared_ptr<State> state) : state_(std::move(state)) {}

Server::~Server() { stop(); }

unsigned short Server::port() const noexcept { return state_->port; }

void Server::stop() {
  State& st = *state_;
  std::vector<std::shared_ptr<Session>> live;
  {
    std::lock_guard lock(st.m);
    if (st.stopped) return;
    st.stopped = true;
    st.stopping = true;
    live.reserve(st.sessions.size());
    for (auto& [_, s] : st.sessions) live.push_back(s);
  }
  net::post(st.accept_strand, [s = &st] {
    error_code ec;
    s->acceptor.close(ec);
    s->accept_retry.cancel();
  });
  for (auto& s : live) net::post(s->executor(), [s] { s->begin_shutdown(); });
  live.clear();
  {
    std::unique_lock lock(st.m);
    if (!st.drained.wait_for(lock, st.opts.drain_timeout, [&] { return st.sessions.empty(); })) {
      spdlog::warn("http stop: {} connection(s) cut after the drain timeout", st.sessions.size());
    }
  }
  {
    std::lock_guard lock(st.gate->m);
    st.gate->closed = true;
  }
  st.work.reset();
  st.ioc.stop();
  for (auto& t : st.threads) t.join();
  st.threads.clear();
  // Sockets must close while their io_context still exists.
  std::unordered_map<Session*, std::shared_ptr<Session>> rest;
  {
    std::lock_guard lock(st.m);
    rest.swap(st.sessions);
  }
  rest.clear();
  spdlog::info("http stopped");
}

}  // namespace rempart::http
