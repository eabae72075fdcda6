package main

import (
	"bufio"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/multidb/multidb/internal/config"
	"github.com/multidb/multidb/internal/database"
	"github.com/multidb/multidb/internal/migration"
)

// migrateCmd runs `multidb migrate [up|down N|status|new NAME] [--db NAME] [--dry-run]`.
func migrateCmd(ctx context.Context, args []string, stdout io.Writer) error {
	action := "up"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		action, args = args[0], args[1:]
	}
	fs := flag.NewFlagSet("migrate "+action, flag.ContinueOnError)
	only := fs.String("db", "", "work on this database only")
	dryRun := fs.Bool("dry-run", false, "print the SQL instead of running it")
	devURL := fs.String("dev-url", "", "PostgreSQL server for scratch databases (default $MIGRATION_DEV_URL or the local server)")
	asJSON := fs.Bool("json", false, "status: print JSON for scripts")
	yes := fs.Bool("yes", false, "down: revert without asking")
	var renames []migration.Rename
	fs.Func("rename", "new: declare a rename, table.old_column:new_column or old_table:new_table (repeatable)", func(v string) error {
		r, err := migration.ParseRename(v)
		if err == nil {
			renames = append(renames, r)
		}
		return err
	})
	// Flags may come before or after the positional argument: `down 2 --db users`.
	var positional []string
	for {
		if err := fs.Parse(args); err != nil {
			return fmt.Errorf("%w: %v", errUsage, err)
		}
		if fs.NArg() == 0 {
			break
		}
		positional = append(positional, fs.Arg(0))
		args = fs.Args()[1:]
	}

	switch action {
	case "new":
		return newMigration(ctx, positional, *only, *devURL, renames, stdout)
	case "hash":
		return hashMigrations(positional, *only, stdout)
	case "lint":
		return lintMigrations(ctx, *only, *devURL, stdout)
	}
	n := 0
	switch action {
	case "baseline":
		if *only == "" || len(positional) > 1 {
			return fmt.Errorf("%w: migrate baseline --db NAME [VERSION]: name the one database to baseline", errUsage)
		}
	case "up", "status":
		if len(positional) > 0 {
			return fmt.Errorf("%w: migrate %s takes no argument, got %q", errUsage, action, positional)
		}
	case "down":
		if len(positional) != 1 {
			return fmt.Errorf("%w: migrate down N: say how many files to revert", errUsage)
		}
		var err error
		if n, err = strconv.Atoi(positional[0]); err != nil || n < 1 {
			return fmt.Errorf("%w: migrate down N: N must be a positive number, got %q", errUsage, positional[0])
		}
	default:
		return fmt.Errorf("%w: migrate %q: use up, down N, status, baseline, new NAME, hash or lint", errUsage, action)
	}

	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	set, err := openReachable(ctx, cfg, *only)
	if err != nil {
		return err
	}
	defer set.Close()

	opts := []migration.Option{migration.WithLog(stdout)}
	if *dryRun {
		opts = append(opts, migration.WithDryRun(stdout))
	}
	if url := devServer(*devURL, cfg.Lookup); url != "" {
		opts = append(opts, migration.WithDevURL(url))
	}
	migrators := make([]namedMigrator, 0, len(set.DBs))
	for _, db := range selected(set, *only) {
		m, err := migration.New(db, opts...)
		if err != nil {
			return err
		}
		migrators = append(migrators, namedMigrator{db.Name, db, m})
	}
	switch action {
	case "status":
		return printStatus(ctx, migrators, *asJSON, stdout)
	case "baseline":
		version := ""
		if len(positional) == 1 {
			version = positional[0]
		}
		f, err := migrators[0].Baseline(ctx, version)
		if err != nil {
			return err
		}
		if !*dryRun {
			fmt.Fprintf(stdout, "%s: recorded as migrated up to %s; later files apply with multidb migrate\n", *only, f)
		}
		return nil
	case "down":
		return down(ctx, cfg.Env, migrators, n, *only, *yes, *dryRun, stdout)
	default:
		// Verify every database before changing any, so a tampered directory or a database
		// from another project stops the run before anything is applied.
		for _, m := range migrators {
			if _, err := m.Status(ctx); err != nil {
				return err
			}
		}
		for _, m := range migrators {
			applied, err := m.Up(ctx, 0)
			if err != nil {
				return err
			}
			if len(applied) == 0 && !*dryRun {
				fmt.Fprintf(stdout, "%s: up to date\n", m.name)
			}
		}
		return nil
	}
}

// confirmIn is where down reads a typed confirmation; terminal reports whether it is a terminal.
var (
	confirmIn io.Reader = os.Stdin
	terminal            = func() bool {
		fi, err := os.Stdin.Stat()
		return err == nil && fi.Mode()&os.ModeCharDevice != 0
	}
)

// errNotConfirmed: down outside development was not confirmed.
var errNotConfirmed = errors.New("migrate down was not confirmed")

