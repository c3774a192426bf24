#include "services/breach_report.hpp"

#include <time.h>

#include <algorithm>
#include <cstdio>
#include <iterator>

#include <nlohmann/json.hpp>

#include "audit/chain.hpp"
#include "auth/accounts.hpp"
#include "core/text.hpp"

namespace rempart::services::breach {
namespace {

constexpr std::int64_t kUsPerSecond = 1000000;

// ---- Actions ------------------------------------------------------------------------

// Measures (M) and alerts (A), each action once.
constexpr std::string_view kLoggedActions[] = {
    auth::action::incident_lockdown,  // M A
    audit::action::guard_lock,        // M A
    audit::action::canary_trace,      //   A: a leaked value found and checked
    audit::action::keys_rotate,       // M
    audit::action::keys_rewrap,       // M
    audit::action::keys_retire,       // M
    auth::action::session_revoke,     // M (not a sign-out)
    auth::action::account_disable,    // M
    auth::action::account_reset_mfa,  // M
    auth::action::token_revoke,       // M
};

bool is_measure(std::string_view action) {
  return action != audit::action::canary_trace &&
         std::find(std::begin(kLoggedActions), std::end(kLoggedActions), action) != std::end(kLoggedActions);
}
bool is_alert(std::string_view action) {
  return action == audit::action::guard_lock || action == audit::action::canary_trace ||
         action == auth::action::incident_lockdown;
}

// ---- Words ------------------------------------------------------------------------------

struct Words {
  std::string_view fr, en;
  std::string_view operator()(Lang l) const noexcept { return l == Lang::fr ? fr : en; }
};

Words category_words(Category c) {
  switch (c) {
    case Category::name: return {"nom ou prénom", "name"};
    case Category::email: return {"adresse électronique", "e-mail address"};
    case Category::phone: return {"numéro de téléphone", "phone number"};
    case Category::address: return {"adresse postale", "postal address"};
    case Category::tags: return {"étiquettes (groupes, activités)", "tags (groups, activities)"};
    case Category::notes: return {"notes de l'équipe", "staff notes"};
    case Category::consents: return {"choix de consentement", "consent choices"};
    case Category::other: return {"autres champs", "other fields"};
  }
  return {"autres champs", "other fields"};
}

Words measure_words(std::string_view action) {
  if (action == auth::action::incident_lockdown) {
    return {"mise à l'abri (rempart incident lockdown) : toutes les sessions fermées, les jetons d'API révoqués, "
            "les comptes désactivés, les demandes de privilèges en attente refusées",
            "lockdown (rempart incident lockdown): every session ended, API tokens revoked, accounts disabled, "
            "pending privilege requests refused"};
  }
  if (action == audit::action::keys_rotate) {
    return {"clés de chiffrement renouvelées", "encryption keys rotated to a new version"};
  }
  if (action == audit::action::keys_rewrap) {
    return {"fiches passées sous la nouvelle clé", "records moved under the new key"};
  }
  if (action == audit::action::keys_retire) {
    return {"ancienne version de clé détruite", "old key version destroyed"};
  }
  if (action == auth::action::session_revoke) {
    return {"sessions de la console fermées", "console sessions ended"};
  }
  if (action == auth::action::account_disable) return {"compte désactivé", "account disabled"};
  if (action == auth::action::account_reset_mfa) {
    return {"second facteur d'authentification (TOTP) d'un compte réinitialisé",
            "an account's second authentication factor (TOTP) reset"};
  }
  if (action == auth::action::token_revoke) return {"jeton d'API révoqué", "API token revoked"};
  if (action == audit::action::guard_lock) {
    return {"blocage automatique d'un compte par la protection contre l'exfiltration",
            "an account locked automatically by the exfiltration guard"};
  }
  return {"", ""};
}

Words alert_words(std::string_view action) {
  if (action == audit::action::guard_lock) {
    return {"blocage automatique d'un compte par la protection contre l'exfiltration",
            "an account locked automatically by the exfiltration guard"};
  }
  if (action == audit::action::canary_trace) {
    return {"recherche d'une donnée divulguée parmi les traceurs des exports",
            "a leaked value checked against the exports' canaries"};
  }
  if (action == auth::action::incident_lockdown) {
    return {"mise à l'abri de l'instance (incident lockdown)", "lockdown of the instance (incident lockdown)"};
  }
  return {"", ""};
}

// ---- Numbers and times ------------------------------------------------------------------------

// 12345 -> "12 345" (narrow no-break space) in French, "12,345" in English.
std::string number(std::int64_t n, Lang lang) {
  std::string digits = std::to_string(n < 0 ? -n : n);
  std::string out;
  const std::string_view sep = lang == Lang::fr ? "\u202F" : ",";
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i != 0 && (digits.size() - i) % 3 == 0) out += sep;
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}

std::int64_t floor_div(std::int64_t a, std::int64_t b) {
  std::int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

// "04/03/2026 à 14:05 UTC" / "2026-03-04 14:05 UTC".
std::string when(std::int64_t at_us, Lang lang) {
  const time_t t = static_cast<time_t>(floor_div(at_us, kUsPerSecond));
  struct tm tm {};
  if (gmtime_r(&t, &tm) == nullptr) return "?";
  char buf[64];
  if (lang == Lang::fr) {
    std::snprintf(buf, sizeof buf, "%02d/%02d/%04d à %02d:%02d UTC", tm.tm_mday, tm.tm_mon + 1, tm.tm_year + 1900,
                  tm.tm_hour, tm.tm_min);
  } else {
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02d %02d:%02d UTC", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                  tm.tm_hour, tm.tm_min);
  }
  return buf;
}

std::string todo(Lang lang, std::string_view what) {
  return std::string(placeholder_mark(lang)) + (lang == Lang::fr ? " : " : ": ") + std::string(what) + "]";
}

std::string given_or(const std::string& text, Lang lang, std::string_view what) {
  return text.empty() ? todo(lang, what) : text;
}

// A multi-line text given by the officer, indented under its label.
std::string indented(const std::string& text) {
  std::string out;
  for (char c : text) {
    out += c;
    if (c == '\n') out += "  ";
  }
  return out;
}

std::string hours(std::int64_t us, Lang lang) {
  const std::int64_t h = us / (3600 * kUsPerSecond);
  if (lang == Lang::fr) return number(h, lang) + (h < 2 ? " heure" : " heures");
  return number(h, lang) + (h == 1 ? " hour" : " hours");
}

// ---- The sections ------------------------------------------------------------------------

void heading(std::string& s, const Notice& n, Lang L) {
  if (L == Lang::fr) {
    s += "NOTIFICATION D'UNE VIOLATION DE DONNÉES À CARACTÈRE PERSONNEL\n";
    s += "à l'autorité de contrôle (CNIL) – article 33 du RGPD\n\n";
    s += "Établie par rempart le " + when(n.now, L) + " à partir du journal d'audit de la base des sympathisants.\n";
    s += "Ce document ne contient aucune donnée personnelle : seulement des nombres et des catégories.\n";
    s += "Les mentions " + std::string(placeholder_mark(L)) +
         " : …] appellent des informations que vous seul connaissez.\n\n";
    s += "Responsable du traitement : " + given_or(n.organisation, L, "nom et coordonnées de l'organisation") + "\n";
    if (n.register_id) {
      s += "Registre des violations : entrée n° " + std::to_string(*n.register_id) + " (rempart incident register show " +
           std::to_string(*n.register_id) + ")\n";
    } else {
      s += "Registre des violations : pas encore inscrite (relancez avec --record ; article 33(5))\n";
    }
  } else {
    s += "PERSONAL DATA BREACH NOTIFICATION\n";
    s += "to the supervisory authority – GDPR article 33\n\n";
    s += "Prepared by rempart on " + when(n.now, L) + " from the audit log of the supporter database.\n";
    s += "This document holds no personal data: only numbers and categories.\n";
    s += "Each " + std::string(placeholder_mark(L)) + ": …] asks for facts only you know.\n\n";
    s += "Controller: " + given_or(n.organisation, L, "name and contact details of the organisation") + "\n";
    if (n.register_id) {
      s += "Breach register: entry " + std::to_string(*n.register_id) + " (rempart incident register show " +
           std::to_string(*n.register_id) + ")\n";
    } else {
      s += "Breach register: not recorded yet (run again with --record; article 33(5))\n";
    }
  }
}

void timing(std::string& s, const Notice& n, Lang L) {
  const Facts& f = n.facts;
  const bool fr = L == Lang::fr;
  s += fr ? "\n1. Chronologie\n" : "\n1. Timing\n";
  const std::string end = f.until ? when(*f.until, L)
                                  : when(n.now, L) + (fr ? " (heure de ce document)" : " (time of this document)");
  s += fr ? "- Période examinée : du " + when(f.since, L) + " au " + end + ".\n"
          : "- Period examined: from " + when(f.since, L) + " to " + end + ".\n";
  s += fr ? "- Prise de connaissance : le " + when(n.aware_at, L) : "- Became aware: " + when(n.aware_at, L);
  switch (n.aware_from) {
    case AwareFrom::alert:
      s += fr ? ", première alerte du journal (" + std::string(alert_words(f.first_alert_action)(L)) + ").\n"
              : ", the log's first alert (" + std::string(alert_words(f.first_alert_action)(L)) + ").\n";
      break;
    case AwareFrom::window_start:
      s += fr ? ", début de la période examinée, faute d'alerte dans le journal. Si vous l'avez apprise plus tard, "
                "indiquez-le avec --aware-at.\n"
              : ", the start of the period examined, as the log holds no alert. If you learned of it later, say "
                "when with --aware-at.\n";
      break;
    case AwareFrom::given:
      s += fr ? " (heure indiquée par le responsable).\n" : " (as stated by the controller).\n";
      break;
  }
  const std::int64_t deadline = n.aware_at + kDeadlineUs;
  if (n.now <= deadline) {
    s += fr ? "- Délai de 72 heures pour notifier : jusqu'au " + when(deadline, L) + " (il reste " +
                  hours(deadline - n.now, L) + ").\n"
            : "- 72-hour deadline for this notification: " + when(deadline, L) + " (" + hours(deadline - n.now, L) +
                  " left).\n";
  } else {
    s += fr ? "- Délai de 72 heures dépassé depuis le " + when(deadline, L) + ". Motifs du retard (article 33(1)) : " +
                  todo(L, "motifs du retard") + "\n"
            : "- The 72-hour deadline passed on " + when(deadline, L) + ". Reasons for the delay (article 33(1)): " +
                  todo(L, "reasons for the delay") + "\n";
  }
  s += fr ? "- Ce qui manque encore pourra être transmis dans une notification complémentaire (article 33(4)).\n"
          : "- What is not known yet may follow in a further notification (article 33(4)).\n";
}

void nature(std::string& s, const Notice& n, Lang L) {
  const bool fr = L == Lang::fr;
  s += fr ? "\n2. Nature de la violation\n" : "\n2. Nature of the breach\n";
  s += fr ? "- Type : atteinte à la confidentialité. Des données de sympathisants ont été affichées en clair ou "
            "exportées depuis la base.\n"
          : "- Type: breach of confidentiality. Supporters' data were displayed in full or exported from the "
            "database.\n";
  if (n.facts.one_actor) {
    s += fr ? "- Périmètre : l'activité d'un seul compte ou processus (identifié dans le registre).\n"
            : "- Scope: the activity of one account or process (identified in the register).\n";
  } else {
    s += fr ? "- Périmètre : l'activité de tous les comptes et processus sur la période.\n"
            : "- Scope: the activity of every account and process in the period.\n";
  }
  s += fr ? "- Circonstances : "
          : "- How it happened: ";
  s += n.nature.empty()
           ? todo(L, fr ? "comment la violation s'est produite, son origine (interne ou externe, malveillante ou "
                          "accidentelle) et les moyens employés"
                        : "how the breach happened, its origin (internal or external, malicious or accidental) and "
                          "the means used")
           : indented(n.nature);
  s += "\n";
}

void people(std::string& s, const Notice& n, Lang L) {
  const Facts& f = n.facts;
  const bool fr = L == Lang::fr;
  const std::string org = n.organisation.empty() ? (fr ? "l'organisation" : "the organisation") : n.organisation;
  s += fr ? "\n3. Personnes et données concernées (nombres approximatifs)\n"
          : "\n3. People and records concerned (approximate numbers)\n";
  s += fr ? "- Catégorie de personnes : sympathisants de " + org +
                " (personnes inscrites par son formulaire ou importées dans sa base).\n"
          : "- Category of people: supporters of " + org +
                " (people who signed up through its form or were imported into its database).\n";
  s += fr ? "- Personnes dont des données ont été affichées en clair ou exportées : " + number(f.people, L)
          : "- People whose data were displayed in full or exported: " + number(f.people, L);
  s += f.categories.empty() ? "\n" : (fr ? ", dont :\n" : ", of whom:\n");
  for (Category c : kAllCategories) {
    const auto it = f.categories.find(c);
    if (it == f.categories.end()) continue;
    s += "    " + std::string(category_words(c)(L)) + (fr ? " : " : ": ") + number(it->second, L) + "\n";
  }
  s += fr ? "- Personnes vues seulement sous forme masquée (initiales, adresse et numéro en partie cachés) : "
          : "- People seen in masked form only (initials, partly hidden address and number): ";
  s += number(f.people_masked, L) + "\n";
  // One person, one record, one value: said in the singular.
  const auto one = [](std::int64_t count, const char* singular, const char* plural) {
    return count == 1 ? singular : plural;
  };
  s += fr ? "- En tout : environ " + number(f.records(), L) + one(f.records(), " personne, ", " personnes, ") +
                number(f.records(), L) + one(f.records(), " fiche concernée, ", " fiches concernées, ") +
                number(f.values_revealed, L) +
                one(f.values_revealed, " donnée affichée en clair.\n", " données affichées en clair.\n")
          : "- In all: about " + number(f.records(), L) + one(f.records(), " person, ", " people, ") +
                number(f.records(), L) + one(f.records(), " record concerned, ", " records concerned, ") +
                number(f.values_revealed, L) +
                one(f.values_revealed, " data value displayed in full.\n", " data values displayed in full.\n");
  if (f.decoys > 0) {
    s += fr ? "- " + number(f.decoys, L) +
                  " fiches leurres, posées pour détecter un vol, ne sont pas comptées : elles ne désignent personne.\n"
            : "- " + number(f.decoys, L) +
                  " decoy records, planted to detect theft, are not counted: they are nobody's.\n";
  }
  if (f.opened_only > 0) {
    s += fr ? "- " + number(f.opened_only, L) +
                  " autres fiches ont été ouvertes par le serveur sans être montrées à personne ; elles ne sont pas "
                  "comptées.\n"
            : "- " + number(f.opened_only, L) +
                  " more records were opened by the server and shown to nobody; they are not counted.\n";
  }
  s += fr ? "- Source : le journal d'audit chaîné de la base, qui inscrit chaque affichage en clair, liste et export. "
            "Ce qui a été pris sans passer par rempart n'y figure pas.\n"
          : "- Source: the database's hash-chained audit log, which records every full display, list and export. "
            "What was taken without going through rempart is not in it.\n";
  if (f.malformed > 0) {
    s += fr ? "- Attention : " + number(f.malformed, L) + " entrées du journal n'ont pas pu être lues.\n"
            : "- Warning: " + number(f.malformed, L) + " log entries could not be read.\n";
  }
}

Words consequence_words(Consequence c) {
  switch (c) {
    case Consequence::political_opinion:
      // Built per call: the organisation's name is in it.
      return {"", ""};
    case Consequence::phishing:
      return {"Adresse électronique : hameçonnage ciblé et crédible (un faux message peut se réclamer de "
              "l'organisation et de l'engagement de la personne), pourriels.",
              "E-mail address: targeted, credible phishing (a forged message can claim to come from the "
              "organisation and refer to the person's support), spam."};
    case Consequence::phone_scams:
      return {"Numéro de téléphone : SMS et appels frauduleux (hameçonnage par SMS, faux appels au nom de "
              "l'organisation), démarchage, harcèlement.",
              "Phone number: fraudulent texts and calls (SMS phishing, calls claiming to come from the "
              "organisation), cold calling, harassment."};
    case Consequence::impersonation:
      return {"Nom : usurpation d'identité, rapprochement avec d'autres fichiers divulgués.",
              "Name: impersonation, matching with other leaked files."};
    case Consequence::home_address:
      return {"Adresse postale : courriers frauduleux, visites non sollicitées, atteinte à la sécurité des "
              "personnes chez elles.",
              "Postal address: fraudulent letters, unwanted visits, a threat to people's safety at home."};
    case Consequence::tags:
      return {"Étiquettes : elles peuvent révéler des activités, des engagements ou des opinions.",
              "Tags: they may reveal activities, commitments or opinions."};
    case Consequence::notes:
      return {"Notes de l'équipe : texte libre qui peut contenir n'importe quelle information, y compris d'autres "
              "catégories particulières (santé, convictions) ; relisez les notes des personnes concernées.",
              "Staff notes: free text that may hold anything, other special categories included (health, "
              "beliefs); read the notes of the people concerned."};
    case Consequence::masked_only:
      return {"Données vues seulement masquées : risque faible pour ces personnes prises isolément, mais leur "
              "présence dans le fichier peut être déduite.",
              "Data seen masked only: a low risk for these people taken alone, but their presence in the file "
              "can be inferred."};
  }
  return {"", ""};
}

void effects(std::string& s, const Notice& n, Lang L) {
  const bool fr = L == Lang::fr;
  const auto list = consequences(n.facts);
  s += fr ? "\n4. Conséquences probables\n" : "\n4. Likely consequences\n";
  if (list.empty()) {
    s += fr ? "- Le journal ne montre aucune donnée de sympathisant affichée ou exportée sur la période. "
            : "- The log shows no supporter data displayed or exported in the period. ";
    s += todo(L, fr ? "conséquences connues par ailleurs" : "consequences known otherwise") + "\n";
    return;
  }
  const std::string org = n.organisation.empty() ? (fr ? "l'organisation" : "the organisation") : n.organisation;
  bool special = false;
  for (Consequence c : list) {
    if (c == Consequence::political_opinion) {
      special = true;
      s += fr ? "- Opinions politiques (catégorie particulière de données, article 9 du RGPD) : figurer dans ce "
                "fichier révèle le soutien de la personne à " + org +
                    ". Pour un parti ou un mouvement politique, c'est une opinion politique : discrimination, "
                    "pressions (employeur, entourage), harcèlement et atteinte à la réputation sont possibles.\n"
              : "- Political opinions (special category of data, GDPR article 9): being in this file reveals the "
                "person's support for " + org +
                    ". For a political party or movement this is a political opinion: discrimination, pressure "
                    "(employer, family), harassment and damage to reputation are possible.\n";
      continue;
    }
    s += "- " + std::string(consequence_words(c)(L)) + "\n";
  }
  if (special) {
    s += fr ? "- Évaluation : des données révélant des opinions politiques étant en cause, le risque pour les "
              "droits et libertés des personnes est probablement élevé. "
            : "- Assessment: as data revealing political opinions are concerned, the risk to people's rights and "
              "freedoms is likely high. ";
  } else {
    s += fr ? "- Évaluation : " : "- Assessment: ";
  }
  s += todo(L, fr ? "votre évaluation du risque (faible, réel ou élevé)"
                  : "your assessment of the risk (low, real or high)") +
       "\n";
}

void remedies(std::string& s, const Notice& n, Lang L) {
  const Facts& f = n.facts;
  const bool fr = L == Lang::fr;
  s += fr ? "\n5. Mesures prises ou envisagées\n" : "\n5. Measures taken or proposed\n";
  s += fr ? "Mesures inscrites au journal depuis le début de la période :\n"
          : "Measures recorded in the log since the start of the period:\n";
  auto sorted = f.measures;
  std::stable_sort(sorted.begin(), sorted.end(),
                   [](const Measure& a, const Measure& b) { return a.first_at < b.first_at; });
  if (sorted.empty()) {
    s += fr ? "- Aucune mesure n'est encore inscrite au journal.\n" : "- No measure is recorded in the log yet.\n";
  }
  for (const auto& m : sorted) {
    s += "- " + when(m.first_at, L) + (fr ? " : " : ": ") + std::string(measure_words(m.action)(L));
    if (m.count > 1) {
      s += fr ? " (" + number(m.count, L) + " fois, la dernière le " + when(m.last_at, L) + ")"
              : " (" + number(m.count, L) + " times, the last on " + when(m.last_at, L) + ")";
    }
    s += "\n";
  }
  s += fr ? "Autres mesures prises ou envisagées : " : "Other measures taken or proposed: ";
  s += n.measures_note.empty()
           ? todo(L, fr ? "mesures prises hors de la base (correctif, mots de passe changés, plainte) et mesures "
                          "prévues pour éviter que cela se reproduise"
                        : "measures taken outside the database (patch, passwords changed, complaint to the police) "
                          "and those planned so that it does not happen again")
           : indented(n.measures_note);
  s += "\n";
  s += fr ? "Mesures en place avant la violation : chaque donnée personnelle est chiffrée fiche par fiche ; chaque "
            "affichage en clair est limité par des quotas qui bloquent un compte trop curieux, et inscrit dans un "
            "journal chaîné et signé.\n"
          : "Measures in place before the breach: every personal field is encrypted record by record; every full "
            "display is bounded by quotas that lock an account that reads too much, and recorded in a "
            "hash-chained, signed log.\n";
  s += fr ? "Information des personnes concernées (article 34) : "
          : "Telling the people concerned (article 34): ";
  s += todo(L, fr ? "oui, à quelle date, ou non et pourquoi" : "yes and when, or no and why") + "\n";
  const std::string same = fr ? (f.one_actor ? "même période, même compte" : "même période")
                               : (f.one_actor ? "same period, same account" : "same period");
  s += fr ? "  La liste des personnes à prévenir ne figure pas ici : « rempart audit blast-radius » (" + same +
                ") l'écrit avec --csv, et « rempart notify --from-blast-radius » leur envoie l'avis. Chaque courriel "
                "de l'organisation porte la phrase anti-hameçonnage personnelle du destinataire, qu'un message "
                "frauduleux n'a pas.\n"
          : "  The list of people to tell is not in this document: `rempart audit blast-radius` (" + same +
                ") writes it with --csv, and `rempart notify --from-blast-radius` sends them the notice. Every "
                "e-mail from the organisation carries the recipient's personal anti-phishing phrase, which a forged "
                "message lacks.\n";
  if (n.not_notified_reason) {
    s += fr ? "Notification à l'autorité : non faite. Motif inscrit au registre : "
            : "Notification to the authority: not made. Reason in the register: ";
    s += indented(*n.not_notified_reason) + "\n";
  }
}

void contact(std::string& s, const Notice& n, Lang L) {
  const bool fr = L == Lang::fr;
  s += fr ? "\n6. Contact\n" : "\n6. Contact\n";
  s += fr ? "Délégué à la protection des données ou autre point de contact : "
          : "Data protection officer or other contact point: ";
  s += n.contact.empty() ? todo(L, fr ? "nom et coordonnées" : "name and contact details") : indented(n.contact);
  s += "\n";
}

}  // namespace

// ---- Categories and consequences ------------------------------------------------------

std::string_view category_code(Category c) noexcept {
  switch (c) {
    case Category::name: return "name";
    case Category::email: return "email";
    case Category::phone: return "phone";
    case Category::address: return "address";
    case Category::tags: return "tags";
    case Category::notes: return "notes";
    case Category::consents: return "consents";
    case Category::other: return "other";
  }
  return "other";
}

std::optional<Category> parse_category(std::string_view code) noexcept {
  for (Category c : kAllCategories) {
    if (category_code(c) == code) return c;
  }
  return std::nullopt;
}

Category category_of(std::string_view field) noexcept {
  if (field == "name" || field == "given_name" || field == "family_name") return Category::name;
  if (field == "email") return Category::email;
  if (field == "phone") return Category::phone;
  if (field == "address" || field == "street" || field == "postal_code" || field == "locality" ||
      field == "country") {
    return Category::address;
  }
  if (field == "tags") return Category::tags;
  if (field == "notes") return Category::notes;
  if (field == "consent_email" || field == "consent_sms") return Category::consents;
  return Category::other;
}

std::string_view consequence_code(Consequence c) noexcept {
  switch (c) {
    case Consequence::political_opinion: return "political_opinion";
    case Consequence::phishing: return "phishing";
    case Consequence::phone_scams: return "phone_scams";
    case Consequence::impersonation: return "impersonation";
    case Consequence::home_address: return "home_address";
    case Consequence::tags: return "tags";
    case Consequence::notes: return "notes";
    case Consequence::masked_only: return "masked_only";
  }
  return "";
}

std::optional<Consequence> parse_consequence(std::string_view code) noexcept {
  for (Consequence c : {Consequence::political_opinion, Consequence::phishing, Consequence::phone_scams,
                        Consequence::impersonation, Consequence::home_address, Consequence::tags, Consequence::notes,
                        Consequence::masked_only}) {
    if (consequence_code(c) == code) return c;
  }
  return std::nullopt;
}

std::span<const std::string_view> logged_actions() noexcept { return kLoggedActions; }

// ---- Facts ------------------------------------------------------------------------------

Facts tally(const audit::BlastRadius& b, const std::set<std::string>& decoys) {
  Facts f;
  for (const auto& e : b.revealed) {
    if (decoys.contains(e.record)) {
      ++f.decoys;
      continue;
    }
    ++f.people;
    std::set<Category> seen;
    for (const auto& field : e.fields) seen.insert(category_of(field));
    if (seen.empty()) seen.insert(Category::other);
    for (Category c : seen) ++f.categories[c];
    f.values_revealed += static_cast<std::int64_t>(e.fields.size());
  }
  for (const auto& e : b.masked_only) {
    if (decoys.contains(e.record)) {
      ++f.decoys;
    } else {
      ++f.people_masked;
    }
  }
  for (const auto& e : b.opened_only) {
    if (!decoys.contains(e.record)) ++f.opened_only;
  }
  f.malformed = static_cast<std::int64_t>(b.malformed);
  return f;
}

void note(Facts& f, const store::AuditEntryRow& e) {
  const bool measure = is_measure(e.action);
  const bool alert = is_alert(e.action);
  if (!measure && !alert) return;
  if (e.action == auth::action::session_revoke) {
    // A person signing out is no measure.
    const auto d = nlohmann::json::parse(e.details, nullptr, false);
    if (d.is_object()) {
      const auto r = d.find("reason");
      if (r != d.end() && r->is_string() && r->get<std::string>() == "logout") return;
    }
  }
  if (alert && e.at >= f.since && (!f.first_alert || e.at < *f.first_alert)) {
    f.first_alert = e.at;
    f.first_alert_action = e.action;
  }
  if (!measure) return;
  auto it = std::find_if(f.measures.begin(), f.measures.end(), [&](const Measure& m) { return m.action == e.action; });
  if (it == f.measures.end()) {
    Measure m;
    m.action = e.action;
    m.first_at = e.at;
    m.last_at = e.at;
    f.measures.push_back(std::move(m));
    it = std::prev(f.measures.end());
  }
  ++it->count;
  it->first_at = std::min(it->first_at, e.at);
  it->last_at = std::max(it->last_at, e.at);
}

std::vector<Consequence> consequences(const Facts& f) {
  std::vector<Consequence> out;
  if (f.records() == 0) return out;
  out.push_back(Consequence::political_opinion);
  const auto has = [&](Category c) { return f.categories.contains(c); };
  if (has(Category::email)) out.push_back(Consequence::phishing);
  if (has(Category::phone)) out.push_back(Consequence::phone_scams);
  if (has(Category::name)) out.push_back(Consequence::impersonation);
  if (has(Category::address)) out.push_back(Consequence::home_address);
  if (has(Category::tags)) out.push_back(Consequence::tags);
  if (has(Category::notes)) out.push_back(Consequence::notes);
  if (f.people_masked > 0) out.push_back(Consequence::masked_only);
  return out;
}

// ---- The text ------------------------------------------------------------------------------

std::string_view placeholder_mark(Lang lang) noexcept { return lang == Lang::fr ? "[À COMPLÉTER" : "[TO COMPLETE"; }

std::string render(const Notice& n, Lang lang) {
  std::string s;
  heading(s, n, lang);
  timing(s, n, lang);
  nature(s, n, lang);
  people(s, n, lang);
  effects(s, n, lang);
  remedies(s, n, lang);
  contact(s, n, lang);
  return s;
}

// ---- The register ------------------------------------------------------------------------------

std::string categories_json(const Facts& f) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& [c, count] : f.categories) j[std::string(category_code(c))] = count;
  return j.dump();
}

