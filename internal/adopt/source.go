package adopt

import (
	"bytes"
	"fmt"
	"go/format"
	"sort"
	"strings"

	"ariga.io/atlas/sql/schema"
)

// source is the Go source of the ent schema of t.
func (t *Type) source(db string) ([]byte, error) {
	var b bytes.Buffer
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	imports := map[string]bool{
		`"entgo.io/contrib/entgql"`: true, `"entgo.io/ent"`: true, `"entgo.io/ent/dialect"`: true,
		`"entgo.io/ent/dialect/entsql"`: true, `"entgo.io/ent/schema"`: true, `"entgo.io/ent/schema/field"`: true,
		`"github.com/multidb/multidb/schema/xdb"`: true,
	}
	var body bytes.Buffer
	bw := func(format string, args ...any) { fmt.Fprintf(&body, format, args...) }

	bw("// %s is a row of the table %s, adopted from the live database by multidb adopt.\n", t.Name, t.Table)
	bw("type %s struct {\n\tent.Schema\n}\n\n", t.Name)
	bw("// Fields of the %s: the columns of %s, with their exact types kept by SchemaType.\n", t.Name, t.Table)
	bw("func (%s) Fields() []ent.Field {\n\treturn []ent.Field{\n", t.Name)
	for _, f := range t.Fields {
		if f.Approx != "" {
			bw("\t\t// Approximate: %s.\n", f.Approx)
		}
		builder := f.Builder
		if f.IsID {
			builder = strings.Replace(builder, fmt.Sprintf("(%q", f.Column), `("id"`, 1)
		}
		bw("\t\t%s", builder)
		if strings.Contains(builder, "uuid.UUID{}") {
			imports[`"github.com/google/uuid"`] = true
		}
		if strings.Contains(builder, "json.RawMessage") {
			imports[`"encoding/json"`] = true
		}
		if f.IsID {
			if f.Column != "id" {
				bw(".\n\t\t\tStorageKey(%q)", f.Column)
			}
			imports[`"github.com/multidb/multidb/schema/mixin"`] = true
			bw(".\n\t\t\tDefault(mixin.NewID).\n\t\t\tImmutable()")
		} else if f.Nullable {
			bw(".\n\t\t\tOptional()")
			if !strings.HasPrefix(builder, "field.JSON(") { // a JSON field is nil when null already
				bw(".\n\t\t\tNillable()")
			}
		}
		if !strings.HasPrefix(builder, "field.Bool(") { // ent has one boolean type per engine
			bw(".\n\t\t\tSchemaType(map[string]string{")
			for _, k := range sortedKeys(f.Schema) {
				bw("%s: %q", k, f.Schema[k])
			}
			bw("})")
		}
		var ann []string
		if f.Default != "" {
			ann = append(ann, f.Default)
		}
		if f.Column == t.Owner {
			ann = append(ann, "entgql.Skip(entgql.SkipMutationCreateInput, entgql.SkipMutationUpdateInput)",
				`xdb.Ref("users.User").OnDelete(xdb.Keep)`)
		}
		if len(ann) > 0 {
			bw(".\n\t\t\tAnnotations(%s)", strings.Join(ann, ", "))
		}
		bw(",\n")
	}
	bw("\t}\n}\n\n")

	if len(t.Edges)+len(t.Inverse) > 0 {
		imports[`"entgo.io/ent/schema/edge"`] = true
		bw("// Edges of the %s: the foreign keys between adopted tables.\n", t.Name)
		bw("func (%s) Edges() []ent.Edge {\n\treturn []ent.Edge{\n", t.Name)
		for _, e := range t.Inverse {
			bw("\t\tedge.To(%q, %s.Type)", e.Inverse, e.From.Name)
			if e.OnDelete != "" && e.OnDelete != schema.NoAction {
				bw(".\n\t\t\tAnnotations(entsql.OnDelete(entsql.ReferenceOption(%q)))", string(e.OnDelete))
			}
			bw(",\n")
		}
		for _, e := range t.Edges {
			bw("\t\tedge.From(%q, %s.Type).\n\t\t\tRef(%q).\n\t\t\tField(%q).\n\t\t\tUnique()", e.Name, e.To.Name, e.Inverse, e.Column)
			if f := t.field(e.Column); f != nil && !f.Nullable {
				bw(".\n\t\t\tRequired()")
			}
			bw(",\n")
		}
		bw("\t}\n}\n\n")
	}

	if len(t.Indexes) > 0 {
		imports[`"entgo.io/ent/schema/index"`] = true
		bw("// Indexes of the %s, under their names in the live database.\n", t.Name)
		bw("func (%s) Indexes() []ent.Index {\n\treturn []ent.Index{\n", t.Name)
		for _, ix := range t.Indexes {
			cols := make([]string, len(ix.Columns))
			for i, c := range ix.Columns {
				if c == t.IDCol {
					c = "id"
				}
				cols[i] = fmt.Sprintf("%q", c)
			}
			bw("\t\tindex.Fields(%s)", strings.Join(cols, ", "))
			if ix.Unique {
				bw(".\n\t\t\tUnique()")
			}
			bw(".\n\t\t\tStorageKey(%q),\n", ix.Name)
		}
		bw("\t}\n}\n\n")
	}

	policy := "xdb.Policy(xdb.AdminOnly())"
	why := "admins only: no column names the user who owns a row"
	if t.Owner != "" {
		policy = fmt.Sprintf("xdb.Policy(xdb.OwnedBy(%q))", t.Owner)
		why = "a USER reads the rows whose " + t.Owner + " is theirs; admins read all"
	}
	bw("// Annotations of the %s: its table, its list in the graph (read-only until mutations are\n// added), and its policy: %s.\n", t.Name, why)
	bw("func (%s) Annotations() []schema.Annotation {\n\treturn []schema.Annotation{\n", t.Name)
	bw("\t\tentsql.Annotation{Table: %q},\n\t\tentgql.RelayConnection(),\n\t\tentgql.QueryField(),\n\t\t%s,\n\t}\n}\n", t.Table, policy)

	w("// Code written by multidb adopt from the live schema; edit it as your own from now on.\n\npackage %s\n\nimport (\n", db)
	for _, imp := range sortedKeys(imports) {
		w("\t%s\n", imp)
	}
	w(")\n\n")
	b.Write(body.Bytes())
	src, err := format.Source(b.Bytes())
	if err != nil {
		return nil, fmt.Errorf("adopt: format %s: %w\n%s", t.Name, err, b.Bytes())
	}
	return src, nil
}

func (t *Type) field(col string) *Field {
	for _, f := range t.Fields {
		if f.Column == col {
			return f
		}
	}
	return nil
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
