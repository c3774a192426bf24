#include "http/server.hpp"

#include <fcntl.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/context.hpp>
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
#include <boost/beast/ssl/ssl_stream.hpp>
#include <cerrno>
#include <condition_variable>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <mutex>
#include <optional>
#include <string>
#include <system_error>
#include <thread>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/mutex.hpp"

namespace rempart::http {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = net::ip::tcp;
using error_code = boost::system::error_code;

namespace {

using PlainStream = beast::tcp_stream;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

// What the server and the responders need from a connection, whatever its
// stream. Every method must be called on the connection's strand, except
// executor().
class SessionBase {
 public:
  virtual ~SessionBase() = default;
  virtual net::any_io_executor executor() = 0;
  virtual void begin_shutdown() = 0;
  virtual void on_response(Response res) = 0;
  virtual void on_abandoned() = 0;
};

// Lets responders that outlive the server find out, under a lock, that the
// io_context is gone, instead of posting into freed memory.
struct Gate {
  Mutex m;
  bool closed REMPART_GUARDED_BY(m) = false;
};

// After answering a protocol error we half-close and read what the client
// still sends for a short while, so that closing with unread input does not
// turn into a TCP reset that destroys the answer before the client reads it.
// The same bound applies to sending a TLS close_notify.
constexpr std::size_t kDrainLimit = 64 * 1024;
constexpr std::chrono::seconds kDrainTimeout{2};

// A PEM private key is a few kilobytes at most; anything larger is not one.
constexpr off_t kMaxKeyFileSize = 1 << 20;

// For TLS 1.2 only: forward secrecy and AEAD, nothing else. TLS 1.3 suites
// are all AEAD; they are listed to pin the set.
constexpr const char* kTls12Ciphers =
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"
    "ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"
    "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305";
constexpr const char* kTls13Suites =
    "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256";
constexpr const char* kTlsGroups = "X25519:P-256:P-384";

const char* error_name(ProtocolError e) noexcept {
  switch (e) {
    case ProtocolError::malformed: return "malformed";
    case ProtocolError::header_too_large: return "header_too_large";
    case ProtocolError::body_too_large: return "body_too_large";
    case ProtocolError::internal: return "internal";
  }
  return "unknown";
}

// The reason of the oldest queued OpenSSL error (a fixed library string,
// never data), and an empty queue afterwards.
std::string openssl_reason() {
  const unsigned long e = ERR_peek_error();
  std::string out = "unknown reason";
  if (e != 0 && ERR_SYSTEM_ERROR(e)) {
    out = std::error_code(ERR_GET_REASON(e), std::generic_category()).message();
  } else if (const char* r = e != 0 ? ERR_reason_error_string(e) : nullptr; r != nullptr) {
    out = r;
  }
  ERR_clear_error();
  return out;
}

// Never asks for a passphrase: the server runs unattended, and OpenSSL's
// default would prompt on the terminal.
int refuse_passphrase(char*, int, int, void*) { return 0; }

struct FdCloser {
  int fd;
  ~FdCloser() {
    if (fd >= 0) ::close(fd);
  }
};

// Reads the key file after checking that only its owner can read it, and
// installs the key. The key bytes are wiped from our memory before return.
Result<void> load_private_key(SSL_CTX* ctx, const std::filesystem::path& path) {
  const std::string name = "tls key file " + path.string();
  FdCloser fd{::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY)};
  if (fd.fd < 0) {
    const std::error_code e(errno, std::generic_category());
    return fail(Errc::config, name + " cannot be opened: " + e.message());
  }
  struct stat st {};
  if (::fstat(fd.fd, &st) != 0) return fail(Errc::config, name + " cannot be examined");
  if (!S_ISREG(st.st_mode)) return fail(Errc::config, name + " is not a regular file");
  if ((st.st_mode & 077) != 0) {
    return fail(Errc::config, name + " is accessible by group or others; restrict it with: chmod 600 " +
                                  path.string());
  }
  if (st.st_size <= 0 || st.st_size > kMaxKeyFileSize) {
    return fail(Errc::config, name + " has an implausible size");
  }
  std::vector<char> pem(static_cast<std::size_t>(st.st_size));
  struct Wipe {
    std::vector<char>& v;
    ~Wipe() { OPENSSL_cleanse(v.data(), v.size()); }
  } wipe{pem};
  std::size_t got = 0;
  while (got < pem.size()) {
    const ssize_t n = ::read(fd.fd, pem.data() + got, pem.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return fail(Errc::config, name + " cannot be read");
    got += static_cast<std::size_t>(n);
  }
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (bio == nullptr) return fail(Errc::internal, "tls could not allocate a buffer");
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio, nullptr, refuse_passphrase, nullptr);
  BIO_free(bio);
  if (key == nullptr) {
    return fail(Errc::config, name + " holds no usable unencrypted PEM private key: " + openssl_reason());
  }
  const int ok = SSL_CTX_use_PrivateKey(ctx, key);
  EVP_PKEY_free(key);
  if (ok != 1 || SSL_CTX_check_private_key(ctx) != 1) {
    return fail(Errc::config, name + " does not match the certificate: " + openssl_reason());
  }
  return {};
}

Result<net::ssl::context> make_tls_context(const TlsOptions& o) {
  ERR_clear_error();
  std::optional<net::ssl::context> ctx;
  try {
    ctx.emplace(net::ssl::context::tls_server);
  } catch (const std::exception&) {
    return fail(Errc::internal, "tls could not create a context: " + openssl_reason());
  }
  SSL_CTX* h = ctx->native_handle();
  SSL_CTX_set_default_passwd_cb(h, refuse_passphrase);
  if (SSL_CTX_set_min_proto_version(h, TLS1_2_VERSION) != 1) {
    return fail(Errc::internal, "tls could not set the minimum version: " + openssl_reason());
  }
  SSL_CTX_clear_options(h, SSL_OP_ALLOW_CLIENT_RENEGOTIATION);
  SSL_CTX_set_options(h, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE);
  if (SSL_CTX_set_cipher_list(h, kTls12Ciphers) != 1 || SSL_CTX_set_ciphersuites(h, kTls13Suites) != 1 ||
      SSL_CTX_set1_groups_list(h, kTlsGroups) != 1) {
    return fail(Errc::internal, "tls could not set the cipher suites: " + openssl_reason());
  }
  if (SSL_CTX_use_certificate_chain_file(h, o.certificate_file.c_str()) != 1) {
    return fail(Errc::config, "tls certificate file " + o.certificate_file.string() +
                                  " could not be loaded: " + openssl_reason());
  }
  auto key = load_private_key(h, o.key_file);
  if (!key) return std::unexpected(std::move(key.error()));
  ERR_clear_error();
  return std::move(*ctx);
}

}  // namespace

