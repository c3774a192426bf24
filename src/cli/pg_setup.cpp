#include "cli/pg_setup.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "core/hex.hpp"
#include "store/postgres/connection.hpp"
#include "store/postgres/migrations.hpp"

namespace rempart::cli {

namespace {

namespace pg = store::postgres;

// The password in `file`, made (32 random bytes, as hex) if the file does
// not exist yet.
Result<std::string> password_in(const std::filesystem::path& file) {
  if (::access(file.c_str(), F_OK) == 0) return pg::read_password_file(file);
  std::vector<std::uint8_t> raw(32);
  ::randombytes_buf(raw.data(), raw.size());
  std::string pw = core::to_hex(raw);
  ::sodium_memzero(raw.data(), raw.size());
  const int fd = ::open(file.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return fail(Errc::io, "cannot create the database password file " + file.string());
  std::string line = pw + "\n";
  const bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) && ::fsync(fd) == 0;
  ::sodium_memzero(line.data(), line.size());
  ::close(fd);
  if (!ok) return fail(Errc::io, "cannot write the database password file " + file.string());
  return pw;
}

Result<std::string> verifier(pg::Connection& admin, const std::string& user, const std::string& password) {
  char* v = PQencryptPasswordConn(admin.handle(), password.c_str(), user.c_str(), "scram-sha-256");
  if (v == nullptr) return fail(Errc::storage, "postgresql: cannot compute a password verifier for " + user);
  std::string out(v);
  PQfreemem(v);
  return out;
}

Result<pg::Connection> open_admin(const Config& c, const PgSetupArgs& a, const char* application) {
  pg::ConnectOptions admin_options{c.dsn, a.admin_user, "", application};
  if (!a.admin_password_file.empty()) {
    auto pw = pg::read_password_file(a.admin_password_file);
    if (!pw) return propagate(pw);
    admin_options.password = std::move(*pw);
  }
  return pg::Connection::open(admin_options);
}

}  // namespace

Result<int> setup_postgres(const Config& c, const PgSetupArgs& a) {
  auto admin = open_admin(c, a, "rempart-init");
  if (!admin) return propagate(admin);
  pg::SetupOptions o;
  o.keeper_user = c.keeper_user;
  o.intake_user = c.intake_user;
  for (auto [file, user, out] : {std::tuple{&c.keeper_password_file, &c.keeper_user, &o.keeper_verifier},
                                 std::tuple{&c.intake_password_file, &c.intake_user, &o.intake_verifier}}) {
    if (file->empty()) continue;  // peer or certificate authentication: no password
    auto pw = password_in(*file);
    if (!pw) return propagate(pw);
    auto v = verifier(*admin, *user, *pw);
    ::sodium_memzero(pw->data(), pw->size());
    if (!v) return propagate(v);
    *out = std::move(*v);
  }
  return pg::setup_database(*admin, o, unix_now());
}

Result<PgMigration> migrate_postgres(const Config& c, const PgSetupArgs& a) {
  auto admin = open_admin(c, a, "rempart-migrate");
  if (!admin) return propagate(admin);
  auto before = pg::schema_version(*admin);
  if (!before) return propagate(before);
  if (*before == 0) {
    return fail(Errc::config, "the database holds no rempart schema: `rempart init --backend postgresql` creates it");
  }
  pg::SetupOptions o;  // no verifier: the passwords stay as they are
  o.keeper_user = c.keeper_user;
  o.intake_user = c.intake_user;
  auto after = pg::setup_database(*admin, o, unix_now());
  if (!after && after.error().code == Errc::permission) {
    return fail(Errc::permission, after.error().internal + ": --admin-user must name a role that may create roles "
                                                           "and schemas in the database (nothing was changed)");
  }
  if (!after) return propagate(after);
  return PgMigration{*before, *after};
}

std::string postgres_setup_sql(const Config& c) {
  pg::SetupOptions o;
  o.keeper_user = c.keeper_user;
  o.intake_user = c.intake_user;
  return pg::setup_script(o);
}

}  // namespace rempart::cli