// down reverts the last n files of the selected databases. It first prints what each will
// drop and how many rows those tables hold. Outside development it reverts one database,
// named with --db, and only with --yes or the database's name typed on a terminal.
func down(ctx context.Context, env string, migrators []namedMigrator, n int, only string, yes, dryRun bool, stdout io.Writer) error {
	guarded := env != config.Development && env != config.Test
	if guarded && only == "" {
		return fmt.Errorf("%w: in ENV=%s, migrate down reverts one database at a time: name it with --db", errUsage, env)
	}
	for _, m := range migrators {
		dp, err := m.PlanDown(ctx, n)
		if err != nil {
			return err
		}
		if dp == nil {
			fmt.Fprintf(stdout, "%s: no migration is applied; nothing to revert\n", m.name)
			continue
		}
		names := make([]string, len(dp.Files))
		for i, f := range dp.Files {
			names[i] = f.String()
		}
		fmt.Fprintf(stdout, "%s: down %d reverts %s\n", m.name, n, strings.Join(names, ", "))
		for _, t := range dp.Tables {
			fmt.Fprintf(stdout, "  drops table %s (%s)\n", t, rowCount(ctx, m.db, t))
		}
		for _, c := range dp.Columns {
			table, _, _ := strings.Cut(c, ".")
			fmt.Fprintf(stdout, "  drops column %s (%s of %s)\n", c, rowCount(ctx, m.db, table), table)
		}
		if len(dp.Tables) == 0 && len(dp.Columns) == 0 {
			fmt.Fprintf(stdout, "  drops no table or column (%d statements)\n", len(dp.Statements))
		}
		if guarded && !yes && !dryRun {
			if !terminal() {
				return fmt.Errorf("%w: in ENV=%s, pass --yes, or run it on a terminal to confirm", errNotConfirmed, env)
			}
			fmt.Fprintf(stdout, "type %s to revert it: ", m.name)
			line, _ := bufio.NewReader(confirmIn).ReadString('\n')
			if strings.TrimSpace(line) != m.name {
				return fmt.Errorf("%w: %s was not typed; nothing was reverted", errNotConfirmed, m.name)
			}
		}
		if _, err := m.Down(ctx, n); err != nil {
			return err
		}
	}
	return nil
}

// rowCount says how many rows table holds, for the warning before a drop.
func rowCount(ctx context.Context, db *database.DB, table string) string {
	var n int64
	if err := db.SQL.QueryRowContext(ctx, `SELECT count(*) FROM "`+strings.ReplaceAll(table, `"`, `""`)+`"`).Scan(&n); err != nil {
		return "rows unknown: " + err.Error()
	}
	if n == 1 {
		return "1 row"
	}
	return fmt.Sprintf("%d rows", n)
}

type namedMigrator struct {
	name string
	db   *database.DB
	*migration.Migrator
}

// Exit codes of `migrate status`, for deploy scripts: 0 when every database is current.
const (
	exitBehind = 3 // a database lacks files the binary ships: run migrate up
	exitAhead  = 4 // a database has applied files the binary does not know: a newer binary migrated it
)

// statusJSON is one database in `migrate status --json`.
type statusJSON struct {
	Database string   `json:"database"`
	State    string   `json:"state"` // current, behind, ahead or error
	Current  string   `json:"current"`
	Latest   string   `json:"latest"`
	Applied  int      `json:"applied"`
	Pending  []string `json:"pending"`
	Ahead    []string `json:"ahead"`
	Error    string   `json:"error,omitempty"`
}

func printStatus(ctx context.Context, migrators []namedMigrator, asJSON bool, stdout io.Writer) error {
	var (
		rows     []statusJSON
		firstErr error
		behind   []string
		ahead    []string
	)
	for _, m := range migrators {
		row := statusJSON{Database: m.name, Pending: []string{}, Ahead: []string{}}
		st, err := m.Status(ctx)
		if err != nil {
			row.State, row.Error = "error", err.Error()
			rows = append(rows, row)
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		row.Current, row.Latest, row.Applied = st.Current, st.Latest, len(st.Applied)
		for _, f := range st.Pending {
			row.Pending = append(row.Pending, f.String())
		}
		for _, f := range st.Ahead {
			row.Ahead = append(row.Ahead, f.String())
		}
		switch {
		case len(st.Ahead) > 0:
			row.State = "ahead"
			ahead = append(ahead, m.name)
		case len(st.Pending) > 0:
			row.State = "behind"
			behind = append(behind, m.name)
		default:
			row.State = "current"
		}
		rows = append(rows, row)
	}
	if asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rows); err != nil {
			return err
		}
	} else {
		w := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(w, "DATABASE\tCURRENT\tAPPLIED\tPENDING\tSTATE")
		for _, r := range rows {
			state := r.State
			switch r.State {
			case "error":
				fmt.Fprintf(w, "%s\t-\t-\t-\terror: %s\n", r.Database, r.Error)
				continue
			case "behind":
				state = "behind: " + strings.Join(r.Pending, ", ")
			case "ahead":
				state = "ahead: " + strings.Join(r.Ahead, ", ") + " (this binary knows up to " + cmp.Or(r.Latest, "none") + ")"
			}
			fmt.Fprintf(w, "%s\t%s\t%d\t%d\t%s\n", r.Database, cmp.Or(r.Current, "-"), r.Applied, len(r.Pending), state)
		}
		if err := w.Flush(); err != nil {
			return err
		}
	}
	switch {
	case firstErr != nil:
		return firstErr
	case len(ahead) > 0:
		return &exitError{code: exitAhead, msg: "ahead of this binary: " + strings.Join(ahead, ", ") + "; deploy the newer binary"}
	case len(behind) > 0:
		return &exitError{code: exitBehind, msg: "behind: " + strings.Join(behind, ", ") + "; run make migrate ENV=… (multidb migrate up)"}
	}
	return nil
}

