// A mailing to a synthetic base, sent by the product's MailingSender to a
// local SMTP sink (bench/run.py starts aiosmtpd's Sink handler), beside the
// same number of pre-rendered messages handed to the same sink over the
// same connections (mail::SmtpPool): the difference is what opening
// each record, rendering its message and keeping each recipient's state
// cost. docs/benchmarks.md, "Mailings".
#include <sodium.h>

#include "bench.hpp"
#include "cli/config.hpp"
#include "crypto/keyring.hpp"
#include "mail/smtp.hpp"
#include "services/mailings.hpp"
#include "services/segments.hpp"
#include "services/vault.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace rempart::bench {
namespace {

// A mailing's text as an organisation writes one: a few paragraphs, the
// person's name, the footer rempart adds.
const char* kSubject = "{{given_name}}, on se retrouve samedi";
const char* kBody =
    "Bonjour {{given_name}},\n\n"
    "Samedi, nous tenons notre assemblée de rentrée à la salle des fêtes. Venez avec vos questions, vos idées "
    "et, si vous le pouvez, une personne qui ne nous connaît pas encore.\n\n"
    "Au programme : le bilan de l'été, les campagnes de l'automne, et un repas partagé pour finir.\n\n"
    "Si vous ne pouvez pas venir, répondez simplement à ce message : une ou un militant de votre quartier "
    "vous appellera pour vous raconter.\n\n"
    "À samedi,\nL'équipe";

struct Keeper {
  cli::Config config;
  crypto::KeeperKeyring keys;
  std::unique_ptr<store::KeeperStore> store;
};

// The instance --config names, with [mail].
Keeper open_keeper(const Args& a) {
  auto c = cli::load_config(a.str("config"));
  if (!c) die("config: " + c.error().internal);
  if (!c->mail) die("the configuration needs [mail]");
  if (sodium_init() < 0) die("libsodium");
  auto keys = crypto::load_keeper_keyring(c->keys_dir);
  if (!keys) die("keyring: " + keys.error().internal);
  auto st = store::open_sqlite_keeper(c->data_dir / store::sqlite::kRecordsFile);
  if (!st) die("store: " + st.error().internal);
  return Keeper{std::move(*c), std::move(*keys), std::move(*st)};
}

}  // namespace

// Draws and starts a mailing to every synthetic supporter whose e-mail
// consent is given (confirmed or not: synth confirms none).
int mailing_prepare(const Args& a) {
  auto [c, keys, st] = open_keeper(a);
  const services::Asker op{"operator:bench", ""};
  services::Segments segments(*st, keys);
  services::SegmentDefinition all;
  all.email = "given";
  if (auto r = segments.save(op, "bench-all", all, false); !r) {
    if (r.error().code != Errc::conflict) die("segment: " + r.error().internal);
  }
  services::Mailings mailings(*st, keys, c.mail->supporter, c.mailings);
  services::MailingDraft d{"Bench", kSubject, kBody, "bench-all"};
  d.unconfirmed_too = true;
  auto id = mailings.create(op, d);
  if (!id) die("create: " + id.error().internal);
  Stopwatch sw;
  auto n = mailings.draw(op, *id);
  if (!n) die("draw: " + n.error().internal);
  emit("mailing.draw_s", sw.seconds(), "s");
  if (auto r = mailings.start(op, *id); !r) die("start (raise [mailings] approval_above): " + r.error().internal);
  emit("mailing.recipients", static_cast<double>(*n), "recipients");
  return 0;
}

// Sends the started mailing to the end, as the keeper's mail thread does.
int mailing_send(const Args& a) {
  auto [c, keys, st] = open_keeper(a);
  auto transport = mail::SmtpTransport::create(c.mail->smtp);
  if (!transport) die("smtp: " + transport.error().internal);
  services::Vault vault(keys);
  services::MailingSender sender(vault, *st, **transport, c.mail->supporter, c.mailings);
  std::uint64_t sent = 0, other = 0;
  Stopwatch sw;
  const double cpu0 = cpu_seconds();
  for (;;) {
    auto b = sender.send_batch(std::stop_token{});
    if (!b) die("send: " + b.error().internal);
    sent += b->sent;
    other += b->failed + b->skipped;
    if (b->sent + b->failed + b->skipped == 0) break;
  }
  const double secs = sw.seconds();
  if (other != 0) die(std::to_string(other) + " recipients refused or skipped");
  emit("mailing.sent", static_cast<double>(sent), "messages");
  emit("mailing.seconds", secs, "s");
  emit("mailing.per_s", static_cast<double>(sent) / secs, "messages/s");
  emit("mailing.cpu_s", cpu_seconds() - cpu0, "s");
  emit("mailing.peak_rss_mib", peak_rss_mib(), "MiB");
  return 0;
}

// The same number of messages, made once and handed to the same sink over
// one kept connection: no record, no rendering, no state.
int smtp_baseline(const Args& a) {
  const auto count = static_cast<std::uint64_t>(a.num("count", 1000));
  mail::SmtpOptions o;
  o.url = a.str("smtp");
  o.require_tls = false;
  auto transport = mail::SmtpTransport::create(o);
  if (!transport) die("smtp: " + transport.error().internal);
  mail::Message m;
  m.return_path = "bounces+0123456789abcdef0123456789abcdef0011223344556677@mouvement.example";
  m.from_address = "nouvelles@mouvement.example";
  m.from_name = "Mouvement Exemple";
  m.to = "camille.martin@example.org";
  m.subject = "Camille, on se retrouve samedi";
  m.message_id = "0123456789abcdef0123456789abcdef.m1@mouvement.example";
  m.headers = {{"List-Unsubscribe", "<https://signup.example.org/unsubscribe?t=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA>"},
               {"List-Unsubscribe-Post", "List-Unsubscribe=One-Click"},
               {"Precedence", "bulk"}};
  std::string body = kBody;
  body.replace(body.find("{{given_name}}"), 14, "Camille");
  body += "\n\n-- \nVotre phrase anti-hameçonnage : granit lune cerise torrent\n"
          "Pour ne plus recevoir de courriel : https://signup.example.org/unsubscribe?t=AAAA\n";
  m.text = body;
  m.html = "<!DOCTYPE html><html lang=\"fr\"><body><p>" + body + "</p></body></html>";
  // In batches as the sender hands them, over the same number of connections.
  const auto connections = static_cast<std::size_t>(a.num("connections", 4));
  const auto batch = static_cast<std::size_t>(a.num("batch", 1000));
  auto pool = (*transport)->pool(connections);
  Stopwatch sw;
  for (std::uint64_t done = 0; done < count;) {
    const std::vector<mail::Message> messages(std::min<std::uint64_t>(batch, count - done), m);
    for (const auto& r : pool->send_all(messages, mail::Pacing{}, std::stop_token{})) {
      if (!r || r->outcome != mail::Delivery::delivered) die("the sink refused a message");
    }
    done += messages.size();
  }
  const double secs = sw.seconds();
  emit("smtp_base.seconds", secs, "s");
  emit("smtp_base.per_s", static_cast<double>(count) / secs, "messages/s");
  emit("smtp_base.peak_rss_mib", peak_rss_mib(), "MiB");
  return 0;
}

}  // namespace rempart::bench
