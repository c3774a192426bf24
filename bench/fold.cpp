// The keeper's fold rate in process: fills the inbox of a real instance with
// sealed sign-ups through the product's IntakeWriter, then times
// services::Folder::fold_once on that backlog, with the batch size the
// keeper uses. Profiles well (no HTTP, no wrk, no polling of the inbox).
#include <sodium.h>

#include <atomic>
#include <thread>

#include "bench.hpp"
#include "cli/config.hpp"
#include "crypto/keyring.hpp"
#include "services/folder.hpp"
#include "services/intake_writer.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace rempart::bench {

int fold_inprocess(const Args& a) {
  const std::string config = a.str("config");
  if (config.empty()) die("--config is required");
  const auto count = static_cast<std::uint64_t>(a.num("count", 20000));
  auto c = cli::load_config(config);
  if (!c) die("config: " + c.error().internal);
  if (sodium_init() < 0) die("libsodium");
  const auto batch = static_cast<std::size_t>(a.num("batch", static_cast<double>(c->fold_batch)));

  {
    auto ikeys = crypto::load_intake_keyring(c->keys_dir);
    if (!ikeys) die("intake keyring: " + ikeys.error().internal);
    auto ist = store::open_sqlite_intake((c->data_dir / store::sqlite::kInboxFile));
    if (!ist) die("intake store: " + ist.error().internal);
    auto w = services::IntakeWriter::start(*ikeys, std::move(*ist));
    if (!w) die("intake writer: " + w.error().internal);
    std::atomic<std::uint64_t> ok{0}, refused{0};
    Stopwatch sw;
    for (std::uint64_t i = 0; i < count; ++i) {
      (*w)->submit(representative_signup(i), [&](bool durable) { (durable ? ok : refused).fetch_add(1); });
      // Stay well under the writer's queue bound; a refusal ends the run
      // (waiting for it to be stored would never end).
      while (i + 1 - ok.load() - refused.load() > 32768 && refused.load() == 0) {
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
      }
      if (refused.load() != 0) break;
    }
    (*w)->stop();
    if (refused.load() != 0) die("the intake writer refused a submission (queue full or store error)");
    if (ok.load() != count) die("not every submission was stored");
    emit("fold.fill_per_s", static_cast<double>(count) / sw.seconds(), "submissions/s");
  }

  auto keys = crypto::load_keeper_keyring(c->keys_dir);
  if (!keys) die("keyring: " + keys.error().internal);
  auto st = store::open_sqlite_keeper((c->data_dir / store::sqlite::kRecordsFile));
  if (!st) die("store: " + st.error().internal);
  auto inbox = store::open_sqlite_inbox((c->data_dir / store::sqlite::kInboxFile));
  if (!inbox) die("inbox: " + inbox.error().internal);
  services::Folder folder(*keys, **st, **inbox, c->intake);
  std::uint64_t folded = 0;
  Stopwatch sw;
  const double cpu0 = cpu_seconds();
  for (;;) {
    auto r = folder.fold_once(batch);
    if (!r) die("fold: " + r.error().internal);
    const auto n = r->created + r->merged + r->unchanged + r->rejected;
    folded += n;
    if (n == 0) break;
  }
  const double s = sw.seconds();
  const double cpu = cpu_seconds() - cpu0;
  if (folded != count) die("not every submission was folded");
  emit("fold.per_s", static_cast<double>(folded) / s, "submissions/s");
  emit("fold.mean_us", s * 1e6 / static_cast<double>(folded), "us");
  // CPU (user + system) per folded submission: the rest of the wall time is
  // waiting for the disk (fsync, page reads).
  emit("fold.cpu_us", cpu * 1e6 / static_cast<double>(folded), "us");
  return 0;
}

}  // namespace rempart::bench
