#pragma once
// The PostgreSQL implementations of the store interfaces, on one database
// shared by every intake and keeper node (docs/postgresql.md). Each role
// connects as its own database role: the intake's may only insert into the
// inbox tables and take sign-up tokens (no SELECT: its inserts retry with
// ON CONFLICT DO NOTHING); the keeper's reads and writes rows but owns
// nothing, so it can change no schema, and the audit log and honeytokens
// are append-only to it. Only `rempart init --backend postgresql` (an
// administrator's connection) creates or migrates the schema.
//
// Commits are durable when they return (synchronous_commit as the server
// has it: leave it on). A lost connection is opened again, with backoff, at
// the start of the next transaction; a transaction it interrupted fails
// and nothing of it is acknowledged.
#include <memory>
#include <string>

#include "core/error.hpp"
#include "store/backend.hpp"
#include "store/postgres/connection.hpp"
#include "store/store.hpp"

namespace rempart::store {

// The postgresql backend of `o` (dsn, users, password files). Reads the
// password files when it opens a store. Errc::config if the dsn is empty.
Result<std::unique_ptr<Backend>> open_postgres_backend(const StorageOptions& o);

// The stores on their own, for tests and tools: each opens one connection.
Result<std::unique_ptr<IntakeStore>> open_postgres_intake(const postgres::ConnectOptions& o);
Result<std::unique_ptr<InboxStore>> open_postgres_inbox(const postgres::ConnectOptions& o);
Result<std::unique_ptr<KeeperStore>> open_postgres_keeper(const postgres::ConnectOptions& o);

namespace postgres::test_hooks {
// Test-only: the connection behind a store opened here (nullptr for any
// other store), so tests can try statements an attacker might inject.
PGconn* raw_handle(IntakeStore& store) noexcept;
PGconn* raw_handle(InboxStore& store) noexcept;
PGconn* raw_handle(KeeperStore& store) noexcept;
}  // namespace postgres::test_hooks

}  // namespace rempart::store