struct Server::State {
  ServerOptions opts;
  Handler handler;
  ErrorRenderer render_error;
  // Set for a TLS listener. OpenSSL counts references from each connection,
  // but it is still kept above the io_context so that it outlives every
  // socket.
  std::optional<net::ssl::context> tls;

  // Declared before everything holding sockets so that it is destroyed last.
  net::io_context ioc;
  std::optional<net::executor_work_guard<net::io_context::executor_type>> work;
  net::strand<net::io_context::executor_type> accept_strand;
  tcp::acceptor acceptor;
  net::steady_timer accept_retry;  // on accept_strand
  unsigned short port = 0;
  std::vector<std::thread> threads;
  std::shared_ptr<Gate> gate = std::make_shared<Gate>();

  Mutex m;
  std::condition_variable drained;
  // Strong references to every live connection: a connection waiting for
  // its Handler has no pending I/O to keep it alive, and the server must be
  // able to cut every connection on stop.
  std::unordered_map<SessionBase*, std::shared_ptr<SessionBase>> sessions REMPART_GUARDED_BY(m);
  bool stopping REMPART_GUARDED_BY(m) = false;
  bool stopped REMPART_GUARDED_BY(m) = false;

  State(ServerOptions o, Handler h, ErrorRenderer r, std::optional<net::ssl::context> t)
      : opts(std::move(o)),
        handler(std::move(h)),
        render_error(std::move(r)),
        tls(std::move(t)),
        ioc(static_cast<int>(opts.threads)),
        accept_strand(net::make_strand(ioc)),
        acceptor(accept_strand),
        accept_retry(accept_strand) {}

