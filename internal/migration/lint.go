package migration

import (
	"context"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"ariga.io/atlas/sql/migrate"
	"ariga.io/atlas/sql/schema"
	"ariga.io/atlas/sql/sqlcheck"
	"ariga.io/atlas/sql/sqlcheck/destructive"

	"github.com/multidb/multidb/internal/config"
)

// Diagnostic is a finding of Lint in a migration file.
type Diagnostic struct {
	File string // "20261201000000_drop_avatar.sql"
	Line int    // line of the statement
	Code string // atlas's check code, e.g. "DS103"
	Text string // e.g. `Dropping non-virtual column "avatar"`
}

// String formats the diagnostic as "file:line: code: text".
func (d Diagnostic) String() string {
	return fmt.Sprintf("%s:%d: %s: %s", d.File, d.Line, d.Code, d.Text)
}

// Lint runs atlas's destructive-change analyzer (dropped schemas, tables and columns) over the
// latest file of dir, a directory of the given ent dialect. It replays the files before it on a
// scratch database (in-memory SQLite, or a temporary database on the PostgreSQL server at
// devURL, DefaultDevURL when empty), then runs the latest file one statement at a time to see
// what each one changes.
func Lint(ctx context.Context, dir migrate.Dir, dialect, devURL string) ([]Diagnostic, error) {
	files, err := dir.Files()
	if err != nil {
		return nil, fmt.Errorf("lint: read directory: %w", err)
	}
	if len(files) == 0 {
		return nil, nil
	}
	last := files[len(files)-1]
	if dialect == config.Postgres && devURL == "" {
		devURL = DefaultDevURL
	}
	dev, cleanup, err := scratchDatabase(ctx, dialect, devURL)
	if err != nil {
		return nil, fmt.Errorf("lint %s: scratch database: %w", last.Name(), err)
	}
	defer cleanup()
	drv, err := openDriver(dialect, dev)
	if err != nil {
		return nil, fmt.Errorf("lint %s: %w", last.Name(), err)
	}
	if err := replay(ctx, drv, dialect, files[:len(files)-1]); err != nil {
		return nil, fmt.Errorf("lint %s: %w", last.Name(), err)
	}
	from, err := drv.InspectSchema(ctx, "", nil)
	if err != nil {
		return nil, fmt.Errorf("lint %s: inspect: %w", last.Name(), err)
	}
	stmts, err := scanStmts(dialect, last)
	if err != nil {
		return nil, fmt.Errorf("lint %s: %w", last.Name(), err)
	}
	// What each statement changes, to tell which statement a change of the file comes from.
	touched := make([]map[string]bool, len(stmts))
	prev := from
	for i, s := range stmts {
		if _, err := drv.ExecContext(ctx, s.Text); err != nil {
			return nil, fmt.Errorf("lint %s: statement %d at line %d (%s): %w", last.Name(), i+1, lineOf(last.Bytes(), s.Pos), excerpt(s.Text), err)
		}
		cur, err := drv.InspectSchema(ctx, "", nil)
		if err != nil {
			return nil, fmt.Errorf("lint %s: inspect: %w", last.Name(), err)
		}
		changes, err := drv.SchemaDiff(prev, cur)
		if err != nil {
			return nil, fmt.Errorf("lint %s: diff: %w", last.Name(), err)
		}
		touched[i] = make(map[string]bool)
		for _, c := range changes {
			for _, t := range changedTables(c) {
				touched[i][t] = true
			}
		}
		prev = cur
	}
	// The analyzer sees what the file does as a whole, which is what matters: SQLite alters a
	// table by copying it to a new one, dropping it and renaming the copy, and statement by
	// statement that would look like dropping the table.
	sum, err := drv.SchemaDiff(from, prev)
	if err != nil {
		return nil, fmt.Errorf("lint %s: diff: %w", last.Name(), err)
	}
	file := &sqlcheck.File{File: last, Sum: sum, From: schema.NewRealm(from), To: schema.NewRealm(prev)}
	byStmt := make(map[int]*sqlcheck.Change)
	for _, c := range sum {
		i := 0
		if tables := changedTables(c); len(tables) > 0 {
			for j := range touched {
				if touched[j][tables[0]] {
					i = j
					break
				}
			}
		}
		if len(stmts) == 0 {
			break
		}
		if byStmt[i] == nil {
			byStmt[i] = &sqlcheck.Change{Stmt: stmts[i]}
		}
		byStmt[i].Changes = append(byStmt[i].Changes, c)
	}
	for i := range stmts {
		if c, ok := byStmt[i]; ok {
			file.Changes = append(file.Changes, c)
		}
	}
	var diags []Diagnostic
	pass := &sqlcheck.Pass{
		File: file,
		Reporter: sqlcheck.ReportWriterFunc(func(r sqlcheck.Report) {
			for _, d := range r.Diagnostics {
				diags = append(diags, Diagnostic{File: last.Name(), Line: lineOf(last.Bytes(), d.Pos), Code: d.Code, Text: d.Text})
			}
		}),
	}
	if err := (&destructive.Analyzer{}).Analyze(ctx, pass); err != nil {
		return nil, fmt.Errorf("lint %s: %w", last.Name(), err)
	}
	for _, r := range probableRenames(sum) {
		line := 1
		for _, c := range file.Changes {
			for _, ch := range c.Changes {
				if slices.Contains(changedTables(ch), r.Table) {
					line = lineOf(last.Bytes(), c.Stmt.Pos)
				}
			}
		}
		what := fmt.Sprintf("table %q is dropped and %q, with the same columns, created", r.Table, r.To)
		if r.From != "" {
			what = fmt.Sprintf("column %q of %q is dropped and %q of the same type added", r.From, r.Table, r.To)
		}
		diags = append(diags, Diagnostic{File: last.Name(), Line: line, Code: CodeProbableRename,
			Text: what + ": a probable rename, which this file does by losing the data; if it is one, delete the file and regenerate it with make migration DB=… NAME=… RENAME=" + r.String()})
	}
	return diags, nil
}

