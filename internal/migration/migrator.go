package migration

import (
	"cmp"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"strings"
	"time"

	"ariga.io/atlas/sql/migrate"
	"ariga.io/atlas/sql/postgres"
	"ariga.io/atlas/sql/schema"
	"ariga.io/atlas/sql/sqlite"

	"github.com/multidb/multidb/internal/config"
	"github.com/multidb/multidb/internal/database"
)

// Errors that callers tell apart with errors.Is. Every error the Migrator returns also names
// the database, and the file when there is one.
var (
	// ErrChecksum: the files do not match atlas.sum, or an applied file changed since.
	ErrChecksum = errors.New("migration files do not match atlas.sum")
	// ErrMissingFile: the database has applied a file that the directory no longer has.
	ErrMissingFile = errors.New("applied migration file is missing from the directory")
	// ErrOutOfOrder: a file not yet applied is older than the latest applied one.
	ErrOutOfOrder = errors.New("migration file added out of order")
	// ErrNotClean: the database has tables but no migration history (see WithBaseline).
	ErrNotClean = errors.New("database has tables but no migration history")
	// ErrLocked: another migrator kept the lock longer than the lock timeout.
	ErrLocked = errors.New("another migrator holds the lock")
	// ErrAhead: the database has applied versions newer than every file of the directory: it
	// was migrated by a newer binary.
	ErrAhead = errors.New("database is ahead of this binary's migrations")
	// ErrSchemaMismatch: the live schema is not what the directory replays to (see Baseline).
	ErrSchemaMismatch = errors.New("live schema does not match the migration directory")
	// ErrHasHistory: Baseline was asked of a database that already has a migration history.
	ErrHasHistory = errors.New("database already has a migration history")
)

// SeedsTable is the table in which internal/seed records the seeders that ran. Like
// RevisionsTable it is bookkeeping, never a table of the schema.
const SeedsTable = "multidb_seeds"

// bookkeeping are the tables multidb keeps for itself in every database.
var bookkeeping = []string{RevisionsTable, SeedsTable}

// DefaultLockTimeout is how long a migrator waits for another one to finish.
const DefaultLockTimeout = time.Minute

// Migrator migrates one open database from the files of a migration directory for its dialect.
// Its methods may be called in any order and from several processes at once: a lock keeps
// migrators of one database apart.
type Migrator struct {
	db          *database.DB
	name        string
	dialect     string
	dir         migrate.Dir
	dryRun      io.Writer
	log         io.Writer
	lockTimeout time.Duration
	baseline    string
	devURL      string
}

// Option configures a Migrator.
type Option func(*Migrator)

// WithDir migrates from dir instead of the directory the binary embeds for the database.
func WithDir(dir migrate.Dir) Option {
	return func(m *Migrator) { m.dir = dir }
}

// WithDryRun makes Up and Down write the SQL they would run to w, and run and record nothing.
func WithDryRun(w io.Writer) Option {
	return func(m *Migrator) { m.dryRun = w }
}

// WithLog writes one line to w for every file applied or reverted, e.g.
// "users: applied 20261125114532_init (3 statements, 12ms)".
func WithLog(w io.Writer) Option {
	return func(m *Migrator) { m.log = w }
}

// WithLockTimeout sets how long to wait for another migrator of the same database before
// failing with ErrLocked (DefaultLockTimeout by default; zero or less waits without limit).
// On SQLite the wait is the connection's busy_timeout instead.
func WithLockTimeout(d time.Duration) Option {
	return func(m *Migrator) { m.lockTimeout = d }
}

// WithBaseline adopts a database that has tables but no migration history: the file of the
// given version and those before it are recorded as a baseline, not run, and later files
// are applied. Without it, such a database is refused with ErrNotClean.
func WithBaseline(version string) Option {
	return func(m *Migrator) { m.baseline = version }
}

// WithDevURL names the PostgreSQL server on which Down creates its temporary scratch database
// (by default the server of the database being migrated, which needs the CREATEDB privilege).
func WithDevURL(url string) Option {
	return func(m *Migrator) { m.devURL = url }
}