  void remove(SessionBase* s) {
    MutexLock lock(m);
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

// One connection, over a plain or a TLS stream. The protocol logic exists
// once; the few places where TLS differs (the handshake, close_notify, where
// raw bytes are drained) are chosen at compile time.
template <class Stream>
class Session final : public SessionBase, public std::enable_shared_from_this<Session<Stream>> {
  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;

 public:
  template <class... Args>
  Session(Server::State& st, Args&&... args) : st_(st), stream_(std::forward<Args>(args)...) {
    error_code ec;
    auto ep = tcp().socket().remote_endpoint(ec);
    if (!ec) ctx_.client = ep.address();
  }

  net::any_io_executor executor() override { return stream_.get_executor(); }

  void start() {
    if constexpr (kTls) {
      net::dispatch(stream_.get_executor(), beast::bind_front_handler(&Session::handshake, self()));
    } else {
      net::dispatch(stream_.get_executor(), beast::bind_front_handler(&Session::begin_request, self()));
    }
  }

  // On the strand. Connections that are between requests are cut now; the
  // others finish their current request and then close.
  void begin_shutdown() override {
    stopping_ = true;
    if (phase_ == Phase::handshake || phase_ == Phase::idle || phase_ == Phase::header ||
        phase_ == Phase::draining) {
      tcp().cancel();
    }
  }

  // On the strand: the Handler's answer arrived.
  void on_response(Response res) override {
    if (phase_ != Phase::handling) return;
    send(std::move(res), /*force_close=*/false);
  }

  // On the strand: the Handler dropped its Responder without answering.
  void on_abandoned() override {
    if (phase_ != Phase::handling) return;
    spdlog::warn("http handler dropped a request without answering");
    finish(/*then_drain=*/false);
  }

 private:
  enum class Phase { handshake, idle, header, body, handling, writing, closing, draining, closed };

  std::shared_ptr<Session> self() { return this->shared_from_this(); }

  // The TCP layer, which carries the deadlines.
  beast::tcp_stream& tcp() { return beast::get_lowest_layer(stream_); }

  void handshake() {
    if constexpr (kTls) {
      if (stopping_) return close();
      phase_ = Phase::handshake;
      tcp().expires_after(st_.opts.read_timeout);
      stream_.async_handshake(net::ssl::stream_base::server,
                              beast::bind_front_handler(&Session::on_handshake, self()));
    }
  }

  void on_handshake(error_code ec) {
    if (ec) {
      // Plain HTTP on this port, a scanner, an old client, a deadline: no
      // answer is possible or owed. Only the library's reason is logged.
      if (!stopping_) spdlog::debug("http tls handshake failed: {}", ec.message());
      return close();
    }
    begin_request();
  }

  void begin_request() {
    if (stopping_) return finish(/*then_drain=*/false);
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(
        std::min<std::size_t>(st_.opts.header_limit, std::numeric_limits<std::uint32_t>::max())));
    parser_->body_limit(static_cast<std::uint64_t>(st_.opts.body_limit));
    if (fresh_ || buffer_.size() > 0) {
      tcp().expires_after(st_.opts.read_timeout);
      return read_header();
    }
    // Keep-alive: wait up to idle_timeout for the next request's first
    // bytes; from then on the whole request gets read_timeout, so a client
    // trickling its header one byte at a time is still cut.
    phase_ = Phase::idle;
    tcp().expires_after(st_.opts.idle_timeout);
    stream_.async_read_some(buffer_.prepare(1024),
                            beast::bind_front_handler(&Session::on_first_bytes, self()));
  }

  void on_first_bytes(error_code ec, std::size_t n) {
    if (ec) return on_read_error(ec);
    buffer_.commit(n);
    tcp().expires_after(st_.opts.read_timeout);
    read_header();
  }

  void read_header() {
    phase_ = Phase::header;
    bhttp::async_read_header(stream_, buffer_, *parser_,
                             beast::bind_front_handler(&Session::on_header, self()));
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
                                beast::bind_front_handler(&Session::on_continue, self()));
    }
    read_body();
  }

  void on_continue(error_code ec, std::size_t) {
    if (ec) return close();
    read_body();
  }

  void read_body() {
    bhttp::async_read(stream_, buffer_, *parser_, beast::bind_front_handler(&Session::on_body, self()));
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
    // Cancelled by stop(): the stream is still sound, so TLS can say goodbye.
    if (stopping_ && ec == net::error::operation_aborted) return finish(/*then_drain=*/false);
    close();
  }

  void dispatch() {
    phase_ = Phase::handling;
    tcp().expires_never();
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
    tcp().expires_after(st_.opts.read_timeout);
    bhttp::async_write(stream_, *res_, beast::bind_front_handler(&Session::on_write, self()));
  }

  void on_write(error_code ec, std::size_t) {
    res_.reset();
    if (ec) return close();
    if (close_after_) return finish(/*then_drain=*/!stopping_);
    begin_request();
  }

  // Ends a sound connection. TLS first sends close_notify (without waiting
  // for the client's; bounded by the drain deadline). With then_drain, we
  // half-close and read what still comes (see kDrainLimit) before closing.
  void finish(bool then_drain) {
    if constexpr (kTls) {
      if (phase_ == Phase::closed || phase_ == Phase::closing) return;
      phase_ = Phase::closing;
      // Marking the client's close_notify as received makes the shutdown
      // complete once ours is written; the drain below covers the rest.
      SSL* ssl = stream_.native_handle();
      SSL_set_shutdown(ssl, SSL_get_shutdown(ssl) | SSL_RECEIVED_SHUTDOWN);
      tcp().expires_after(std::min<std::chrono::seconds>(kDrainTimeout, st_.opts.read_timeout));
      stream_.async_shutdown([me = self(), then_drain](error_code ec) {
        if (ec || !then_drain || me->stopping_) return me->close();
        me->begin_drain();
      });
    } else {
      if (then_drain) return begin_drain();
      close();
    }
  }

  void begin_drain() {
    phase_ = Phase::draining;
    error_code ec;
    tcp().socket().shutdown(tcp::socket::shutdown_send, ec);
    if (ec) return close();
    buffer_.consume(buffer_.size());
    tcp().expires_after(std::min<std::chrono::seconds>(kDrainTimeout, st_.opts.read_timeout));
    drain();
  }

  // Reads raw bytes below any TLS layer: they are discarded unread.
  void drain() {
    tcp().async_read_some(buffer_.prepare(4096), [me = self()](error_code ec, std::size_t n) {
      me->drained_ += n;
      if (ec || me->drained_ >= kDrainLimit) return me->close();
      me->drain();
    });
  }

  void close() {
    if (phase_ == Phase::closed) return;
    phase_ = Phase::closed;
    error_code ec;
    tcp().socket().shutdown(tcp::socket::shutdown_both, ec);
    tcp().close();
    st_.remove(this);
  }

  Server::State& st_;
  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::optional<bhttp::response<bhttp::empty_body>> continue_;
  std::optional<Response> res_;
  RequestContext ctx_;
  Phase phase_ = kTls ? Phase::handshake : Phase::header;
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
  std::weak_ptr<SessionBase> session;
  std::shared_ptr<Gate> gate;
  std::atomic<bool> called{false};

  void deliver(std::optional<Response> res) {
    MutexLock lock(gate->m);
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

template <class Stream>
Responder Session<Stream>::make_responder() {
  auto rs = std::make_shared<ResponderState>();
  rs->session = this->weak_from_this();
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
  auto admit = [this](auto session) {
    {
      MutexLock lock(m);
      if (stopping) return;  // the socket closes with `session`
      sessions.emplace(session.get(), session);
    }
    session->start();
  };
  if (tls) {
    admit(std::make_shared<Session<TlsStream>>(*this, std::move(socket), *tls));
  } else {
    admit(std::make_shared<Session<PlainStream>>(*this, std::move(socket)));
  }
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

  std::optional<net::ssl::context> tls;
  if (options.tls) {
    auto ctx = make_tls_context(*options.tls);
    if (!ctx) return std::unexpected(std::move(ctx.error()));
    tls.emplace(std::move(*ctx));
  }

  auto st = std::make_unique<State>(std::move(options), std::move(handler), std::move(render_error),
                                    std::move(tls));
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
  spdlog::info("http listening port={} threads={} tls={}", st->port, st->opts.threads, st->tls.has_value());
  return std::unique_ptr<Server>(new Server(std::shared_ptr<State>(std::move(st))));
}

Server::Server(std::shared_ptr<State> state) : state_(std::move(state)) {}

Server::~Server() { stop(); }

unsigned short Server::port() const noexcept { return state_->port; }

bool Server::tls() const noexcept { return state_->tls.has_value(); }

void Server::stop() {
  State& st = *state_;
  std::vector<std::shared_ptr<SessionBase>> live;
  {
    MutexLock lock(st.m);
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
    MutexLock lock(st.m);
    const auto until = std::chrono::steady_clock::now() + st.opts.drain_timeout;
    while (!st.sessions.empty()) {
      if (!lock.wait_until(st.drained, until)) break;
    }
    if (!st.sessions.empty()) {
      spdlog::warn("http stop: {} connection(s) cut after the drain timeout", st.sessions.size());
    }
  }
  {
    MutexLock lock(st.gate->m);
    st.gate->closed = true;
  }
  st.work.reset();
  st.ioc.stop();
  for (auto& t : st.threads) t.join();
  st.threads.clear();
  // Sockets must close while their io_context still exists.
  std::unordered_map<SessionBase*, std::shared_ptr<SessionBase>> rest;
  {
    MutexLock lock(st.m);
    rest.swap(st.sessions);
  }
  rest.clear();
  spdlog::info("http stopped");
}

}  // namespace rempart::http
