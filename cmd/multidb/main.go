// Command multidb serves one GraphQL API over several databases, and migrates and seeds them.
//
//	multidb serve                       serve GraphQL on $PORT
//	multidb migrate [up|down N|status|new NAME] [--db NAME] [--dry-run]
//	multidb seed [--db NAME]
//	multidb new schema|seed DB NAME     scaffold an ent schema or a seeder
//	multidb version
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/multidb/multidb/internal/config"
	"github.com/multidb/multidb/internal/database"
	"github.com/multidb/multidb/internal/requestid"
)

// version is set at build time: -ldflags "-X main.version=…".
var version = "dev"

const usage = `multidb: one GraphQL API over several databases.

Usage:
  multidb serve                          serve GraphQL on $PORT (default 8080)
  multidb migrate [up]   [--db NAME] [--dry-run]   apply pending migrations
  multidb migrate down N [--db NAME] [--dry-run] [--yes]
                                                   revert the last N migrations; outside development
                                                   --db is required and --yes or a typed confirmation
  multidb migrate status [--db NAME] [--json]      applied and pending migrations; exits 0 when
                                                   current, 3 when behind, 4 when ahead of the binary
  multidb migrate baseline --db NAME [VERSION]     record an existing schema as migrated up to VERSION
                                                   (the latest file by default) once it matches
  multidb migrate new NAME --db NAME [--rename t.old:new]
                                                   generate the next migration from the ent schema
  multidb migrate hash --db NAME                   rewrite atlas.sum after a reviewed hand edit
  multidb migrate lint [--db NAME]                 report destructive changes in the latest files
  multidb seed [--db NAME]                         run the seeders of $ENV that have not run yet
  multidb adopt --db NAME --url URL                adopt an existing database: ent schema, init
                                                   migration, baseline (then make generate)
  multidb new schema DB NAME                       scaffold an ent schema with a name field
  multidb new seed DB NAME                         scaffold a seeder
  multidb rollup rebuild --from T --to T          recompute PostgreSQL's per-hour rollups of the
                                                   events in [T, T) (RFC 3339 or a UTC date)
  multidb healthcheck                              exit 0 when the local server answers /healthz
  multidb version

Configuration comes from the environment and .env files; see .env.example.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "multidb: %v\n", err)
		var ee *exitError
		if errors.As(err, &ee) {
			os.Exit(ee.code)
		}
		if errors.Is(err, config.ErrConfig) || errors.Is(err, errUsage) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

var errUsage = errors.New("usage")

// exitError ends the process with its code: a result a script tests, not a failure of the
// command (`migrate status` when a database is behind or ahead).
type exitError struct {
	code int
	msg  string
}

func (e *exitError) Error() string { return e.msg }

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("%w: name a command", errUsage)
	}
	switch cmd, rest := args[0], args[1:]; cmd {
	case "serve":
		return serve(ctx, rest, stderr)
	case "migrate":
		return migrateCmd(ctx, rest, stdout)
	case "seed":
		return seedCmd(ctx, rest, stdout)
	case "adopt":
		return adoptCmd(ctx, rest, stdout)
	case "new":
		return scaffoldCmd(rest, stdout)
	case "rollup":
		return rollupCmd(ctx, rest, stdout)
	case "healthcheck":
		return healthcheck(ctx)
	case "version":
		fmt.Fprintln(stdout, "multidb", version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("%w: unknown command %q", errUsage, cmd)
	}
}

// loadConfig reads the configuration of every registered database from the working directory.
func loadConfig() (*config.Config, error) {
	return config.Load(".", database.Names())
}

// newLogger logs text in development and JSON elsewhere, for log collectors.
func newLogger(cfg *config.Config, w io.Writer) *slog.Logger {
	var h slog.Handler = slog.NewJSONHandler(w, nil)
	if cfg.Env == config.Development || cfg.Env == config.Test {
		h = slog.NewTextHandler(w, nil)
	}
	return slog.New(requestid.NewHandler(h))
}