// New returns a Migrator for db. Without WithDir it migrates from the files the binary embeds
// for db's name and dialect.
func New(db *database.DB, opts ...Option) (*Migrator, error) {
	if db == nil || db.SQL == nil {
		return nil, errors.New("migrate: no open database")
	}
	dialect := db.Config.Dialect
	if db.Driver != nil {
		dialect = db.Dialect()
	}
	m := &Migrator{db: db, name: db.Name, dialect: dialect, lockTimeout: DefaultLockTimeout}
	switch dialect {
	case config.Postgres:
	case config.SQLite:
		// Planning and every file run in write transactions, which must take the write lock
		// when they begin: a deferred one could fail half-way with SQLITE_BUSY.
		if dsn := db.Config.DSN; dsn != "" && !strings.Contains(dsn, "_txlock=immediate") {
			return nil, fmt.Errorf("migrate %s: the SQLite DSN must set _txlock=immediate (see config.SQLiteDSN)", m.name)
		}
	default:
		return nil, fmt.Errorf("migrate %s: dialect %q is not supported", m.name, dialect)
	}
	for _, opt := range opts {
		opt(m)
	}
	if m.dir == nil {
		dir, err := EmbeddedDir(m.name, dialect)
		if err != nil {
			return nil, fmt.Errorf("migrate %s: %w", m.name, err)
		}
		m.dir = dir
	}
	return m, nil
}

// File names a migration file by its version and description.
type File struct {
	Version     string // "20261125114532"
	Description string // "init"
}

// String is the file's name without ".sql", e.g. "20261125114532_init".
func (f File) String() string {
	if f.Description == "" {
		return f.Version
	}
	return f.Version + "_" + f.Description
}

// Applied is a migration file recorded in the database.
type Applied struct {
	File
	Statements int
	Duration   time.Duration
	AppliedAt  time.Time
	// Baseline is set when the file was recorded by WithBaseline, not run.
	Baseline bool
}

// Status is where a database stands against its migration directory.
type Status struct {
	Database string
	// Current is the version of the latest applied file; empty when none is.
	Current string
	Applied []Applied
	Pending []File
	// Latest is the version of the directory's newest file; empty when it has none.
	Latest string
	// Ahead are versions the database has applied that are newer than every file of the
	// directory: a newer binary migrated it. Pending is empty then.
	Ahead []File
}

// OK reports whether every file of the directory is applied and no unknown one is.
func (s *Status) OK() bool { return len(s.Pending) == 0 && len(s.Ahead) == 0 }

// Status reports the applied and pending files. It changes nothing and takes no lock. It
// fails, like Up would, when the directory does not match atlas.sum, an applied file is
// missing or changed, a file is out of order, or the database is not clean.
func (m *Migrator) Status(ctx context.Context) (*Status, error) {
	st, err := m.load(ctx, m.db.SQL, false, true)
	if errors.Is(err, ErrAhead) && st != nil {
		s := &Status{Database: m.name, Latest: latestVersion(st.files), Ahead: st.ahead}
		for _, r := range st.revs {
			s.Applied = append(s.Applied, appliedOf(r))
			s.Current = r.Version
		}
		return s, nil
	}
	if err != nil {
		return nil, err
	}
	s := &Status{Database: m.name, Latest: latestVersion(st.files)}
	for _, r := range st.revs {
		s.Applied = append(s.Applied, appliedOf(r))
		s.Current = r.Version
	}
	for _, f := range st.pending {
		s.Pending = append(s.Pending, fileOf(f))
	}
	return s, nil
}

// Behind returns the number of files the database has not applied yet. A server is not ready
// while it is above zero, or while Behind fails.
func (m *Migrator) Behind(ctx context.Context) (int, error) {
	s, err := m.Status(ctx)
	if err != nil {
		return 0, err
	}
	return len(s.Pending), nil
}

// Up applies the next n pending files, or all of them when n is 0, each in its own transaction
// together with its revision row, and returns the files it applied. It stops at the first
// failing file, which leaves nothing behind: the database stays at the last file that
// succeeded. With WithDryRun it returns the files it would apply.
func (m *Migrator) Up(ctx context.Context, n int) ([]Applied, error) {
	if n < 0 {
		return nil, fmt.Errorf("migrate %s: up %d: the number of files must not be negative", m.name, n)
	}
	conn, end, err := m.session(ctx)
	if err != nil {
		return nil, err
	}
	defer end()
	st, err := m.plan(ctx, conn)
	if err != nil {
		return nil, err
	}
	pending := st.pending
	if n > 0 && n < len(pending) {
		pending = pending[:n]
	}
	var applied []Applied
	for _, f := range pending {
		stmts, err := m.stmts(f)
		if err != nil {
			return applied, err
		}
		if m.dryRun != nil {
			if err := m.print(fmt.Sprintf("apply %s", f.Name()), texts(stmts)); err != nil {
				return applied, err
			}
			applied = append(applied, Applied{File: fileOf(f), Statements: len(stmts)})
			continue
		}
		a, ok, err := m.apply(ctx, conn, f, stmts)
		if err != nil {
			return applied, err
		}
		if !ok {
			continue // another migrator applied it between our plan and our transaction
		}
		applied = append(applied, a)
		m.logf("applied %s (%s, %s)", a.File, plural(a.Statements, "statement"), a.Duration.Round(time.Millisecond))
	}
	return applied, nil
}

