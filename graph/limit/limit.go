// Package limit bounds what one GraphQL operation may ask for, before any of it runs: how deep
// it nests, how many aliases and fields it selects, how many rows each connection may return
// (first/last, and a default page when neither is given), how long a cursor may be, and its
// complexity, in which each connection multiplies the cost of what it selects by its page size.
package limit

import (
	"context"
	"encoding/json"
	"math"
	"reflect"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"
	"github.com/vektah/gqlparser/v2/parser"
)

// Limits are the bounds of one operation. A zero field takes its value from Defaults.
type Limits struct {
	// Depth is the deepest nesting of fields: `{ users { edges { node { id } } } }` is 4.
	Depth int
	// Aliases is how many aliased fields an operation may hold, fragments expanded.
	Aliases int
	// Fields is how many fields an operation may select, fragments expanded: it stops
	// fragments that spread each other into an exponential document. A document is also
	// refused, before it is validated, when it holds more fields than this, expanded or not:
	// validating that fields can merge takes time quadratic in their number.
	Fields int
	// Tokens is how many tokens the parser reads before it gives up on a document.
	Tokens int
	// Complexity is the highest cost: 1 per field, and a connection costs its page size
	// (first, last, DefaultPage, or the number of ids of nodes) times its selection.
	Complexity int
	// MaxPage is the largest first or last.
	MaxPage int
	// DefaultPage is the page size of a connection asked without first or last.
	DefaultPage int
	// CursorLength is the longest after or before cursor, in bytes.
	CursorLength int
	// RootFields is how many root fields one mutation operation may hold, fragments
	// expanded: each runs a write and leaves an audit entry.
	RootFields int
	// SameMutation is how many times one mutation may appear in an operation, aliased.
	SameMutation int
	// WherePredicates is how many predicates (fields of a where input, at any depth, and
	// the members of and/or lists) one where argument may hold.
	WherePredicates int
	// WhereList is the longest list inside a where argument (idIn, nameIn, or, and...).
	WhereList int
	// AnonymousDocument is the longest document, in bytes, of a caller who is not signed in:
	// they may only sign up, log in or track events.
	AnonymousDocument int
	// AnonymousComplexity is the highest complexity of an operation of a caller who is not
	// signed in.
	AnonymousComplexity int
}

// Defaults are the limits of a server that sets none.
var Defaults = Limits{
	Depth:        12,
	Aliases:      50,
	Fields:       1000,
	Tokens:       30_000,
	Complexity:   50_000,
	MaxPage:      1000,
	DefaultPage:  100,
	CursorLength: 1024,

	RootFields:          20,
	SameMutation:        5,
	WherePredicates:     100,
	WhereList:           1000,
	AnonymousDocument:   8 << 10,
	AnonymousComplexity: 200,
}

// WithDefaults returns l with its zero fields set from Defaults.
func (l Limits) WithDefaults() Limits {
	d := Defaults
	for _, f := range []struct{ v, def *int }{
		{&l.Depth, &d.Depth}, {&l.Aliases, &d.Aliases}, {&l.Fields, &d.Fields}, {&l.Tokens, &d.Tokens}, {&l.Complexity, &d.Complexity},
		{&l.MaxPage, &d.MaxPage}, {&l.DefaultPage, &d.DefaultPage}, {&l.CursorLength, &d.CursorLength},
		{&l.RootFields, &d.RootFields}, {&l.SameMutation, &d.SameMutation},
		{&l.WherePredicates, &d.WherePredicates}, {&l.WhereList, &d.WhereList},
		{&l.AnonymousDocument, &d.AnonymousDocument}, {&l.AnonymousComplexity, &d.AnonymousComplexity},
	} {
		if *f.v <= 0 {
			*f.v = *f.def
		}
	}
	l.DefaultPage = min(l.DefaultPage, l.MaxPage)
	return l
}

// Schema wraps an executable schema so that its complexity follows l: every field with first
// and last arguments (every connection, the fields that cross databases too) multiplies its
// selection's complexity by its page size, and a field with an ids list by the number of ids.
// Explicit complexity functions of the wrapped schema still win.
func Schema(es graphql.ExecutableSchema, l Limits) graphql.ExecutableSchema {
	return &schema{ExecutableSchema: es, l: l.WithDefaults()}
}

type schema struct {
	graphql.ExecutableSchema
	l Limits
}

// Complexity implements graphql.ExecutableSchema.
func (s *schema) Complexity(ctx context.Context, typeName, field string, child int, args map[string]any) (int, bool) {
	if c, ok := s.ExecutableSchema.Complexity(ctx, typeName, field, child, args); ok {
		return c, true
	}
	def := s.Schema().Types[typeName]
	if def == nil {
		return 0, false
	}
	fd := def.Fields.ForName(field)
	if fd == nil {
		return 0, false
	}
	n := 1
	switch {
	case isConnection(fd):
		n = s.l.DefaultPage
		for _, name := range []string{"first", "last"} {
			if v, ok := toInt(args[name]); ok {
				n = int(min(max(v, 0), int64(s.l.MaxPage)))
			}
		}
	case fd.Arguments.ForName("ids") != nil:
		if ids, ok := args["ids"].([]any); ok {
			n = len(ids)
		}
	}
	return satAdd(satMul(child, n), 1), true
}

