// Package migration plans, applies, reverts and reports versioned migrations, one database at a time.
//
// The files are atlas-format directories (migrate/<db>/<dialect>/ with atlas.sum), written by
// Generate from the ent schema and embedded in the binary. A Migrator applies them to one open
// database with atlas's library, adding what the library leaves to its caller:
//
//   - atlas.sum is verified before anything runs, and a database whose history the directory
//     contradicts (an applied file missing or changed, a new file older than the latest applied
//     one, tables but no history) is refused;
//   - each database records its revisions in its own rows of RevisionsTable, created on first
//     use, through a migrate.RevisionReadWriter;
//   - a PostgreSQL session advisory lock (LockKey) keeps migrators of one database apart; on
//     SQLite, write transactions (BEGIN IMMEDIATE) do;
//   - every file runs in a transaction together with its revision row, so that a failure, or a
//     killed process, leaves the database at its last complete file;
//   - Down plans the reverse of the last files as the atlas CLI does, by diffing the live schema
//     against the directory replayed on a scratch database.
//
// Lint runs atlas's destructive-change analyzer over the latest file of a directory.
package migration