std::string measures_json(const Facts& f) {
  nlohmann::json j = nlohmann::json::object();
  for (const auto& m : f.measures) j[m.action] = m.count;
  return j.dump();
}

store::BreachRow to_row(const Notice& n, const std::string& actor_filter, const std::string& recorded_by) {
  const Facts& f = n.facts;
  store::BreachRow b;
  b.recorded_at = floor_div(n.now, kUsPerSecond);
  b.recorded_by = recorded_by;
  b.updated_at = b.recorded_at;
  b.since_at = floor_div(f.since, kUsPerSecond);
  if (f.until) b.until_at = floor_div(*f.until, kUsPerSecond);
  b.actor = actor_filter;
  b.aware_at = floor_div(n.aware_at, kUsPerSecond);
  b.nature = n.nature;
  b.people = f.people;
  b.people_masked = f.people_masked;
  b.records = f.records();
  b.values_revealed = f.values_revealed;
  b.categories = categories_json(f);
  std::string codes;
  for (Consequence c : consequences(f)) codes += (codes.empty() ? "" : ",") + std::string(consequence_code(c));
  b.consequences = codes;
  b.measures = measures_json(f);
  b.measures_note = n.measures_note;
  b.contact = n.contact;
  b.not_notified_reason = n.not_notified_reason;
  b.state = n.not_notified_reason ? "not_notified" : "open";
  return b;
}