// isConnection reports whether a field pages with first and last.
func isConnection(fd *ast.FieldDefinition) bool {
	return fd.Arguments.ForName("first") != nil && fd.Arguments.ForName("last") != nil
}

func satMul(a, b int) int {
	if a != 0 && b > math.MaxInt32/a {
		return math.MaxInt32
	}
	return a * b
}

func satAdd(a, b int) int {
	if a > math.MaxInt32-b {
		return math.MaxInt32
	}
	return a + b
}

// toInt reads an Int argument as parsed from a document or decoded from JSON variables.
func toInt(v any) (int64, bool) {
	switch v := v.(type) {
	case int:
		return int64(v), true
	case int32:
		return int64(v), true
	case int64:
		return v, true
	case float64:
		return int64(v), true
	case json.Number:
		n, err := v.Int64()
		return n, err == nil
	}
	return 0, false
}

// Extension is the gqlgen handler extension that enforces l: it refuses an operation that
// breaks a limit before anything runs, and gives a connection asked without first or last a
// page of DefaultPage. Install the complexity limit too (extension.FixedComplexityLimit over
// a Schema): this extension runs first and keeps that walk bounded.
type Extension struct {
	l         Limits
	anonymous func(context.Context) bool
}

// New returns the extension of l.
func New(l Limits) Extension { return Extension{l: l.WithDefaults()} }

// WithAnonymous returns e telling callers who are not signed in by anonymous: their
// documents are held to AnonymousDocument bytes.
func (e Extension) WithAnonymous(anonymous func(context.Context) bool) Extension {
	e.anonymous = anonymous
	return e
}

var (
	_ graphql.HandlerExtension          = Extension{}
	_ graphql.OperationParameterMutator = Extension{}
	_ graphql.OperationContextMutator   = Extension{}
	_ graphql.FieldInterceptor          = Extension{}
)

// ExtensionName implements graphql.HandlerExtension.
func (Extension) ExtensionName() string { return "Limits" }

// Validate implements graphql.HandlerExtension.
func (Extension) Validate(graphql.ExecutableSchema) error { return nil }

// shortDocument is the length below which a document cannot hold enough fields to be slow to
// validate, and is not parsed ahead of gqlgen's (cached) parse.
const shortDocument = 1024

// MutateOperationParameters refuses a long document that holds more than Fields fields
// before gqlgen validates it. Install it after extension.AutomaticPersistedQuery, which
// fills in the document of a persisted query.
func (e Extension) MutateOperationParameters(ctx context.Context, p *graphql.RawParams) *gqlerror.Error {
	// Before the parse, so that a large anonymous document is neither parsed nor cached.
	if e.anonymous != nil && len(p.Query) > e.l.AnonymousDocument && e.anonymous(ctx) {
		return invalid(nil, "the document is %d bytes long; at most %d are allowed without signing in", len(p.Query), e.l.AnonymousDocument)
	}
	if len(p.Query) <= shortDocument {
		return nil
	}
	doc, err := parser.ParseQueryWithTokenLimit(&ast.Source{Input: p.Query}, e.l.Tokens)
	if err != nil {
		return nil // gqlgen's own parse reports it
	}
	n := 0
	var count func(ast.SelectionSet)
	count = func(set ast.SelectionSet) {
		for _, sel := range set {
			switch s := sel.(type) {
			case *ast.Field:
				n++
				count(s.SelectionSet)
			case *ast.InlineFragment:
				count(s.SelectionSet)
			}
		}
	}
	for _, op := range doc.Operations {
		count(op.SelectionSet)
	}
	for _, f := range doc.Fragments {
		count(f.SelectionSet)
	}
	if n > e.l.Fields {
		return invalid(nil, "the document selects %d fields; at most %d are allowed", n, e.l.Fields)
	}
	return nil
}

// MutateOperationContext walks the operation, fragments expanded, and refuses it when it
// breaks a limit. Depth, aliases and fields are GRAPHQL_VALIDATION_FAILED, as other rules of
// the document are; first/last and cursors are argument values, BAD_USER_INPUT.
func (e Extension) MutateOperationContext(ctx context.Context, oc *graphql.OperationContext) *gqlerror.Error {
	if oc.Operation == nil {
		return nil
	}
	if oc.Operation.Operation == ast.Mutation {
		if err := e.rootFields(oc.Operation.SelectionSet); err != nil {
			return err
		}
	}
	w := walker{l: e.l, vars: oc.Variables}
	w.selections(oc.Operation.SelectionSet, nil, 1)
	return w.err
}