// state is what load finds: the directory's files, the database's revisions and the files it
// has not applied.
type state struct {
	files   []migrate.File
	revs    []*migrate.Revision
	pending []migrate.File
	ahead   []File
}

// plan loads the state in a write transaction (on SQLite, so that migrators in other
// processes wait) and creates the revisions table on first use; a dry run writes nothing.
func (m *Migrator) plan(ctx context.Context, conn *sql.Conn) (*state, error) {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("migrate %s: begin: %w", m.name, m.busy(err))
	}
	st, err := m.load(ctx, tx, m.dryRun == nil, true)
	if err != nil || m.dryRun != nil {
		tx.Rollback()
		return st, err
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("migrate %s: commit: %w", m.name, m.busy(err))
	}
	return st, nil
}

// load validates the directory against atlas.sum, reads the revisions and checks them against
// the directory and, with pending set, computes the pending files with atlas's Executor. With
// write set it creates the revisions table if needed and records a baseline.
func (m *Migrator) load(ctx context.Context, q schema.ExecQuerier, write, pending bool) (*state, error) {
	if err := m.validate(); err != nil {
		return nil, err
	}
	files, err := m.dir.Files()
	if err != nil {
		return nil, fmt.Errorf("migrate %s: read directory: %w", m.name, err)
	}
	rrw := &revisions{q: q, db: m.name, dialect: m.dialect}
	if write {
		if err := rrw.create(ctx); err != nil {
			return nil, fmt.Errorf("migrate %s: %w", m.name, m.busy(err))
		}
	}
	revs, err := rrw.ReadRevisions(ctx)
	if err != nil {
		return nil, fmt.Errorf("migrate %s: %w", m.name, err)
	}
	st := &state{files: files, revs: revs}
	if st.ahead = aheadOf(files, revs); len(st.ahead) > 0 {
		names := make([]string, len(st.ahead))
		for i, f := range st.ahead {
			names[i] = f.String()
		}
		return st, fmt.Errorf("migrate %s: %w: it has applied %s, newer than this binary's latest file %s; deploy the newer binary (or restore those files if they were deleted)",
			m.name, ErrAhead, strings.Join(names, ", "), cmp.Or(latestVersion(files), "(none)"))
	}
	if err := m.checkHistory(files, revs); err != nil {
		return nil, err
	}
	if !pending {
		return st, nil
	}
	if err := m.checkOrder(files, revs); err != nil {
		return nil, err
	}
	drv, err := m.driver(q)
	if err != nil {
		return nil, err
	}
	opts := []migrate.ExecutorOption{migrate.WithOperatorVersion(operatorVersion)}
	switch {
	case m.baseline != "":
		opts = append(opts, migrate.WithBaselineVersion(m.baseline))
	case len(revs) == 0:
		if err := m.checkClean(ctx, drv); err != nil {
			return nil, err
		}
		// checkClean has done atlas's CleanChecker's job, knowing that the revisions table
		// may be shared with the other databases: tell the executor not to redo it.
		opts = append(opts, migrate.WithAllowDirty(true))
	}
	var rw migrate.RevisionReadWriter = rrw
	if !write {
		rw = dryRevisions{rrw}
	}
	ex, err := migrate.NewExecutor(drv, m.dir, rw, opts...)
	if err != nil {
		return nil, fmt.Errorf("migrate %s: %w", m.name, err)
	}
	var nonLinear *migrate.HistoryNonLinearError
	switch st.pending, err = ex.Pending(ctx); {
	case errors.Is(err, migrate.ErrNoPendingFiles):
		st.pending = nil
	case errors.As(err, &nonLinear):
		names := make([]string, len(nonLinear.OutOfOrder))
		for i, f := range nonLinear.OutOfOrder {
			names[i] = f.Name()
		}
		return nil, fmt.Errorf("migrate %s: %w: %s is older than the latest applied version %s; give it a newer version",
			m.name, ErrOutOfOrder, strings.Join(names, ", "), revs[len(revs)-1].Version)
	case err != nil:
		return nil, fmt.Errorf("migrate %s: pending files: %w", m.name, err)
	}
	if write && m.baseline != "" && len(revs) == 0 {
		if st.revs, err = rrw.ReadRevisions(ctx); err != nil {
			return nil, fmt.Errorf("migrate %s: %w", m.name, err)
		}
	}
	return st, nil
}