Result<void> check_text(std::string_view text, std::string_view what) {
  if (text.size() > 4000) return fail(Errc::invalid_input, std::string(what) + ": at most 4,000 bytes");
  if (!core::text::is_valid_utf8(text)) return fail(Errc::invalid_input, std::string(what) + ": not UTF-8 text");
  for (unsigned char c : text) {
    if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f) {
      return fail(Errc::invalid_input, std::string(what) + ": control characters are refused");
    }
  }
  return {};
}

Result<std::vector<std::string>> apply(store::BreachRow& row, const Update& u, std::int64_t now) {
  if (row.state == "closed") {
    return fail(Errc::conflict, "register entry " + std::to_string(row.id) + " is closed; nothing was changed");
  }
  if (!u.authority_notified_at && !u.people_notified_at && !u.not_notified_reason && !u.close) {
    return fail(Errc::invalid_input, "nothing to change: give --authority-notified-at, --people-notified-at, "
                                     "--not-notified-because or --close");
  }
  if (u.authority_notified_at && u.not_notified_reason) {
    return fail(Errc::invalid_input, "give --authority-notified-at or --not-notified-because, not both");
  }
  constexpr std::int64_t kClockSlack = 300;  // seconds: a time "now" typed on a clock a little ahead
  for (const auto* t : {&u.authority_notified_at, &u.people_notified_at}) {
    if (!*t) continue;
    if (**t < row.since_at) {
      return fail(Errc::invalid_input, "a notification cannot come before the period examined begins");
    }
    if (**t > now + kClockSlack) return fail(Errc::invalid_input, "a notification time cannot be in the future");
  }
  if (u.not_notified_reason) {
    if (u.not_notified_reason->empty()) return fail(Errc::invalid_input, "--not-notified-because needs a reason");
    if (row.authority_notified_at) {
      return fail(Errc::conflict, "the authority was notified already; a reason not to notify no longer applies");
    }
  }
  if (u.close && u.close_reason.empty()) return fail(Errc::invalid_input, "--close needs --reason");
  if (u.close && !u.authority_notified_at && !u.not_notified_reason && !row.authority_notified_at &&
      !row.not_notified_reason) {
    return fail(Errc::conflict, "write down first whether the authority was notified (--authority-notified-at) or "
                                "why not (--not-notified-because): article 33(5) asks for it");
  }

  std::vector<std::string> changed;
  if (u.authority_notified_at) {
    row.authority_notified_at = u.authority_notified_at;
    changed.emplace_back("authority_notified_at");
    if (row.not_notified_reason) {
      row.not_notified_reason = std::nullopt;
      changed.emplace_back("not_notified_reason");
    }
    row.state = "notified";
  }
  if (u.not_notified_reason) {
    row.not_notified_reason = u.not_notified_reason;
    changed.emplace_back("not_notified_reason");
    row.state = "not_notified";
  }
  if (u.people_notified_at) {
    row.people_notified_at = u.people_notified_at;
    changed.emplace_back("people_notified_at");
  }
  if (u.close) {
    row.closed_at = now;
    row.close_reason = u.close_reason;
    changed.emplace_back("closed_at");
    changed.emplace_back("close_reason");
    row.state = "closed";
  }
  row.updated_at = now;
  return changed;
}

}  // namespace rempart::services::breach