// newMigration writes the next migration file of one database for every dialect.
func newMigration(ctx context.Context, positional []string, db, devURL string, renames []migration.Rename, stdout io.Writer) error {
	if len(positional) != 1 || db == "" {
		return fmt.Errorf("%w: migrate new NAME --db DATABASE (make migration DB=users NAME=add_avatar)", errUsage)
	}
	name := positional[0]
	if !identifier.MatchString(name) {
		return fmt.Errorf("%w: NAME=%q must be a name such as add_avatar", errUsage, name)
	}
	spec, ok := database.Lookup(db)
	if !ok {
		return fmt.Errorf("%w: DB=%q is not a database; use one of %v", errUsage, db, database.Names())
	}
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	url := devServer(devURL, cfg.Lookup)
	if url == "" {
		url = migration.DefaultDevURL
	}
	files, err := migration.Generate(ctx, "migrate", spec, name, url, renames...)
	if err != nil {
		return fmt.Errorf("%w (scratch PostgreSQL server: MIGRATION_DEV_URL=%s)", err, url)
	}
	if len(files) == 0 {
		fmt.Fprintf(stdout, "%s: the schema matches the migrations; nothing to write\n", db)
	}
	for _, f := range files {
		fmt.Fprintf(stdout, "wrote %s\n", f)
	}
	return nil
}

// hashMigrations rewrites atlas.sum of every dialect's directory of one database, after a
// reviewed hand edit of its files.
func hashMigrations(positional []string, db string, stdout io.Writer) error {
	if db == "" || len(positional) > 0 {
		return fmt.Errorf("%w: migrate hash --db DATABASE: name the database whose directory you edited", errUsage)
	}
	if _, ok := database.Lookup(db); !ok {
		return fmt.Errorf("%w: --db %q is not a database; use one of %v", errUsage, db, database.Names())
	}
	for _, dir := range slices.Sorted(maps.Keys(migration.Dialects)) {
		path := filepath.Join("migrate", db, dir)
		if _, err := os.Stat(path); err != nil {
			return fmt.Errorf("migrate hash: %w; run it from the repository's root", err)
		}
		if err := migration.Hash(path); err != nil {
			return fmt.Errorf("migrate hash: %w", err)
		}
		fmt.Fprintf(stdout, "wrote %s\n", filepath.Join(path, "atlas.sum"))
	}
	return nil
}

// lintMigrations reports destructive changes (dropped tables, columns) in the latest file of
// every migration directory, before it lands. It exits non-zero when it finds any.
func lintMigrations(ctx context.Context, only, devURL string, stdout io.Writer) error {
	if only != "" {
		if _, ok := database.Lookup(only); !ok {
			return fmt.Errorf("%w: --db %q is not a database; use one of %v", errUsage, only, database.Names())
		}
	}
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	url := devServer(devURL, cfg.Lookup)
	found := 0
	for _, name := range database.Names() {
		if only != "" && name != only {
			continue
		}
		for dir, dialect := range migration.Dialects {
			d, err := migration.EmbeddedDir(name, dialect)
			if err != nil {
				return err
			}
			diags, err := migration.Lint(ctx, d, dialect, url)
			if err != nil {
				return fmt.Errorf("lint %s/%s: %w", name, dir, err)
			}
			for _, diag := range diags {
				fmt.Fprintf(stdout, "migrate/%s/%s/%s\n", name, dir, diag)
			}
			found += len(diags)
		}
	}
	if found > 0 {
		return fmt.Errorf("lint: %d destructive change(s); make sure they are intended", found)
	}
	fmt.Fprintln(stdout, "lint: no destructive changes")
	return nil
}

// devServer is the PostgreSQL server for scratch databases: the flag, else MIGRATION_DEV_URL.
func devServer(flagValue string, lookup func(string) (string, bool)) string {
	if flagValue != "" {
		return flagValue
	}
	v, _ := lookup("MIGRATION_DEV_URL")
	return v
}
