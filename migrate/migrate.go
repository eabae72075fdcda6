// Package migrate embeds the versioned migration files of every database, so that the binary
// can apply them and tell whether a database is behind. Layout: <database>/<dialect>/*.sql.
package migrate

import "embed"

// Files holds <database>/<dialect>/ with the atlas-format migration files and atlas.sum, and
// the <database>/unmapped.txt of the databases with tables that have no ent type.
//
//go:embed */postgres */sqlite */unmapped.txt
var Files embed.FS
