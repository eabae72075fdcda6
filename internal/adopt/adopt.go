// Package adopt turns an existing database that multidb did not create into one of its
// databases: it reads the live schema with atlas's inspector and writes an ent schema package
// for the tables ent can serve, an init migration equal to the live schema, and the list of
// the tables it left out with the reason. internal/migration then baselines the database at
// that init migration.
package adopt

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"

	"strings"
	"time"

	"ariga.io/atlas/sql/migrate"
	"ariga.io/atlas/sql/postgres"
	"ariga.io/atlas/sql/schema"
	"ariga.io/atlas/sql/sqlite"

	"github.com/multidb/multidb/internal/config"
	"github.com/multidb/multidb/internal/migration"
)

// UnmappedFile lists, in migrate/<db>/, the tables of an adopted database that have no ent
// type, one "table<TAB>reason" a line. make migration reads it and never drops those tables.
const UnmappedFile = migration.UnmappedFile

// Unmapped is a table or view adopt left out of the ent schema.
type Unmapped struct {
	Table  string
	Reason string
}

// Result is what Inspect found and Write writes.
type Result struct {
	DB       string
	Dialect  string
	Types    []*Type
	Unmapped []Unmapped
	// Init are the statements that create the live schema on an empty database.
	Init []string
	live *schema.Schema
	drv  migrate.Driver
}

// Type is an ent type for one table.
type Type struct {
	Name    string // Go name: "Article"
	Table   string
	IDCol   string // the primary key column, stored as the ent field "id"
	Fields  []*Field
	Indexes []*Index
	Edges   []*Edge // edges from this type (foreign keys of its table)
	Inverse []*Edge // edges to this type (foreign keys of other tables)
	Owner   string  // the column naming the user, for xdb.OwnedBy; empty for admin-only
}

// Field is one column.
type Field struct {
	Column   string
	Builder  string // e.g. `field.String("title")`
	Nullable bool
	Unique   bool
	Approx   string // why ent's Go type only approximates the column's, when it does
	Schema   map[string]string
	Default  string // entsql default annotation, Go source
	IsID     bool
}

// Index is one index of a table.
type Index struct {
	Name    string
	Columns []string
	Unique  bool
}

// Edge is a foreign key between two mapped tables.
type Edge struct {
	Name, Inverse string // edge names on the referring and the referred type
	From, To      *Type
	Column        string
	Unique        bool // at most one referring row per referred row
	OnDelete      schema.ReferenceOption
}