// rootFields refuses a mutation operation with more than RootFields root fields, or one
// mutation more than SameMutation times: each root field of a mutation writes, hashes a
// password or counts against a rate limit, and is audited.
func (e Extension) rootFields(set ast.SelectionSet) *gqlerror.Error {
	n := 0
	same := map[string]int{}
	var err *gqlerror.Error
	var walk func(ast.SelectionSet)
	walk = func(set ast.SelectionSet) {
		for _, sel := range set {
			if err != nil {
				return
			}
			switch s := sel.(type) {
			case *ast.Field:
				n++
				same[s.Name]++
				switch {
				case n > e.l.RootFields:
					err = invalid(ast.Path{ast.PathName(s.Alias)}, "the mutation holds more than %d root fields", e.l.RootFields)
				case same[s.Name] > e.l.SameMutation:
					err = invalid(ast.Path{ast.PathName(s.Alias)}, "the mutation asks for %s more than %d times", s.Name, e.l.SameMutation)
				}
			case *ast.InlineFragment:
				walk(s.SelectionSet)
			case *ast.FragmentSpread:
				if s.Definition != nil {
					walk(s.Definition.SelectionSet)
				}
			}
		}
	}
	walk(set)
	return err
}

type walker struct {
	l       Limits
	vars    map[string]any
	fields  int
	aliases int
	err     *gqlerror.Error
}

// selections walks a selection set at depth; a depth of 0 means inside introspection, which
// reads the schema in memory and nests deeper than any limit that suits data (GraphiQL's
// query follows ofType ten levels down): its fields still count, its depth does not.
func (w *walker) selections(set ast.SelectionSet, path ast.Path, depth int) {
	for _, sel := range set {
		if w.err != nil {
			return
		}
		switch s := sel.(type) {
		case *ast.Field:
			w.field(s, path, depth)
		case *ast.InlineFragment:
			w.selections(s.SelectionSet, path, depth)
		case *ast.FragmentSpread:
			if s.Definition != nil {
				w.selections(s.Definition.SelectionSet, path, depth)
			}
		}
	}
}

func (w *walker) field(f *ast.Field, parent ast.Path, depth int) {
	path := append(parent[:len(parent):len(parent)], ast.PathName(f.Alias))
	w.fields++
	if f.Alias != f.Name {
		w.aliases++
	}
	next := depth + 1
	if depth == 0 || f.Name == "__schema" || f.Name == "__type" {
		next = 0
	}
	switch {
	case depth > w.l.Depth:
		w.err = invalid(path, "the operation nests %d levels deep or more; at most %d are allowed", depth, w.l.Depth)
	case w.aliases > w.l.Aliases:
		w.err = invalid(path, "the operation holds more than %d aliases", w.l.Aliases)
	case w.fields > w.l.Fields:
		w.err = invalid(path, "the operation selects more than %d fields, fragments expanded", w.l.Fields)
	}
	if w.err != nil || f.Definition == nil {
		return
	}
	if len(f.Arguments) > 0 {
		args := f.ArgumentMap(w.vars)
		for _, name := range []string{"first", "last"} {
			if n, ok := toInt(args[name]); ok && n > int64(w.l.MaxPage) {
				w.err = badInput(path, "%s: at most %d, got %d; page through the rest with after/before", name, w.l.MaxPage, n)
				return
			}
		}
		for _, name := range []string{"after", "before"} {
			if c, ok := args[name].(string); ok && len(c) > w.l.CursorLength {
				w.err = badInput(path, "%s: a cursor is at most %d bytes long, got %d", name, w.l.CursorLength, len(c))
				return
			}
		}
		if where, ok := args["where"]; ok && where != nil {
			if msg := w.l.checkWhere(where); msg != "" {
				w.err = badInput(path, "where: %s", msg)
				return
			}
		}
	}
	w.selections(f.SelectionSet, path, next)
}

func invalid(path ast.Path, format string, args ...any) *gqlerror.Error {
	err := gqlerror.ErrorPathf(path, format, args...)
	errcode.Set(err, errcode.ValidationFailed)
	return err
}

func badInput(path ast.Path, format string, args ...any) *gqlerror.Error {
	err := gqlerror.ErrorPathf(path, format, args...)
	err.Extensions = map[string]any{"code": "BAD_USER_INPUT"}
	return err
}

// InterceptField gives a connection asked without first or last its default page: forwards
// from the start, or backwards from before when only before is given. The resolvers read
// the arguments after this runs, so the top-level connections and the loaders of the fields
// that cross databases alike get the page.
func (e Extension) InterceptField(ctx context.Context, next graphql.Resolver) (any, error) {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || !fc.IsResolver || fc.Field.Definition == nil || !isConnection(fc.Field.Definition) {
		return next(ctx)
	}
	first, _ := fc.Args["first"].(*int)
	last, _ := fc.Args["last"].(*int)
	if first == nil && last == nil {
		page := e.l.DefaultPage
		args := make(map[string]any, len(fc.Args))
		for k, v := range fc.Args {
			args[k] = v
		}
		if !isNil(fc.Args["before"]) && isNil(fc.Args["after"]) {
			args["last"] = &page
		} else {
			args["first"] = &page
		}
		fc.Args = args
	}
	return next(ctx)
}

// isNil reports whether an argument was not given: gqlgen stores an absent one as a typed nil.
func isNil(v any) bool {
	if v == nil {
		return true
	}
	rv := reflect.ValueOf(v)
	return rv.Kind() == reflect.Pointer && rv.IsNil()
}
