// Package migrate embeds the versioned migration files of every database, so that the binary
// can apply them and tell whether a database is behind. Layout: <database>/<dialect>/*.sql.
package migrate

import "embed"

// Files holds <database>/<dialect>/ with the atlas-format migration files and atlas.sum.
//
//go:embed */postgres */sqlite
var Files embed.FS