// Inspect reads the live schema of db (of the given dialect) for the multidb database name.
func Inspect(ctx context.Context, db *sql.DB, dialect, name string) (*Result, error) {
	var (
		drv migrate.Driver
		err error
	)
	switch dialect {
	case config.Postgres:
		drv, err = postgres.Open(db)
	case config.SQLite:
		drv, err = sqlite.Open(db)
	default:
		return nil, fmt.Errorf("adopt: dialect %q is not supported", dialect)
	}
	if err != nil {
		return nil, fmt.Errorf("adopt: %w", err)
	}
	live, err := drv.InspectSchema(ctx, "", &schema.InspectOptions{Exclude: []string{migration.RevisionsTable, migration.SeedsTable}})
	if err != nil {
		return nil, fmt.Errorf("adopt: inspect: %w", err)
	}
	r := &Result{DB: name, Dialect: dialect, live: live, drv: drv}
	views, err := listViews(ctx, db, dialect)
	if err != nil {
		return nil, fmt.Errorf("adopt: list views: %w", err)
	}
	for _, v := range views {
		r.Unmapped = append(r.Unmapped, Unmapped{v, "a view: atlas's open-source inspector does not read views, so neither the ent schema nor the init migration has it; it stays in the database as it is"})
	}
	byTable := map[string]*Type{}
	for _, t := range live.Tables {
		typ, reason := mapTable(t, dialect)
		if typ == nil {
			r.Unmapped = append(r.Unmapped, Unmapped{t.Name, reason})
			continue
		}
		r.Types = append(r.Types, typ)
		byTable[t.Name] = typ
	}
	for _, t := range live.Tables {
		from := byTable[t.Name]
		if from == nil {
			continue
		}
		for _, fk := range t.ForeignKeys {
			to := byTable[fk.RefTable.Name]
			if to == nil || len(fk.Columns) != 1 || len(fk.RefColumns) != 1 || fk.RefColumns[0].Name != to.IDCol || !isUUID(fk.Columns[0].Type) {
				// Not an edge ent can hold: the foreign key stays in the migrations, and
				// make migration keeps it (see migration.UnmappedFile).
				r.Unmapped = append(r.Unmapped, Unmapped{t.Name + "." + fk.Symbol, "a foreign key that is not one UUID column to a mapped table's id: kept in the database and the migrations, not an ent edge"})
				continue
			}
			col := fk.Columns[0].Name
			e := &Edge{From: from, To: to, Column: col, OnDelete: fk.OnDelete,
				Name: strings.TrimSuffix(col, "_id"), Inverse: plural(lowerFirst(from.Name))}
			for _, idx := range t.Indexes {
				if idx.Unique && len(idx.Parts) == 1 && idx.Parts[0].C != nil && idx.Parts[0].C.Name == col {
					e.Unique = true
				}
			}
			if e.Name == col || e.Name == "" {
				e.Name = col + "_ref"
			}
			from.Edges = append(from.Edges, e)
			to.Inverse = append(to.Inverse, e)
		}
	}
	if r.Init, err = initPlan(ctx, drv, live); err != nil {
		return nil, err
	}
	return r, nil
}

// mapTable returns the ent type of t, or nil and the reason it has none.
func mapTable(t *schema.Table, dialect string) (*Type, string) {
	switch {
	case t.PrimaryKey == nil || len(t.PrimaryKey.Parts) == 0:
		return nil, "no primary key: ent needs one to identify a row"
	case len(t.PrimaryKey.Parts) > 1:
		cols := make([]string, len(t.PrimaryKey.Parts))
		for i, p := range t.PrimaryKey.Parts {
			if p.C != nil {
				cols[i] = p.C.Name
			}
		}
		return nil, fmt.Sprintf("a composite primary key (%s): ent types have one id column", strings.Join(cols, ", "))
	}
	pk := t.PrimaryKey.Parts[0].C
	if pk == nil || !isUUID(pk.Type) {
		kind := "an expression"
		if pk != nil {
			kind = typeName(pk.Type, dialect)
		}
		return nil, fmt.Sprintf("its primary key is %s, not a UUID: multidb ids are UUIDs unique across databases (node(id:) and the generator, ent/xdbgen, rely on it)", kind)
	}
	typ := &Type{Name: pascal(singular(t.Name)), Table: t.Name, IDCol: pk.Name}
	for _, c := range t.Columns {
		f := mapColumn(c, dialect)
		if c.Name == pk.Name {
			f.IsID = true
		}
		if c.Name == "user_id" && isUUID(c.Type) {
			typ.Owner = "user_id"
		}
		typ.Fields = append(typ.Fields, f)
	}
	for _, idx := range t.Indexes {
		ix := &Index{Name: idx.Name, Unique: idx.Unique}
		for _, p := range idx.Parts {
			if p.C == nil {
				ix = nil // an index on an expression: ent cannot declare it; the migrations keep it
				break
			}
			ix.Columns = append(ix.Columns, p.C.Name)
		}
		if ix != nil {
			typ.Indexes = append(typ.Indexes, ix)
		}
	}
	return typ, ""
}

func isUUID(t *schema.ColumnType) bool {
	if t == nil {
		return false
	}
	switch t.Type.(type) {
	case *schema.UUIDType:
		return true
	}
	return strings.EqualFold(t.Raw, "uuid")
}

func typeName(t *schema.ColumnType, dialect string) string {
	if s, err := formatType(t.Type, dialect); err == nil {
		return s
	}
	return t.Raw
}

