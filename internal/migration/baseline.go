package migration

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"ariga.io/atlas/sql/migrate"
	"ariga.io/atlas/sql/schema"

	"github.com/multidb/multidb/internal/database"
)

// Baseline records that a database which has tables but no history is at version (the
// directory's latest file when empty): that file and those before it are recorded as a
// baseline, not run. It first replays those files on a scratch database and compares the
// result with the live schema; when they differ it changes nothing and fails with
// ErrSchemaMismatch and the statements that would turn the live schema into the directory's.
// With WithDryRun it checks and records nothing.
func (m *Migrator) Baseline(ctx context.Context, version string) (File, error) {
	conn, end, err := m.session(ctx)
	if err != nil {
		return File{}, err
	}
	defer end()
	if err := m.validate(); err != nil {
		return File{}, err
	}
	files, err := m.dir.Files()
	if err != nil {
		return File{}, fmt.Errorf("migrate %s: read directory: %w", m.name, err)
	}
	if len(files) == 0 {
		return File{}, fmt.Errorf("migrate %s: baseline: the directory has no migration file; run make migration DB=%s NAME=init first", m.name, m.name)
	}
	idx := len(files) - 1
	if version != "" {
		idx = -1
		for i, f := range files {
			if f.Version() == version {
				idx = i
			}
		}
		if idx < 0 {
			vs := make([]string, len(files))
			for i, f := range files {
				vs[i] = f.Version()
			}
			return File{}, fmt.Errorf("migrate %s: baseline: VERSION %q is not a file of the directory; use one of %s", m.name, version, strings.Join(vs, ", "))
		}
	}
	target := files[idx]
	rrw := &revisions{q: conn, db: m.name, dialect: m.dialect}
	revs, err := rrw.ReadRevisions(ctx)
	if err != nil {
		return File{}, fmt.Errorf("migrate %s: %w", m.name, err)
	}
	if len(revs) > 0 {
		return File{}, fmt.Errorf("migrate %s: baseline: %w (latest %s); see multidb migrate status", m.name, ErrHasHistory, revFile(revs[len(revs)-1]))
	}
	diff, err := m.compare(ctx, conn, files[:idx+1])
	if err != nil {
		return File{}, fmt.Errorf("migrate %s: baseline %s: %w", m.name, target.Name(), err)
	}
	if len(diff) > 0 {
		return File{}, &MismatchError{Database: m.name, Version: target.Version(), Statements: diff}
	}
	f := fileOf(target)
	if m.dryRun != nil {
		_, err := fmt.Fprintf(m.dryRun, "-- %s: the live schema matches %s; baseline would record it\n", m.name, target.Name())
		return f, err
	}
	err = m.transact(ctx, conn, func(tx *sql.Tx) error {
		rrw := &revisions{q: tx, db: m.name, dialect: m.dialect}
		if err := rrw.create(ctx); err != nil {
			return err
		}
		now, err := rrw.ReadRevisions(ctx)
		if err != nil {
			return err
		}
		if len(now) > 0 {
			return fmt.Errorf("%w: another process migrated it meanwhile", ErrHasHistory)
		}
		return rrw.WriteRevision(ctx, &migrate.Revision{
			Version:         target.Version(),
			Description:     target.Desc(),
			Type:            migrate.RevisionTypeBaseline,
			ExecutedAt:      time.Now(),
			OperatorVersion: operatorVersion,
		})
	})
	if err != nil {
		return File{}, fmt.Errorf("migrate %s: baseline %s: %w", m.name, target.Name(), m.busy(err))
	}
	m.logf("baseline at %s (recorded, not run)", target.Name())
	return f, nil
}

// MismatchError is returned by Baseline when the live schema differs from the directory's.
// It wraps ErrSchemaMismatch.
type MismatchError struct {
	Database, Version string
	// Statements would turn the live schema into the one the directory replays to.
	Statements []string
}

func (e *MismatchError) Error() string {
	return fmt.Sprintf("migrate %s: baseline %s: %v; these statements would make the live schema match it:\n  %s\nfix the schema or the files (make migration), then baseline again",
		e.Database, e.Version, ErrSchemaMismatch, strings.Join(e.Statements, ";\n  ")+";")
}

func (e *MismatchError) Unwrap() error { return ErrSchemaMismatch }

