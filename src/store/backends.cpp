#include "store/backends.hpp"

#include <array>
#include <string>

#include "store/postgres/postgres_store.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace rempart::store {

namespace {
constexpr std::array<std::string_view, 2> kNames{"sqlite", "postgresql"};
}  // namespace

std::span<const std::string_view> backend_names() noexcept { return kNames; }

Result<std::unique_ptr<Backend>> open_backend(const StorageOptions& o) {
  if (o.backend == "sqlite") {
    if (o.data_dir.empty()) return fail(Errc::config, "[storage].data_dir is required by the sqlite backend");
    return open_sqlite_backend(o.data_dir);
  }
  if (o.backend == "postgresql") return open_postgres_backend(o);
  return fail(Errc::config, "[storage].backend: unknown backend \"" + o.backend + "\"");
}

}  // namespace rempart::store
