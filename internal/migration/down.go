package migration

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"ariga.io/atlas/sql/migrate"
	"ariga.io/atlas/sql/schema"
	"github.com/lib/pq"

	"github.com/multidb/multidb/internal/config"
)

// Down reverts the last n applied files (n at least 1; all of them when fewer are applied) and
// returns them, newest first. It plans the reverse as the atlas CLI's "migrate down" does: it
// replays the applied files up to the target version on a scratch database (in-memory SQLite,
// or a temporary database on the PostgreSQL server, see WithDevURL), and diffs the live schema
// against that state. The plan runs in one transaction with the deletion of the revisions, so
// a failure leaves the database where it was. Only tables that the files create are touched;
// data that a file inserted is not removed. With WithDryRun it prints the plan and returns the
// files it would revert.
func (m *Migrator) Down(ctx context.Context, n int) ([]File, error) {
	if n < 1 {
		return nil, fmt.Errorf("migrate %s: down %d: the number of files must be at least 1", m.name, n)
	}
	conn, end, err := m.session(ctx)
	if err != nil {
		return nil, err
	}
	defer end()
	dp, err := m.planDown(ctx, conn, n)
	if err != nil || dp == nil {
		return nil, err
	}
	st, undo, reverted, what, plan := dp.st, dp.undo, dp.Files, dp.what, dp.plan
	versions := make([]string, len(reverted))
	for i, f := range reverted {
		versions[i] = f.String()
	}
	stmts := dp.Statements
	if m.dryRun != nil {
		return reverted, m.print(what, stmts)
	}
	start := time.Now()
	err = m.transact(ctx, conn, func(tx *sql.Tx) error {
		// On SQLite nothing kept other migrators out while planning: check that the
		// history is still the one the plan reverts.
		rrw := &revisions{q: tx, db: m.name, dialect: m.dialect}
		now, err := rrw.ReadRevisions(ctx)
		if err != nil {
			return err
		}
		if len(now) != len(st.revs) || now[len(now)-1].Version != st.revs[len(st.revs)-1].Version {
			return errors.New("the database was migrated by another process meanwhile; run again")
		}
		for i, c := range plan.Changes {
			if _, err := tx.ExecContext(ctx, c.Cmd, c.Args...); err != nil {
				return fmt.Errorf("statement %d (%s): %w", i+1, excerpt(c.Cmd), err)
			}
		}
		for _, r := range undo {
			if err := rrw.DeleteRevision(ctx, r.Version); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("migrate %s: %s: %w", m.name, what, m.busy(err))
	}
	m.logf("reverted %s (%s, %s)", strings.Join(versions, ", "), plural(len(stmts), "statement"), time.Since(start).Round(time.Millisecond))
	return reverted, nil
}

// DownPlan is what Down would do: the files it reverts, newest first, its statements, and
// the tables and columns it drops (the data it loses).
type DownPlan struct {
	Files      []File
	Statements []string
	Tables     []string // dropped tables
	Columns    []string // dropped columns, "table.column"

	st   *state
	undo []*migrate.Revision
	what string
	plan *migrate.Plan
}

// PlanDown plans Down(n) and changes nothing; nil when nothing is applied.
func (m *Migrator) PlanDown(ctx context.Context, n int) (*DownPlan, error) {
	if n < 1 {
		return nil, fmt.Errorf("migrate %s: down %d: the number of files must be at least 1", m.name, n)
	}
	conn, err := m.db.SQL.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate %s: connect: %w", m.name, err)
	}
	defer conn.Close()
	return m.planDown(ctx, conn, n)
}

func (m *Migrator) planDown(ctx context.Context, conn *sql.Conn, n int) (*DownPlan, error) {
	st, err := m.load(ctx, conn, false, false)
	if err != nil {
		return nil, err
	}
	if len(st.revs) == 0 {
		return nil, nil
	}
	n = min(n, len(st.revs))
	undo := st.revs[len(st.revs)-n:]
	var (
		reverted = make([]File, n)
		versions = make([]string, n)
	)
	for i, r := range undo {
		if r.Type.Has(migrate.RevisionTypeBaseline) {
			return nil, fmt.Errorf("migrate %s: down %d: %s is the baseline the database was adopted at; it cannot be reverted", m.name, n, revFile(r))
		}
		reverted[n-1-i], versions[n-1-i] = revFile(r), revFile(r).String()
	}
	what := "revert " + strings.Join(versions, ", ")

	// The files the live schema reflects: the applied ones, and those a baseline stands for.
	var baseline string
	applied := make(map[string]bool, len(st.revs))
	for _, r := range st.revs {
		applied[r.Version] = true
		if r.Type.Has(migrate.RevisionTypeBaseline) {
			baseline = r.Version
		}
	}
	var files []migrate.File
	keep := 0 // files[:keep] are those the database keeps
	for _, f := range st.files {
		if applied[f.Version()] || f.Version() <= baseline {
			files = append(files, f)
			if f.Version() < undo[0].Version {
				keep++
			}
		}
	}
	plan, changes, err := m.reverse(ctx, conn, files, keep)
	if err != nil {
		return nil, fmt.Errorf("migrate %s: %s: %w", m.name, what, err)
	}
	dp := &DownPlan{Files: reverted, st: st, undo: undo, what: what, plan: plan}
	for _, c := range plan.Changes {
		dp.Statements = append(dp.Statements, c.Cmd)
	}
	for _, c := range changes {
		switch c := c.(type) {
		case *schema.DropTable:
			dp.Tables = append(dp.Tables, c.T.Name)
		case *schema.ModifyTable:
			for _, mc := range c.Changes {
				if dc, ok := mc.(*schema.DropColumn); ok {
					dp.Columns = append(dp.Columns, c.T.Name+"."+dc.C.Name)
				}
			}
		}
	}
	return dp, nil
}

// reverse plans the changes that take the live schema back to the state of files[:keep].
func (m *Migrator) reverse(ctx context.Context, conn *sql.Conn, files []migrate.File, keep int) (*migrate.Plan, []schema.Change, error) {
	dev, cleanup, err := m.devDB(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("scratch database: %w", err)
	}
	defer cleanup()
	devDrv, err := openDriver(m.dialect, dev)
	if err != nil {
		return nil, nil, fmt.Errorf("scratch database: %w", err)
	}
	if err := replay(ctx, devDrv, m.dialect, files[:keep]); err != nil {
		return nil, nil, err
	}
	target, err := devDrv.InspectSchema(ctx, "", nil)
	if err != nil {
		return nil, nil, fmt.Errorf("inspect scratch database: %w", err)
	}
	if err := replay(ctx, devDrv, m.dialect, files[keep:]); err != nil {
		return nil, nil, err
	}
	current, err := devDrv.InspectSchema(ctx, "", nil)
	if err != nil {
		return nil, nil, fmt.Errorf("inspect scratch database: %w", err)
	}
	drv, err := openDriver(m.dialect, conn)
	if err != nil {
		return nil, nil, err
	}
	live, err := drv.InspectSchema(ctx, "", &schema.InspectOptions{Exclude: bookkeeping})
	if err != nil {
		return nil, nil, fmt.Errorf("inspect: %w", err)
	}
	// Diff only what the files made: another database may share this schema.
	known := names(target, current)
	from := &schema.Schema{Name: live.Name, Realm: live.Realm, Attrs: live.Attrs}
	for _, t := range live.Tables {
		if known[t.Name] {
			from.Tables = append(from.Tables, t)
		}
	}
	for _, o := range live.Objects {
		if name, ok := objectName(o); ok && known[name] {
			from.Objects = append(from.Objects, o)
		}
	}
	to := &schema.Schema{Name: live.Name, Realm: live.Realm, Attrs: live.Attrs, Tables: target.Tables}
	for _, o := range target.Objects {
		if _, ok := objectName(o); ok {
			to.Objects = append(to.Objects, o)
		}
	}
	changes, err := drv.SchemaDiff(from, to)
	if err != nil {
		return nil, nil, fmt.Errorf("diff: %w", err)
	}
	if len(changes) == 0 {
		return &migrate.Plan{Name: "down"}, nil, nil
	}
	plan, err := drv.PlanChanges(ctx, "down", changes, func(o *migrate.PlanOptions) {
		o.SchemaQualifier = new(string) // statements run in the connection's own schema
	})
	if err != nil {
		return nil, nil, fmt.Errorf("plan: %w", err)
	}
	return plan, changes, nil
}

// devDB opens an empty scratch database of the dialect and returns the function that drops it.
func (m *Migrator) devDB(ctx context.Context) (*sql.DB, func(), error) {
	if m.dialect == config.SQLite {
		return scratchDatabase(ctx, config.SQLite, "")
	}
	url := m.devURL
	if url == "" {
		url = m.db.Config.DSN
	}
	if url == "" {
		return nil, nil, errors.New("no PostgreSQL server to create it on; set MIGRATION_DEV_URL")
	}
	db, cleanup, err := TempPostgres(ctx, url, "multidb_dev")
	var pqErr *pq.Error
	if errors.As(err, &pqErr) && pqErr.Code.Class() == "42" && m.devURL == "" {
		// insufficient_privilege (42501) and its kind: an application role may not create
		// databases, and should not need to.
		return nil, nil, fmt.Errorf("%w; this role may not create the scratch database on the application's server: set MIGRATION_DEV_URL (or --dev-url) to a PostgreSQL server where it may, e.g. a local postgres://postgres@127.0.0.1:5432/postgres", err)
	}
	return db, cleanup, err
}

// replay runs the statements of files on a scratch database, outside any transaction, as the
// files were written to run.
func replay(ctx context.Context, drv migrate.Driver, dialect string, files []migrate.File) error {
	for _, f := range files {
		stmts, err := scanStmts(dialect, f)
		if err != nil {
			return fmt.Errorf("replay %s: %w", f.Name(), err)
		}
		for i, s := range stmts {
			if _, err := drv.ExecContext(ctx, s.Text); err != nil {
				return fmt.Errorf("replay %s: statement %d (%s): %w", f.Name(), i+1, excerpt(s.Text), err)
			}
		}
	}
	return nil
}

// names returns the names of the tables and named types of the schemas.
func names(schemas ...*schema.Schema) map[string]bool {
	known := make(map[string]bool)
	for _, s := range schemas {
		for _, t := range s.Tables {
			known[t.Name] = true
		}
		for _, o := range s.Objects {
			if name, ok := objectName(o); ok {
				known[name] = true
			}
		}
	}
	return known
}

// objectName names the schema objects Down knows how to revert: enum types.
func objectName(o schema.Object) (string, bool) {
	if e, ok := o.(*schema.EnumType); ok {
		return e.T, true
	}
	return "", false
}

func revFile(r *migrate.Revision) File { return File{Version: r.Version, Description: r.Description} }