// compare returns the statements that would turn the live schema, less the bookkeeping tables
// and those of the other registered databases, into the state files replay to; none when they
// match.
func (m *Migrator) compare(ctx context.Context, conn *sql.Conn, files []migrate.File) ([]string, error) {
	dev, cleanup, err := m.devDB(ctx)
	if err != nil {
		return nil, fmt.Errorf("scratch database: %w", err)
	}
	defer cleanup()
	devDrv, err := openDriver(m.dialect, dev)
	if err != nil {
		return nil, err
	}
	if err := replay(ctx, devDrv, m.dialect, files); err != nil {
		return nil, err
	}
	want, err := devDrv.InspectSchema(ctx, "", nil)
	if err != nil {
		return nil, fmt.Errorf("inspect scratch database: %w", err)
	}
	drv, err := openDriver(m.dialect, conn)
	if err != nil {
		return nil, err
	}
	live, err := drv.InspectSchema(ctx, "", &schema.InspectOptions{Exclude: bookkeeping})
	if err != nil {
		return nil, fmt.Errorf("inspect: %w", err)
	}
	others := make(map[string]bool)
	for _, spec := range database.Registry {
		if spec.Name == m.name {
			continue
		}
		for _, t := range spec.Tables {
			others[t.Name] = true
		}
	}
	from := &schema.Schema{Name: live.Name, Realm: live.Realm, Attrs: live.Attrs}
	for _, t := range live.Tables {
		if !others[t.Name] {
			from.Tables = append(from.Tables, t)
		}
	}
	from.Objects = live.Objects
	to := &schema.Schema{Name: live.Name, Realm: live.Realm, Attrs: live.Attrs, Tables: want.Tables, Objects: want.Objects}
	changes, err := drv.SchemaDiff(from, to)
	if err != nil {
		return nil, fmt.Errorf("diff: %w", err)
	}
	changes = withoutSameIndexes(changes)
	if len(changes) == 0 {
		return nil, nil
	}
	plan, err := drv.PlanChanges(ctx, "baseline", changes, func(o *migrate.PlanOptions) {
		o.SchemaQualifier = new(string)
	})
	if err != nil {
		return nil, fmt.Errorf("plan: %w", err)
	}
	out := make([]string, len(plan.Changes))
	for i, c := range plan.Changes {
		out[i] = c.Cmd
	}
	return out, nil
}

// withoutSameIndexes leaves out indexes that differ only in how they were made: SQLite's
// inline UNIQUE constraint and a CREATE UNIQUE INDEX on the same columns enforce the same.
func withoutSameIndexes(changes []schema.Change) []schema.Change {
	out := changes[:0]
	for _, c := range changes {
		if mt, ok := c.(*schema.ModifyTable); ok {
			// Pair each dropped index with an added one on the same columns: the names
			// differ too (sqlite_autoindex_… for an inline UNIQUE).
			var adds []*schema.AddIndex
			for _, tc := range mt.Changes {
				if ai, ok := tc.(*schema.AddIndex); ok {
					adds = append(adds, ai)
				}
			}
			skip := map[schema.Change]bool{}
			for _, tc := range mt.Changes {
				di, ok := tc.(*schema.DropIndex)
				if !ok {
					continue
				}
				for _, ai := range adds {
					if !skip[ai] && sameIndex(di.I, ai.I) {
						skip[di], skip[ai] = true, true
						break
					}
				}
			}
			kept := mt.Changes[:0]
			for _, tc := range mt.Changes {
				switch tc := tc.(type) {
				case *schema.ModifyIndex:
					if sameIndex(tc.From, tc.To) {
						continue
					}
				}
				if skip[tc] {
					continue
				}
				kept = append(kept, tc)
			}
			if mt.Changes = kept; len(kept) == 0 {
				continue
			}
		}
		out = append(out, c)
	}
	return out
}

func sameIndex(a, b *schema.Index) bool {
	if a.Unique != b.Unique || len(a.Parts) != len(b.Parts) {
		return false
	}
	for i := range a.Parts {
		pa, pb := a.Parts[i], b.Parts[i]
		if pa.C == nil || pb.C == nil || pa.C.Name != pb.C.Name || pa.Desc != pb.Desc {
			return false
		}
	}
	return true
}