// validate checks the directory against its atlas.sum.
func (m *Migrator) validate() error {
	err := migrate.Validate(m.dir)
	var ce *migrate.ChecksumError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ce):
		return fmt.Errorf("migrate %s: %w: %s was %s since atlas.sum was written (atlas.sum line %d)", m.name, ErrChecksum, ce.File, ce.Reason, ce.Line)
	case errors.Is(err, migrate.ErrChecksumNotFound):
		return fmt.Errorf("migrate %s: %w: atlas.sum is missing", m.name, ErrChecksum)
	case errors.Is(err, migrate.ErrChecksumMismatch), errors.Is(err, migrate.ErrChecksumFormat):
		return fmt.Errorf("migrate %s: %w: %s", m.name, ErrChecksum, m.sumDamage())
	default:
		return fmt.Errorf("migrate %s: validate directory: %w", m.name, err)
	}
}

// sumDamage names the first line of an atlas.sum that is inconsistent with itself (a line was
// edited by hand) by comparing it with the sums of the files.
func (m *Migrator) sumDamage() string {
	b, err := fs.ReadFile(m.dir, migrate.HashFileName)
	if err != nil {
		return "atlas.sum cannot be read: " + err.Error()
	}
	want, err := m.dir.Checksum()
	if err != nil {
		return "atlas.sum is damaged"
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	for i, line := range lines[1:] {
		name, hash, ok := strings.Cut(line, " h1:")
		switch {
		case !ok:
			return fmt.Sprintf("atlas.sum line %d is malformed", i+2)
		case i >= len(want) || want[i].N != name:
			return fmt.Sprintf("atlas.sum line %d names %s, which does not match the directory", i+2, name)
		case want[i].H != hash:
			return fmt.Sprintf("atlas.sum line %d, the sum of %s, was edited", i+2, name)
		}
	}
	return "the first line of atlas.sum, the sum of all files, was edited"
}

// checkHistory refuses revisions whose files are gone from the directory or have changed since
// they were applied: the database would no longer be what the directory says.
func (m *Migrator) checkHistory(files []migrate.File, revs []*migrate.Revision) error {
	byVersion := make(map[string]migrate.File, len(files))
	for _, f := range files {
		byVersion[f.Version()] = f
	}
	for _, r := range revs {
		if r.Type.Has(migrate.RevisionTypeBaseline) {
			continue // recorded, not run: its file may since have been squashed away
		}
		f, ok := byVersion[r.Version]
		if !ok {
			return fmt.Errorf("migrate %s: %w: %s.sql was applied on %s but is not in the directory",
				m.name, ErrMissingFile, revFile(r), r.ExecutedAt.Format(time.RFC3339))
		}
		if r.Hash != "" && r.Hash != fileHash(f) {
			return fmt.Errorf("migrate %s: %w: %s was changed after it was applied on %s", m.name, ErrChecksum, f.Name(), r.ExecutedAt.Format(time.RFC3339))
		}
	}
	return nil
}

// checkOrder refuses files that are not applied but older than the latest applied one. atlas's
// Pending finds those between the first and the latest revision; this finds those before the
// first too, which atlas would skip for ever.
func (m *Migrator) checkOrder(files []migrate.File, revs []*migrate.Revision) error {
	if len(revs) == 0 {
		return nil
	}
	var (
		baseline string
		applied  = make(map[string]bool, len(revs))
		latest   = revs[len(revs)-1].Version
		late     []string
	)
	for _, r := range revs {
		applied[r.Version] = true
		if r.Type.Has(migrate.RevisionTypeBaseline) {
			baseline = r.Version
		}
	}
	for _, f := range files {
		if v := f.Version(); v < latest && v > baseline && !applied[v] {
			late = append(late, f.Name())
		}
	}
	if len(late) > 0 {
		return fmt.Errorf("migrate %s: %w: %s is older than the latest applied version %s; give it a newer version",
			m.name, ErrOutOfOrder, strings.Join(late, ", "), latest)
	}
	return nil
}

// checkClean refuses a database without revisions that has tables, other than the revisions
// table and the tables of the other registered databases (which may share the SQL database),
// those of their ent schemas and those of their UnmappedFile.
func (m *Migrator) checkClean(ctx context.Context, drv migrate.Driver) error {
	s, err := drv.InspectSchema(ctx, "", &schema.InspectOptions{Mode: schema.InspectTables, Exclude: bookkeeping})
	if schema.IsNotExistError(err) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("migrate %s: inspect: %w", m.name, err)
	}
	others := make(map[string]bool)
	for _, spec := range database.Registry {
		if spec.Name == m.name {
			continue
		}
		for _, t := range spec.Tables {
			others[t.Name] = true
		}
		unmapped, err := UnmappedTables(spec.Name)
		if err != nil {
			return fmt.Errorf("migrate %s: %w", m.name, err)
		}
		for _, t := range unmapped {
			others[t] = true
		}
	}
	for _, t := range s.Tables {
		if others[t.Name] {
			continue
		}
		nce := &migrate.NotCleanError{State: schema.NewRealm(s), Reason: fmt.Sprintf("found table %q", t.Name)}
		return fmt.Errorf("migrate %s: %w: found table %q; to adopt the database, baseline it at the version it matches (multidb migrate baseline --db %s [VERSION]): %w", m.name, ErrNotClean, t.Name, m.name, nce)
	}
	return nil
}

