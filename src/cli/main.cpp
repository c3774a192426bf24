// Composition root: parses the command line and hands over to a command.
#include <CLI/CLI.hpp>

#include "cli/commands.hpp"

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
  init_cmd->add_option("--checkpoints", init.checkpoints,
                       "Audit checkpoint file, outside the data directory (default: next to the key directory)");

  ServeArgs serve;
  std::string role = "all";
  auto* serve_cmd = app.add_subcommand("serve", "Run the intake (public) and/or keeper (internal) roles");
  serve_cmd->add_option("--config", serve.config, "Configuration file")->capture_default_str();
  serve_cmd->add_option("--role", role, "all | intake | keeper")
      ->check(CLI::IsMember({"all", "intake", "keeper"}))
      ->capture_default_str();
  serve_cmd->add_option("--listen", serve.listen, "Override the intake address HOST:PORT (port 0: any free port)");

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
  import_cmd->add_option("--map", imp.map, "Columns, e.g. given_name=Prénom,email=Courriel");
  bool no_progress = false;
  import_cmd->add_flag("--no-progress", no_progress, "Do not draw a progress bar");

  SynthArgs synth;
  auto* synth_cmd = sup->add_subcommand("synth", "Create synthetic supporters for benchmarks and drills");
  synth_cmd->add_option("count", synth.count, "How many")->capture_default_str();
  synth_cmd->add_option("--phones", synth.phones, "How many of them have a phone")->capture_default_str();
  synth_cmd->add_option("--seed", synth.seed, "Generator seed")->capture_default_str();

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
  query_cmd->add_option("--actor", query.actor, "e.g. keeper, operator:alice, account:ID, token:ID");
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
  blast_cmd->add_option("--actor", blast.actor, "Whose accesses");
  blast_cmd->add_option("--token", blast.token, "An API token's accesses (actor token:ID)");
  blast_cmd->add_option("--since", blast.since, "From (inclusive), UTC");
  blast_cmd->add_option("--until", blast.until, "To (exclusive), UTC");
  blast_cmd->add_option("--csv", blast.csv, "Write the record ids to this CSV file");

  CLI11_PARSE(app, argc, argv);

  if (*init_cmd) return run_init(init);
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
