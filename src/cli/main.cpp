// Composition root: parses the command line and hands over to a command.
#include <CLI/CLI.hpp>

#include "cli/admin_commands.hpp"
#include "cli/backup_command.hpp"
#include "cli/incident_command.hpp"
#include "cli/commands.hpp"
#include "cli/export_commands.hpp"
#include "cli/guard_commands.hpp"
#include "cli/key_versions_command.hpp"
#include "cli/keys_command.hpp"
#include "cli/mailing_commands.hpp"

int main(int argc, char** argv) {
  using namespace rempart::cli;
  CLI::App app{"rempart: a supporter database built to survive a breach"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "rempart 0.1.0");

  InitArgs init;
  auto* init_cmd = app.add_subcommand("init", "Create the data directory, the keyrings and a configuration file");
  init_cmd->add_option("--data", init.data_dir, "Data directory (created with mode 0700)")->required();
  init_cmd->add_option("--keys", init.keys_dir, "Key directory, outside the data directory")->required();
  init_cmd->add_option("--config", init.config, "Configuration file to write")->capture_default_str();
  init_cmd->add_option("--region", init.region, "Default region for phone numbers")->capture_default_str();
  init_cmd->add_option("--listen", init.listen, "Intake address HOST:PORT")->capture_default_str();
  init_cmd->add_option("--console-listen", init.console_listen, "Console address HOST:PORT (keeper role)")
      ->capture_default_str();
  init_cmd->add_option("--checkpoints", init.checkpoints,
                       "Audit checkpoint file, outside the data directory (default: next to the key directory)");
  init_cmd->add_option("--backend", init.backend, "Where the records live: sqlite | postgresql")
      ->check(CLI::IsMember({"sqlite", "postgresql"}))
      ->capture_default_str();
  init_cmd->add_option("--dsn", init.dsn,
                       "postgresql: the server(s) and database, as libpq takes them (no user, no password)");
  init_cmd->add_option("--admin-user", init.admin_user,
                       "postgresql: the role that creates the roles and schema (default: libpq's)");
  init_cmd->add_option("--admin-password-file", init.admin_password_file,
                       "postgresql: a file (mode 0600) holding that role's password");
  init_cmd->add_option("--keeper-user", init.keeper_user,
                       "postgresql: the keeper's database login user (default rempart_keeper)");
  init_cmd->add_option("--intake-user", init.intake_user,
                       "postgresql: the intake's database login user (default rempart_intake)");
  init_cmd->add_flag("--print-sql", init.print_sql,
                     "postgresql: print the SQL that sets up the database, and do nothing else");

  MigrateArgs migrate;
  auto* migrate_cmd = app.add_subcommand(
      "migrate", "Bring the database's schema to this binary's version (PostgreSQL: as its administrator)");
  migrate_cmd->add_option("--config", migrate.config, "Configuration file")->capture_default_str();
  migrate_cmd->add_option("--admin-user", migrate.admin_user,
                          "postgresql: the administrator's user (a role that may create roles and schemas)");
  migrate_cmd->add_option("--admin-password-file", migrate.admin_password_file,
                          "postgresql: a file (mode 0600) holding the administrator's password");

  ServeArgs serve;
  std::string role = "all";
  auto* serve_cmd = app.add_subcommand("serve", "Run the intake (public) and/or keeper (internal) roles");
  serve_cmd->add_option("--config", serve.config, "Configuration file")->capture_default_str();
  serve_cmd->add_option("--role", role, "all | intake | keeper")
      ->check(CLI::IsMember({"all", "intake", "keeper"}))
      ->capture_default_str();
  serve_cmd->add_option("--listen", serve.listen, "Override the intake address HOST:PORT (port 0: any free port)");
  serve_cmd->add_option("--console-listen", serve.console_listen,
                        "Override the console address HOST:PORT (port 0: any free port)");

  auto* sup = app.add_subcommand("supporters", "Operator access to supporter records (needs the keeper keyring)");
  sup->require_subcommand(1);
  sup->fallthrough();  // `supporters count --config F` works too
  std::filesystem::path config = "rempart.toml";
  sup->add_option("--config", config, "Configuration file")->capture_default_str();

  auto* count_cmd = sup->add_subcommand("count", "Print the number of supporters");
  ShowArgs show;
  auto* show_cmd = sup->add_subcommand("show", "Print one supporter found by exact e-mail or phone");
  show_cmd->add_option("--email", show.email, "E-mail address");
  show_cmd->add_option("--phone", show.phone, "Phone number");
  show_cmd->add_flag("--json", show.json, "Print as JSON");
  show_cmd->add_option("--reason", show.reason, "Why (recorded in the audit log; no personal data)");

  ImportArgs imp;
  auto* import_cmd = sup->add_subcommand("import", "Import supporters from a CSV file");
  import_cmd->add_option("file", imp.file, "CSV file (header line first; ',' or ';')")->required();
  import_cmd->add_option("--preset", imp.preset, "The tool the file was exported from")
      ->check(CLI::IsMember({"action-network", "nationbuilder", "civicrm"}));
  import_cmd->add_option("--map", imp.map,
                         "Columns, e.g. given_name=Prénom,email=Courriel; FIELD= reads nothing for FIELD");
  import_cmd->add_option("--ignore", imp.ignore, "A column not to read (repeatable)");
  import_cmd->add_option("--yes-value", imp.yes_values, "A consent value meaning yes (repeatable)");
  import_cmd->add_option("--no-value", imp.no_values, "A consent value meaning no (repeatable)");
  import_cmd->add_option("--invert", imp.invert, "A consent field whose column says \"do not contact\" (1 = no)")
      ->check(CLI::IsMember({"consent_email", "consent_sms"}));
  import_cmd->add_option("--encoding", imp.encoding,
                         "utf-8, windows-1252, latin-1, utf-16le or utf-16be (default: detected; UTF-16 by its byte order mark or its NUL bytes, then UTF-8 with or without BOM, else windows-1252)");
  import_cmd->add_flag("--dry-run", imp.dry_run, "Read and report; write no record");
  import_cmd->add_option("--report", imp.report_file, "Write every issue to this CSV file (line, column, reason)");
  bool no_progress = false;
  import_cmd->add_flag("--no-progress", no_progress, "Do not draw a progress bar");
  import_cmd
      ->add_option("--rows-per-transaction", imp.rows_per_transaction,
                   "Rows committed together (fewer: shorter waits for a keeper serving at the same time)")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();

  SynthArgs synth;
  auto* synth_cmd = sup->add_subcommand("synth", "Create synthetic supporters for benchmarks and drills");
  synth_cmd->add_option("count", synth.count, "How many")->capture_default_str();
  synth_cmd->add_option("--phones", synth.phones,
                        "How many of them have a phone (default: 20000, or all of them when fewer)");
  synth_cmd->add_option("--seed", synth.seed, "Generator seed")->capture_default_str();

  ReindexArgs reindex;
  auto* reindex_cmd = sup->add_subcommand(
      "reindex", "Compute every record's search tokens again (after a change of their rules or of the key)");
  reindex_cmd->add_flag("--queue-only", reindex.queue_only,
                        "Only put every record on the backlog; serve computes the tokens between folds");
  bool reindex_no_progress = false;
  reindex_cmd->add_flag("--no-progress", reindex_no_progress, "Do not draw a progress bar");

  RetentionArgs retention;
  auto* ret = app.add_subcommand("retention", "Data kept no longer than needed: what the policies reach, or apply them");
  ret->require_subcommand(1);
  ret->fallthrough();
  ret->add_option("--config", retention.config, "Configuration file")->capture_default_str();
  auto* ret_report = ret->add_subcommand("report", "Count what each policy reaches now (never a value)");
  auto* ret_run = ret->add_subcommand("run", "Apply the policies now (serve applies them daily)");
  ret_run->add_flag("--dry-run", retention.dry_run, "Count and record the run; change nothing");

  auto* aud = app.add_subcommand("audit", "Check and read the audit log (needs the keeper keyring)");
  aud->require_subcommand(1);
  aud->fallthrough();
  std::filesystem::path audit_config = "rempart.toml";
  aud->add_option("--config", audit_config, "Configuration file")->capture_default_str();

  AuditVerifyArgs verify;
  auto* verify_cmd = aud->add_subcommand("verify", "Check the chain, every MAC and every checkpoint; exit 1 on any fault");
  verify_cmd->add_option("--checkpoints", verify.checkpoints,
                         "Checkpoint file to hold the database against (default: [audit].checkpoint_file)");
  auto* checkpoint_cmd = aud->add_subcommand("checkpoint", "Sign the head of the log now and publish it");

  AuditQueryArgs query;
  auto* query_cmd = aud->add_subcommand("query", "List audit entries");
  query_cmd->add_option("--actor", query.actor,
                        "An account name (camille), or as the log writes it: keeper, operator:alice, account:ID, "
                        "token:ID");
  query_cmd->add_option("--action", query.action, "e.g. supporter.reveal");
  query_cmd->add_option("--since", query.since, "From (inclusive): unix seconds or YYYY-MM-DD[THH:MM[:SS]][Z], UTC");
  query_cmd->add_option("--until", query.until, "To (exclusive), same forms");
  query_cmd->add_option("--record", query.record, "Record id (hex)");
  query_cmd->add_option("--format", query.format, "table | jsonl | csv")
      ->check(CLI::IsMember({"table", "jsonl", "csv"}))
      ->capture_default_str();
  query_cmd->add_option("--limit", query.limit, "At most this many entries (0: all)");

  AuditBlastArgs blast;
  auto* blast_cmd = aud->add_subcommand("blast-radius",
                                        "Supporters whose data an actor or a time window revealed, exported or listed");
  blast_cmd->add_option("--actor", blast.actor, "Whose accesses: an account name, or as the log writes it");
  blast_cmd->add_option("--token", blast.token, "An API token's accesses (actor token:ID)");
  blast_cmd->add_option("--session", blast.session,
                        "One console session's accesses (the label shown in alerts and in entries' details)");
  blast_cmd->add_option("--since", blast.since, "From (inclusive), UTC");
  blast_cmd->add_option("--until", blast.until, "To (exclusive), UTC");
  blast_cmd->add_option("--csv", blast.csv, "Write the record ids to this CSV file");

  auto* adm = app.add_subcommand("admin", "Console accounts and API tokens (needs the keeper keyring)");
  adm->require_subcommand(1);
  adm->fallthrough();
  std::filesystem::path admin_config = "rempart.toml";
  adm->add_option("--config", admin_config, "Configuration file")->capture_default_str();
  const auto roles = CLI::IsMember({"viewer", "organiser", "admin", "auditor"});

  AdminAddArgs admin_add;
  auto* admin_add_cmd = adm->add_subcommand("add", "Create an account for its owner at this host: prints its TOTP set-up and recovery codes once");
  admin_add_cmd->add_option("name", admin_add.name, "Account name ([a-z0-9._-], up to 64)")->required();
  admin_add_cmd->add_option("--role", admin_add.role, "viewer | organiser | admin | auditor")->required()->check(roles);
  admin_add_cmd->add_flag("--password-stdin", admin_add.password_stdin, "Read the password from stdin (one line)");
  auto* admin_list_cmd = adm->add_subcommand("list", "List accounts");
  std::string admin_name, admin_role, admin_reason;
  auto* admin_invite_cmd = adm->add_subcommand(
      "invite", "Create an account its owner sets up with a single-use link (password and TOTP of their own)");
  admin_invite_cmd->add_option("name", admin_name, "Account name ([a-z0-9._-], up to 64)")->required();
  admin_invite_cmd->add_option("--role", admin_role, "viewer | organiser | admin | auditor")->required()->check(roles);
  auto* admin_disable_cmd = adm->add_subcommand("disable", "Disable an account and end its sessions");
  admin_disable_cmd->add_option("name", admin_name, "Account name")->required();
  auto* admin_enable_cmd = adm->add_subcommand("enable", "Enable a disabled account again (its API tokens stay revoked)");
  admin_enable_cmd->add_option("name", admin_name, "Account name")->required();
  auto* admin_role_cmd = adm->add_subcommand("set-role", "Change an account's role");
  admin_role_cmd->add_option("name", admin_name, "Account name")->required();
  admin_role_cmd->add_option("role", admin_role, "viewer | organiser | admin | auditor")->required()->check(roles);
  auto* admin_mfa_cmd = adm->add_subcommand("reset-mfa", "Clear an account's password and authenticator; prints a link its owner enrols again with");
  admin_mfa_cmd->add_option("name", admin_name, "Account name")->required();
  auto* admin_unlock_cmd = adm->add_subcommand("unlock", "Unlock an account locked after failed logins");
  admin_unlock_cmd->add_option("name", admin_name, "Account name")->required();
  admin_unlock_cmd->add_option("--reason", admin_reason, "Why (recorded in the audit log)")->required();
  auto* admin_revoke_cmd = adm->add_subcommand("revoke-sessions", "End every session of an account");
  admin_revoke_cmd->add_option("name", admin_name, "Account name")->required();

  auto* tok = adm->add_subcommand("token", "API tokens for programs");
  tok->require_subcommand(1);
  tok->fallthrough();
  AdminTokenCreateArgs token_create;
  auto* token_create_cmd = tok->add_subcommand("create", "Create a token; prints it once");
  token_create_cmd->add_option("--scope", token_create.scope, "intake | read-masked | reveal | metrics")
      ->required()
      ->check(CLI::IsMember({"intake", "read-masked", "reveal", "metrics"}));
  token_create_cmd->add_option("--expires-days", token_create.expires_days, "Days until it expires (1..3650)")
      ->capture_default_str();
  token_create_cmd->add_option("--name", token_create.label, "Label, e.g. the website using it")->required();
  auto* token_list_cmd = tok->add_subcommand("list", "List tokens (never their secret)");
  std::int64_t token_id = 0;
  auto* token_revoke_cmd = tok->add_subcommand("revoke", "Revoke a token");
  token_revoke_cmd->add_option("id", token_id, "Token id (see `admin token list`)")->required();

  auto* honey = app.add_subcommand("honeytokens", "Decoy records that trip the exfiltration guard (keeper keyring)");
  honey->require_subcommand(1);
  honey->fallthrough();
  HoneytokensPlantArgs honey_plant;
  honey->add_option("--config", honey_plant.config, "Configuration file")->capture_default_str();
  auto* honey_plant_cmd = honey->add_subcommand("plant", "Plant N honeytokens shaped like the real supporters");
  honey_plant_cmd->add_option("count", honey_plant.count, "How many (1..10000)")->required();
  auto* honey_count_cmd = honey->add_subcommand("count", "Print the number of honeytokens");

  auto* exp = app.add_subcommand("export", "Two-person bulk exports (docs/exports.md)");
  exp->require_subcommand(1);
  ExportDecryptArgs export_decrypt;
  auto* export_decrypt_cmd = exp->add_subcommand("decrypt", "Open a sealed export file with your export key (offline)");
  export_decrypt_cmd->add_option("file", export_decrypt.file, "The .rmpx file")->required();
  export_decrypt_cmd->add_option("--key", export_decrypt.key, "File holding your rmpx1_ key (chmod 600)")->required();
  export_decrypt_cmd->add_option("--out", export_decrypt.out, "Write the CSV here (mode 0600; default: stdout)");

  auto* canary = app.add_subcommand("canary", "Canary rows of exports (keeper keyring)");
  canary->require_subcommand(1);
  canary->fallthrough();
  CanaryTraceArgs canary_trace;
  canary->add_option("--config", canary_trace.config, "Configuration file")->capture_default_str();
  auto* canary_trace_cmd = canary->add_subcommand("trace", "Which export a leaked e-mail or phone came from");
  canary_trace_cmd->add_option("value", canary_trace.value, "The e-mail address or phone number")->required();

  MailingArgs mailing;
  auto* ml = app.add_subcommand("mailing", "Mailings to segments, sent by the keeper (docs/mailings.md)");
  ml->require_subcommand(1);
  ml->fallthrough();
  ml->add_option("--config", mailing.config, "Configuration file")->capture_default_str();
  auto* ml_list = ml->add_subcommand("list", "The newest mailings: state, recipients, segment");
  auto* ml_show = ml->add_subcommand("show", "One mailing and its progress (counts only)");
  auto* ml_create = ml->add_subcommand("create", "Write a mailing (a draft) from a text file");
  ml_create->add_option("--name", mailing.name, "How staff find it")->required();
  ml_create->add_option("--subject", mailing.subject, "Its subject (placeholders as in docs/mailings.md)")->required();
  ml_create->add_option("--body-file", mailing.body_file, "Its text, UTF-8")->required();
  ml_create->add_option("--segment", mailing.segment, "The saved segment it goes to")->required();
  ml_create->add_flag("--include-unconfirmed", mailing.unconfirmed_too,
                      "Also members whose e-mail consent was never confirmed (an import's)");
  auto* ml_send = ml->add_subcommand("send", "Draw a draft's recipients and start it (serve sends it)");
  auto* ml_pause = ml->add_subcommand("pause", "Pause a mailing being sent");
  auto* ml_resume = ml->add_subcommand("resume", "Resume a paused mailing");
  auto* ml_cancel = ml->add_subcommand("cancel", "Cancel a mailing not yet sent");
  auto* ml_bounces = ml->add_subcommand("bounces", "Read the bounce mailbox ([bounces]) now, as serve does");
  for (auto* c : {ml_show, ml_send, ml_pause, ml_resume, ml_cancel}) {
    c->add_option("id", mailing.id, "The mailing's number")->required();
  }

  NotifyArgs notify;
  auto* notify_cmd = app.add_subcommand(
      "notify", "Send the breach notification to the records a blast radius names (docs/mailings.md)");
  notify_cmd->add_option("--config", notify.config, "Configuration file")->capture_default_str();
  notify_cmd->add_option("--from-blast-radius", notify.blast_radius,
                         "The CSV `rempart audit blast-radius --csv` wrote")->required();
  notify_cmd->add_option("--template", notify.template_name, "The notice's template")
      ->check(CLI::IsMember({"breach"}))
      ->capture_default_str();
  notify_cmd->add_option("--lang", notify.lang, "Its language")->check(CLI::IsMember({"fr", "en"}))->capture_default_str();
  notify_cmd->add_option("--details-file", notify.details_file,
                         "What happened, what it may mean, what was done, whom to ask (UTF-8 text)")
      ->required();

  auto* keys = app.add_subcommand(
      "keys", "The keeper keyring: versions, rotation, shares for trustees (docs/key-custody.md)");
  keys->require_subcommand(1);
  KeysBackupArgs keys_backup;
  auto* keys_backup_cmd =
      keys->add_subcommand("backup", "Split the keeper keyring into shares, any THRESHOLD of which rebuild it");
  keys_backup_cmd->add_option("--keys", keys_backup.keys_dir, "Key directory holding keeper.keyring (plain)");
  keys_backup_cmd->add_option("--config", keys_backup.config,
                              "Or: the configuration, whose token opens a sealed keeper.keyring");
  keys_backup_cmd->add_option("--shares", keys_backup.shares, "How many shares: one a trustee (3..16)")->required();
  keys_backup_cmd->add_option("--threshold", keys_backup.threshold, "How many of them rebuild it (2..shares-1)")
      ->required();
  keys_backup_cmd->add_option("--out", keys_backup.out_dir,
                              "New or empty directory for the share files (created with mode 0700)")
      ->required();
  KeysRestoreArgs keys_restore;
  auto* keys_restore_cmd = keys->add_subcommand(
      "restore", "Rebuild keeper.keyring and intake.keyring from shares (files, or pasted on stdin)");
  keys_restore_cmd->add_option("--keys", keys_restore.keys_dir, "New key directory to write the keyrings into")
      ->required();
  keys_restore_cmd->add_option("shares", keys_restore.share_files, "Share files (none: read the shares from stdin)");
  std::filesystem::path keys_config;
  auto* keys_rotate_cmd = keys->add_subcommand(
      "rotate", "Make a new version of every key current; the keeper moves the records to it in the background");
  keys_rotate_cmd->add_option("--config", keys_config, "Configuration file")->required();
  std::string rotate_key = "all";
  keys_rotate_cmd
      ->add_option("--key", rotate_key,
                   "all: every key but the blind-index key (the default); blind-index: that one too (then run "
                   "`supporters reindex`)")
      ->check(CLI::IsMember({"all", "blind-index"}));
  auto* keys_seal_cmd = keys->add_subcommand(
      "seal", "Seal keeper.keyring with the PKCS#11 token the configuration names ([keys] provider = \"pkcs11\")");
  keys_seal_cmd->add_option("--config", keys_config, "Configuration file")->required();
  auto* keys_rewrap_cmd = keys->add_subcommand(
      "rewrap", "Move every record to the current key version now, in the foreground (a serving keeper does it itself)");
  keys_rewrap_cmd->add_option("--config", keys_config, "Configuration file")->required();
  auto* keys_status_cmd =
      keys->add_subcommand("status", "What depends on each key version: records, inbox, audit, accounts, exports");
  keys_status_cmd->add_option("--config", keys_config, "Configuration file")->required();
  std::uint32_t retire_version = 0;
  auto* keys_retire_cmd = keys->add_subcommand(
      "retire", "Drop an older key version's secrets once nothing depends on them (completes erasures in backups)");
  keys_retire_cmd->add_option("version", retire_version, "The key version to retire")->required();
  keys_retire_cmd->add_option("--config", keys_config, "Configuration file")->required();

  const BackupCommands backup(app);
  const IncidentCommands incident(app);

  // A bad command line exits 2, as every other usage error (CLI11 prints why).
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }

  if (auto code = backup.run()) return *code;
  if (auto code = incident.run()) return *code;
  if (*keys_backup_cmd) return run_keys_backup(keys_backup);
  if (*keys_rotate_cmd) {
    using Blind = rempart::crypto::KeeperKeyring::BlindIndexKey;
    return run_keys_rotate(keys_config, rotate_key == "blind-index" ? Blind::renew : Blind::carry_over);
  }
  if (*keys_seal_cmd) return run_keys_seal(keys_config);
  if (*keys_rewrap_cmd) return run_keys_rewrap(keys_config);
  if (*keys_status_cmd) return run_keys_status(keys_config);
  if (*keys_retire_cmd) return run_keys_retire(keys_config, retire_version);
  if (*keys_restore_cmd) return run_keys_restore(keys_restore);
  if (*export_decrypt_cmd) return run_export_decrypt(export_decrypt);
  if (*notify_cmd) return run_notify(notify);
  if (*ml_list) return run_mailing_list(mailing);
  if (*ml_show) return run_mailing_show(mailing);
  if (*ml_create) return run_mailing_create(mailing);
  if (*ml_send) return run_mailing_send(mailing);
  if (*ml_pause) return run_mailing_pause(mailing);
  if (*ml_resume) return run_mailing_resume(mailing);
  if (*ml_cancel) return run_mailing_cancel(mailing);
  if (*ml_bounces) return run_mailing_bounces(mailing);
  if (*canary_trace_cmd) return run_canary_trace(canary_trace);

  if (*admin_add_cmd) {
    admin_add.config = admin_config;
    return run_admin_add(admin_add);
  }
  if (*admin_list_cmd) return run_admin_list(admin_config);
  if (*admin_invite_cmd) return run_admin_invite(admin_config, admin_name, admin_role);
  if (*admin_disable_cmd) return run_admin_disable(admin_config, admin_name);
  if (*admin_enable_cmd) return run_admin_enable(admin_config, admin_name);
  if (*admin_role_cmd) return run_admin_set_role(admin_config, admin_name, admin_role);
  if (*admin_mfa_cmd) return run_admin_reset_mfa(admin_config, admin_name);
  if (*admin_unlock_cmd) return run_admin_unlock(admin_config, admin_name, admin_reason);
  if (*admin_revoke_cmd) return run_admin_revoke_sessions(admin_config, admin_name);
  if (*token_create_cmd) {
    token_create.config = admin_config;
    return run_admin_token_create(token_create);
  }
  if (*token_list_cmd) return run_admin_token_list(admin_config);
  if (*token_revoke_cmd) return run_admin_token_revoke(admin_config, token_id);

  if (*honey_plant_cmd) return run_honeytokens_plant(honey_plant);
  if (*honey_count_cmd) return run_honeytokens_count(honey_plant.config);
  if (*init_cmd) return run_init(init);
  if (*migrate_cmd) return run_migrate(migrate);
  if (*serve_cmd) {
    serve.role = role == "intake" ? Role::intake : role == "keeper" ? Role::keeper : Role::all;
    return run_serve(serve);
  }
  if (*count_cmd) return run_count(config);
  if (*show_cmd) {
    show.config = config;
    return run_show(show);
  }
  if (*import_cmd) {
    imp.config = config;
    imp.progress = !no_progress;
    return run_import(imp);
  }
  if (*synth_cmd) {
    synth.config = config;
    return run_synth(synth);
  }
  if (*reindex_cmd) {
    reindex.config = config;
    reindex.progress = !reindex_no_progress;
    return run_reindex(reindex);
  }
  if (*ret_report || *ret_run) {
    retention.run = ret_run->parsed();
    return run_retention(retention);
  }
  if (*verify_cmd) {
    verify.config = audit_config;
    return run_audit_verify(verify);
  }
  if (*checkpoint_cmd) return run_audit_checkpoint(audit_config);
  if (*query_cmd) {
    query.config = audit_config;
    return run_audit_query(query);
  }
  if (*blast_cmd) {
    blast.config = audit_config;
    return run_audit_blast_radius(blast);
  }
  return 2;
}
