package loader

import (
	"context"
	"slices"
	"strings"
	"unicode"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// Fields maps the GraphQL fields of one type to its columns, so that a statement reads the
// columns its query selects and no others (a JSON column is then read and decoded only when
// asked for). xdb_edges.go declares one per type.
type Fields struct {
	Type     string            // the GraphQL type, for fragments on it
	ID       string            // the primary key column, always read
	Valid    func(string) bool // whether a column exists
	Refs     map[string]string // stitched reference fields: the column that holds the id
	Inverses map[string]bool   // stitched connections: they need the id alone
}

// columns returns the columns that the selections sels of f's type need, sorted, with extra;
// nil when one of them is a field that maps to no column, where every column is read.
func (f *Fields) columns(opCtx *graphql.OperationContext, sels ast.SelectionSet, extra ...string) []string {
	cols, _ := f.selection(opCtx, sels, extra...)
	return cols
}

// selection is columns, and whether the selections ask for a stitched field too.
func (f *Fields) selection(opCtx *graphql.OperationContext, sels ast.SelectionSet, extra ...string) (cols []string, stitched bool) {
	cols = append([]string{f.ID}, extra...)
	all := false
	for _, cf := range graphql.CollectFields(opCtx, sels, []string{f.Type, "Node"}) {
		switch name := cf.Name; {
		case name == "id" || name == "__typename":
		case f.Inverses[name]:
			stitched = true
		case f.Refs[name] != "":
			stitched = true
			cols = append(cols, f.Refs[name])
		default:
			col := snake(name)
			if !f.Valid(col) {
				all = true
			}
			cols = append(cols, col)
		}
	}
	if all {
		return nil, stitched
	}
	slices.Sort(cols)
	return slices.Compact(cols), stitched
}

// nodeSelections returns the selections below edges.node of the connection field of ctx.
func nodeSelections(ctx context.Context) (*graphql.OperationContext, ast.SelectionSet, bool) {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || !graphql.HasOperationContext(ctx) {
		return nil, nil, false
	}
	opCtx := graphql.GetOperationContext(ctx)
	var out ast.SelectionSet
	for _, edges := range graphql.CollectFields(opCtx, fc.Field.Selections, typeOf(fc.Field.Definition)) {
		if edges.Name != "edges" {
			continue
		}
		for _, node := range graphql.CollectFields(opCtx, edges.Selections, typeOf(edges.Definition)) {
			if node.Name == "node" {
				out = append(out, node.Selections...)
			}
		}
	}
	return opCtx, out, true
}

// fieldSelections returns the selections of the field of ctx.
func fieldSelections(ctx context.Context) (*graphql.OperationContext, ast.SelectionSet, bool) {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || !graphql.HasOperationContext(ctx) {
		return nil, nil, false
	}
	return graphql.GetOperationContext(ctx), fc.Field.Selections, true
}

// ConnectionColumns returns the columns that the nodes of the connection field of ctx need,
// with extra; nil (every column) outside a GraphQL field.
func ConnectionColumns(ctx context.Context, f *Fields, extra ...string) []string {
	opCtx, sels, ok := nodeSelections(ctx)
	if !ok {
		return nil
	}
	return f.columns(opCtx, sels, extra...)
}

// snake turns a GraphQL field name into the column name ent gives it: occurredAt is
// occurred_at, requestID request_id.
func snake(name string) string {
	var b strings.Builder
	rs := []rune(name)
	for i, r := range rs {
		if unicode.IsUpper(r) {
			if i > 0 && (unicode.IsLower(rs[i-1]) || (i+1 < len(rs) && unicode.IsLower(rs[i+1]) && unicode.IsUpper(rs[i-1]))) {
				b.WriteByte('_')
			}
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

// covers reports whether an entity loaded with the columns have answers a selection that
// needs the columns need; nil is every column.
func covers(have, need []string) bool {
	if have == nil {
		return true
	}
	if need == nil {
		return false
	}
	for _, c := range need {
		if _, ok := slices.BinarySearch(have, c); !ok {
			return false
		}
	}
	return true
}

// typeOf is the named type of a field, for the fragments on it.
func typeOf(d *ast.FieldDefinition) []string {
	if d == nil || d.Type == nil {
		return nil
	}
	return []string{d.Type.Name()}
}
