package graph

import (
	"context"
	"strings"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// pageInfoCursors is the handler extension that makes a connection asked for pageInfo
// without edges load its page anyway. entgql's Paginate reads no row when edges is not
// selected: it answers endCursor null with hasNextPage true, and a "load more" built on that
// starts over forever. Adding a hidden `edges { cursor }` to what the resolver sees makes it
// read the page (at most first/last rows, as if edges were asked) and fill both cursors and
// the page flags; the response still holds only what the client selected.
type pageInfoCursors struct{ schema *ast.Schema }

var (
	_ graphql.HandlerExtension = pageInfoCursors{}
	_ graphql.FieldInterceptor = pageInfoCursors{}
)

func (pageInfoCursors) ExtensionName() string                   { return "PageInfoCursors" }
func (pageInfoCursors) Validate(graphql.ExecutableSchema) error { return nil }

func (p pageInfoCursors) InterceptField(ctx context.Context, next graphql.Resolver) (any, error) {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || fc.Field.Field == nil || fc.Field.Definition == nil {
		return next(ctx)
	}
	typeName := fc.Field.Definition.Type.Name()
	if !strings.HasSuffix(typeName, "Connection") {
		return next(ctx)
	}
	conn := p.schema.Types[typeName]
	if conn == nil || conn.Fields.ForName("edges") == nil {
		return next(ctx)
	}
	var pageInfo, edges bool
	for _, f := range graphql.CollectFields(graphql.GetOperationContext(ctx), fc.Field.Selections, nil) {
		switch f.Name {
		case "pageInfo":
			pageInfo = true
		case "edges":
			edges = true
		}
	}
	if !pageInfo || edges {
		return next(ctx)
	}
	edgesDef := conn.Fields.ForName("edges")
	edgeType := p.schema.Types[edgesDef.Type.Name()]
	var cursorDef *ast.FieldDefinition
	if edgeType != nil {
		cursorDef = edgeType.Fields.ForName("cursor")
	}
	hidden := &ast.Field{
		Alias: "edges", Name: "edges", Definition: edgesDef, ObjectDefinition: conn,
		SelectionSet: ast.SelectionSet{&ast.Field{Alias: "cursor", Name: "cursor", Definition: cursorDef, ObjectDefinition: edgeType}},
	}
	// Only the field context's copy of the selection changes: gqlgen writes the response from
	// the field as asked (its own copy), and the context keeps its place in the path.
	asked := fc.Field.Selections
	fc.Field.Selections = append(append(ast.SelectionSet{}, asked...), hidden)
	defer func() { fc.Field.Selections = asked }()
	return next(ctx)
}