// CodeProbableRename is Lint's code for a drop and an add that look like a rename.
const CodeProbableRename = "MD101"

// probableRenames finds, in the changes of a file, a dropped column and an added one of the
// same type in one table, and a dropped table and a created one with the same columns.
func probableRenames(changes []schema.Change) []Rename {
	var out []Rename
	var dropped, added []*schema.Table
	for _, c := range changes {
		switch c := c.(type) {
		case *schema.DropTable:
			dropped = append(dropped, c.T)
		case *schema.AddTable:
			added = append(added, c.T)
		case *schema.ModifyTable:
			var drops, adds []*schema.Column
			for _, mc := range c.Changes {
				switch mc := mc.(type) {
				case *schema.DropColumn:
					drops = append(drops, mc.C)
				case *schema.AddColumn:
					adds = append(adds, mc.C)
				}
			}
			for _, d := range drops {
				for _, a := range adds {
					if sameType(d, a) {
						out = append(out, Rename{Table: c.T.Name, From: d.Name, To: a.Name})
						break
					}
				}
			}
		}
	}
	for _, d := range dropped {
		for _, a := range added {
			if sameColumns(d, a) {
				out = append(out, Rename{Table: d.Name, To: a.Name})
				break
			}
		}
	}
	return out
}

func sameType(a, b *schema.Column) bool {
	if a.Type == nil || b.Type == nil {
		return false
	}
	return reflect.TypeOf(a.Type.Type) == reflect.TypeOf(b.Type.Type) && strings.EqualFold(a.Type.Raw, b.Type.Raw)
}

func sameColumns(a, b *schema.Table) bool {
	if len(a.Columns) != len(b.Columns) {
		return false
	}
	for i := range a.Columns {
		if a.Columns[i].Name != b.Columns[i].Name || !sameType(a.Columns[i], b.Columns[i]) {
			return false
		}
	}
	return true
}

// changedTables names the tables a change is about.
func changedTables(c schema.Change) []string {
	switch c := c.(type) {
	case *schema.AddTable:
		return []string{c.T.Name}
	case *schema.DropTable:
		return []string{c.T.Name}
	case *schema.ModifyTable:
		return []string{c.T.Name}
	case *schema.RenameTable:
		return []string{c.From.Name, c.To.Name}
	}
	return nil
}