// apply runs one file and records its revision in one transaction. It reports false, and
// does nothing, when the file turns out to be applied already.
func (m *Migrator) apply(ctx context.Context, conn *sql.Conn, f migrate.File, stmts []*migrate.Stmt) (Applied, bool, error) {
	var (
		rev  *migrate.Revision
		done bool
	)
	err := m.transact(ctx, conn, func(tx *sql.Tx) error {
		rrw := &revisions{q: tx, db: m.name, dialect: m.dialect}
		switch _, err := rrw.ReadRevision(ctx, f.Version()); {
		case err == nil:
			done = true
			return nil
		case !errors.Is(err, migrate.ErrRevisionNotExist):
			return err
		}
		start := time.Now()
		for i, s := range stmts {
			if _, err := tx.ExecContext(ctx, s.Text); err != nil {
				return fmt.Errorf("statement %d at line %d (%s): %w", i+1, lineOf(f.Bytes(), s.Pos), excerpt(s.Text), err)
			}
		}
		rev = &migrate.Revision{
			Version:         f.Version(),
			Description:     f.Desc(),
			Type:            migrate.RevisionTypeExecute,
			Applied:         len(stmts),
			Total:           len(stmts),
			ExecutedAt:      start,
			ExecutionTime:   time.Since(start),
			Hash:            fileHash(f),
			OperatorVersion: operatorVersion,
		}
		return rrw.WriteRevision(ctx, rev)
	})
	if err != nil {
		return Applied{}, false, fmt.Errorf("migrate %s: apply %s: %w", m.name, f.Name(), m.busy(err))
	}
	if done {
		return Applied{}, false, nil
	}
	return appliedOf(rev), true, nil
}