func formatType(t schema.Type, dialect string) (string, error) {
	if dialect == config.Postgres {
		return postgres.FormatType(t)
	}
	return sqlite.FormatType(t)
}

// mapColumn picks the ent field of c, and keeps the column's exact type with SchemaType so
// that make migration finds nothing to change.
func mapColumn(c *schema.Column, dialect string) *Field {
	f := &Field{Column: c.Name, Nullable: c.Type.Null}
	raw := typeName(c.Type, dialect)
	f.Schema = map[string]string{dialectConst(dialect): raw}
	name := fmt.Sprintf("%q", c.Name)
	switch t := c.Type.Type.(type) {
	case *schema.UUIDType:
		f.Builder = "field.UUID(" + name + ", uuid.UUID{})"
	case *schema.IntegerType:
		switch strings.ToLower(t.T) {
		case "smallint", "int2":
			f.Builder = "field.Int16(" + name + ")"
		case "integer", "int", "int4":
			f.Builder = "field.Int32(" + name + ")"
		default:
			f.Builder = "field.Int64(" + name + ")"
		}
	case *schema.BoolType:
		f.Builder = "field.Bool(" + name + ")"
	case *schema.TimeType:
		f.Builder = "field.Time(" + name + ")"
	case *schema.FloatType:
		f.Builder = "field.Float(" + name + ")"
	case *schema.DecimalType:
		f.Builder = "field.Float(" + name + ")"
		f.Approx = raw + " is exact; a float64 is not: read and write it with care, or move it to a string field"
	case *schema.JSONType:
		// The graph's Map scalar, as the other databases' JSON fields.
		f.Builder = "field.JSON(" + name + ", map[string]any{})"
		f.Approx = raw + " may hold any JSON value; the graph reads it as an object (Map)"
	case *schema.BinaryType:
		f.Builder = "field.Bytes(" + name + ")"
	case *schema.StringType:
		f.Builder = "field.String(" + name + ")"
	default:
		if isUUID(c.Type) {
			f.Builder = "field.UUID(" + name + ", uuid.UUID{})"
			break
		}
		f.Builder = "field.String(" + name + ")"
		f.Approx = raw + " has no ent type: it is read and written as its text form"
	}
	if c.Default != nil {
		switch d := c.Default.(type) {
		case *schema.RawExpr:
			f.Default = fmt.Sprintf("entsql.DefaultExpr(%q)", d.X)
		case *schema.Literal:
			f.Default = fmt.Sprintf("entsql.DefaultExpr(%q)", d.V)
		}
	}
	return f
}

func dialectConst(dialect string) string {
	if dialect == config.Postgres {
		return "dialect.Postgres"
	}
	return "dialect.SQLite"
}

// initPlan returns the statements that create live on an empty database.
func initPlan(ctx context.Context, drv migrate.Driver, live *schema.Schema) ([]string, error) {
	empty := &schema.Schema{Name: live.Name, Realm: live.Realm, Attrs: live.Attrs}
	changes, err := drv.SchemaDiff(empty, live)
	if err != nil {
		return nil, fmt.Errorf("adopt: diff: %w", err)
	}
	plan, err := drv.PlanChanges(ctx, "init", changes, func(o *migrate.PlanOptions) {
		o.SchemaQualifier = new(string) // the file runs in the connection's own schema
	})
	if err != nil {
		return nil, fmt.Errorf("adopt: plan the init migration: %w", err)
	}
	out := make([]string, len(plan.Changes))
	for i, c := range plan.Changes {
		out[i] = fmt.Sprintf("-- %s\n%s;", c.Comment, c.Cmd)
	}
	return out, nil
}