// transact runs fn in a transaction on conn and commits it when fn succeeds.
//
// SQLite ignores PRAGMA foreign_keys inside a transaction, yet its way to alter a table
// (create a new one, copy, drop, rename), which atlas plans, must run with the checks off:
// transact turns them off on the connection around the transaction, and runs
// PRAGMA foreign_key_check before committing instead.
func (m *Migrator) transact(ctx context.Context, conn *sql.Conn, fn func(*sql.Tx) error) error {
	if m.dialect == config.SQLite {
		var fk bool
		if err := conn.QueryRowContext(ctx, "PRAGMA foreign_keys").Scan(&fk); err != nil {
			return err
		}
		if fk {
			if _, err := conn.ExecContext(ctx, "PRAGMA foreign_keys = off"); err != nil {
				return err
			}
			defer func() {
				if _, rerr := conn.ExecContext(context.WithoutCancel(ctx), "PRAGMA foreign_keys = on"); rerr != nil {
					discard(conn)
				}
			}()
		}
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if m.dialect == config.SQLite {
		if err := foreignKeyCheck(ctx, tx); err != nil {
			tx.Rollback()
			return err
		}
	}
	return tx.Commit()
}

// foreignKeyCheck fails when a row references a missing parent row.
func foreignKeyCheck(ctx context.Context, tx *sql.Tx) error {
	rows, err := tx.QueryContext(ctx, "PRAGMA foreign_key_check")
	if err != nil {
		return err
	}
	defer rows.Close()
	if rows.Next() {
		var (
			table, parent string
			rowid         sql.NullInt64
			fkid          int
		)
		if err := rows.Scan(&table, &rowid, &parent, &fkid); err != nil {
			return err
		}
		return fmt.Errorf("foreign key check: a row of %s references a missing row of %s", table, parent)
	}
	return rows.Err()
}

// driver opens atlas's driver of the dialect on q: the pool, a connection or a transaction.
func (m *Migrator) driver(q schema.ExecQuerier) (migrate.Driver, error) {
	drv, err := openDriver(m.dialect, q)
	if err != nil {
		return nil, fmt.Errorf("migrate %s: %w", m.name, err)
	}
	return drv, nil
}

func openDriver(dialect string, q schema.ExecQuerier) (migrate.Driver, error) {
	switch dialect {
	case config.Postgres:
		return postgres.Open(q)
	case config.SQLite:
		return sqlite.Open(q)
	default:
		return nil, fmt.Errorf("dialect %q is not supported", dialect)
	}
}

// stmts splits a file into statements as atlas does for the dialect.
func (m *Migrator) stmts(f migrate.File) ([]*migrate.Stmt, error) {
	stmts, err := scanStmts(m.dialect, f)
	if err != nil {
		return nil, fmt.Errorf("migrate %s: read %s: %w", m.name, f.Name(), err)
	}
	return stmts, nil
}

func scanStmts(dialect string, f migrate.File) ([]*migrate.Stmt, error) {
	// The scanners do not touch the database, so a driver on no connection will do.
	var scanner migrate.StmtScanner = &sqlite.Driver{}
	if dialect == config.Postgres {
		scanner = &postgres.Driver{}
	}
	return scanner.ScanStmts(string(f.Bytes()))
}

// print writes the statements a dry run would run, under a comment line saying what they do.
func (m *Migrator) print(what string, stmts []string) error {
	if _, err := fmt.Fprintf(m.dryRun, "-- %s: %s (%s)\n", m.name, what, plural(len(stmts), "statement")); err != nil {
		return err
	}
	for _, s := range stmts {
		s = strings.TrimSpace(s)
		if !strings.HasSuffix(s, ";") {
			s += ";"
		}
		if _, err := fmt.Fprintln(m.dryRun, s); err != nil {
			return err
		}
	}
	return nil
}

func (m *Migrator) logf(format string, args ...any) {
	if m.log != nil {
		fmt.Fprintf(m.log, m.name+": "+format+"\n", args...)
	}
}

// fileHash is the hash recorded with a revision: the SHA-256 of the file alone, unlike the
// sums of atlas.sum, each of which covers the files before it too, so that adding a file out
// of order is not taken for a change of the applied ones.
func fileHash(f migrate.File) string {
	h := sha256.Sum256(f.Bytes())
	return "sha256:" + base64.StdEncoding.EncodeToString(h[:])
}

func appliedOf(r *migrate.Revision) Applied {
	return Applied{
		File:       File{Version: r.Version, Description: r.Description},
		Statements: r.Total,
		Duration:   r.ExecutionTime,
		AppliedAt:  r.ExecutedAt,
		Baseline:   r.Type.Has(migrate.RevisionTypeBaseline),
	}
}

// aheadOf returns the applied versions newer than every file of the directory.
func aheadOf(files []migrate.File, revs []*migrate.Revision) []File {
	latest := latestVersion(files)
	var out []File
	for _, r := range revs {
		if r.Version > latest && !r.Type.Has(migrate.RevisionTypeBaseline) {
			out = append(out, revFile(r))
		}
	}
	return out
}

func latestVersion(files []migrate.File) string {
	if len(files) == 0 {
		return ""
	}
	return files[len(files)-1].Version()
}

func fileOf(f migrate.File) File { return File{Version: f.Version(), Description: f.Desc()} }

func texts(stmts []*migrate.Stmt) []string {
	out := make([]string, len(stmts))
	for i, s := range stmts {
		out[i] = s.Text
	}
	return out
}

func plural(n int, word string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", word)
	}
	return fmt.Sprintf("%d %ss", n, word)
}

// lineOf is the 1-based line of byte offset pos in b.
func lineOf(b []byte, pos int) int {
	pos = min(max(pos, 0), len(b))
	return 1 + strings.Count(string(b[:pos]), "\n")
}

// excerpt shortens a statement for an error message.
func excerpt(stmt string) string {
	s := strings.Join(strings.Fields(stmt), " ")
	if len(s) > 60 {
		s = s[:57] + "..."
	}
	return s
}