func listViews(ctx context.Context, db *sql.DB, dialect string) ([]string, error) {
	q := `SELECT table_name FROM information_schema.views WHERE table_schema = current_schema() ORDER BY 1`
	if dialect == config.SQLite {
		q = `SELECT name FROM sqlite_master WHERE type = 'view' ORDER BY 1`
	}
	rows, err := db.QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var v string
		if err := rows.Scan(&v); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// Write writes, under root, schema/<db>/ (one file per type), migrate/<db>/<dialect>/ with
// the init migration and its atlas.sum, and migrate/<db>/unmapped.txt. It refuses to
// overwrite an existing schema package or migration directory. It returns the init file's
// version and the paths written.
func (r *Result) Write(root string, now time.Time) (string, []string, error) {
	schemaDir := filepath.Join(root, "schema", r.DB)
	migDir := filepath.Join(root, "migrate", r.DB)
	for _, p := range []string{schemaDir, migDir} {
		if _, err := os.Stat(p); err == nil {
			return "", nil, fmt.Errorf("adopt: %s exists; pick another --db name, or remove it to adopt again", p)
		}
	}
	var written []string
	if err := os.MkdirAll(schemaDir, 0o755); err != nil {
		return "", nil, err
	}
	doc := fmt.Sprintf("// Package %s holds the ent schema of the %s database, adopted from a live database by\n// multidb adopt. Tables it could not map are listed in migrate/%s/%s.\npackage %s\n", r.DB, r.DB, r.DB, UnmappedFile, r.DB)
	if err := writeFile(filepath.Join(schemaDir, "doc.go"), []byte(doc), &written); err != nil {
		return "", nil, err
	}
	for _, t := range r.Types {
		src, err := t.source(r.DB)
		if err != nil {
			return "", nil, err
		}
		if err := writeFile(filepath.Join(schemaDir, snake(t.Name)+".go"), src, &written); err != nil {
			return "", nil, err
		}
	}
	var unmapped strings.Builder
	unmapped.WriteString("# Tables and foreign keys of the adopted database that have no ent type or edge, and why.\n# make migration never drops them; they stay as the init migration created them.\n")
	for _, u := range r.Unmapped {
		fmt.Fprintf(&unmapped, "%s\t%s\n", u.Table, u.Reason)
	}
	if err := writeFile(filepath.Join(migDir, UnmappedFile), []byte(unmapped.String()), &written); err != nil {
		return "", nil, err
	}
	version := now.UTC().Format("20060102150405")
	dir := filepath.Join(migDir, migration.DialectDir(r.Dialect))
	body := fmt.Sprintf("-- The schema of the %s database as multidb adopt found it.\n%s\n", r.DB, strings.Join(r.Init, "\n"))
	if err := writeFile(filepath.Join(dir, version+"_init.sql"), []byte(body), &written); err != nil {
		return "", nil, err
	}
	if err := migration.Hash(dir); err != nil {
		return "", nil, err
	}
	written = append(written, filepath.Join(dir, migrate.HashFileName))
	return version, written, nil
}

func writeFile(path string, b []byte, written *[]string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		return err
	}
	*written = append(*written, path)
	return nil
}

// Names.

func pascal(s string) string {
	var b strings.Builder
	for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == '_' || r == '-' || r == ' ' }) {
		b.WriteString(strings.ToUpper(part[:1]) + part[1:])
	}
	return b.String()
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

func snake(s string) string {
	var b strings.Builder
	for i, r := range s {
		if r >= 'A' && r <= 'Z' {
			if i > 0 {
				b.WriteByte('_')
			}
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

func singular(s string) string {
	switch {
	case strings.HasSuffix(s, "ies"):
		return strings.TrimSuffix(s, "ies") + "y"
	case strings.HasSuffix(s, "sses"), strings.HasSuffix(s, "xes"):
		return s[:len(s)-2]
	case strings.HasSuffix(s, "ss"):
		return s
	case strings.HasSuffix(s, "s"):
		return strings.TrimSuffix(s, "s")
	}
	return s
}

func plural(s string) string {
	switch {
	case strings.HasSuffix(s, "y") && !strings.HasSuffix(s, "ey"):
		return strings.TrimSuffix(s, "y") + "ies"
	case strings.HasSuffix(s, "s"), strings.HasSuffix(s, "x"):
		return s + "es"
	}
	return s + "s"
}
