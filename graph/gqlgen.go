//go:build ignore

// gqlgen.go runs gqlgen over the graph (`make generate`, after ent/entc.go). It binds the
// GraphQL types of every ent type in the database registry to their ent models, so that a new
// type needs no entry in gqlgen.yml, and it writes the body of every resolver whose
// implementation ent/xdbgen generated into graph/xdb_gen.go, so that no resolver of a list,
// a stitched field or a generated mutation is written by hand.
package main

import (
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"log"
	"os"
	"regexp"
	"strings"

	"github.com/99designs/gqlgen/api"
	"github.com/99designs/gqlgen/codegen"
	"github.com/99designs/gqlgen/codegen/config"
	"golang.org/x/tools/imports"

	"github.com/multidb/multidb/internal/database"
)

// generatedResolvers is the file whose methods named resolve<Object><Field> implement resolvers.
const generatedResolvers = "graph/xdb_gen.go"

func main() {
	cfg, err := config.LoadConfigFromDefaultLocations()
	if err != nil {
		log.Fatal(err)
	}
	for _, db := range database.Registry {
		for _, t := range db.Types {
			if t.Nodes == nil {
				continue // not in the graph
			}
			pkg := "github.com/multidb/multidb/ent/" + db.Name + "."
			for _, name := range []string{"%s", "%sConnection", "%sEdge", "%sOrder", "%sOrderField", "%sWhereInput", "Create%sInput", "Update%sInput"} {
				name = fmt.Sprintf(name, t.Name)
				if !cfg.Models.Exists(name) {
					cfg.Models.Add(name, pkg+name)
				}
			}
		}
	}
	impl, err := implemented()
	if err != nil {
		log.Fatal(err)
	}
	if err := api.Generate(cfg, api.AddPlugin(resolvers{impl})); err != nil {
		log.Fatal(err)
	}
	if err := rewriteFile(cfg.Exec.Filename, func(src string) (string, error) {
		src, err := fastPaths(src)
		if err != nil {
			return "", err
		}
		return fastInputs(src)
	}); err != nil {
		log.Fatal(err)
	}
}

// implemented returns the names of the resolve methods in generatedResolvers.
func implemented() (map[string]bool, error) {
	f, err := parser.ParseFile(token.NewFileSet(), generatedResolvers, nil, parser.SkipObjectResolution)
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, d := range f.Decls {
		if fn, ok := d.(*ast.FuncDecl); ok && fn.Recv != nil && strings.HasPrefix(fn.Name.Name, "resolve") {
			out[fn.Name.Name] = true
		}
	}
	return out, nil
}

// resolvers implements the resolvers that graph/xdb_gen.go implements, and leaves the others
// as they were written.
type resolvers struct{ impl map[string]bool }

func (resolvers) Name() string { return "xdbresolvers" }

// GenerateCode resolves the one concurrent field of an object that has only one (Event.user,
// LogEntry.user, ...) in line: gqlgen would run a lone concurrent field in line anyway, after
// allocating a closure to schedule it, once per object of the answer. The object itself is
// resolved concurrently with its siblings of a list, which is what the loaders' batches need.
func (resolvers) GenerateCode(data *codegen.Data) error {
	for _, o := range data.Objects {
		if o.Root || o.Stream {
			continue
		}
		concurrent := 0
		for _, f := range o.Fields {
			if f.IsConcurrent() {
				concurrent++
			}
		}
		if concurrent == 1 {
			o.DisableConcurrency = true
		}
	}
	return nil
}

func (r resolvers) Implement(prev string, f *codegen.Field) string {
	method := "resolve" + f.Object.Name + f.GoFieldName
	if !r.impl[method] {
		if prev == "" {
			return fmt.Sprintf("panic(fmt.Errorf(\"not implemented: %v - %v\"))", f.GoFieldName, f.Name)
		}
		return prev
	}
	args := []string{"ctx"}
	if !f.Object.Root {
		args = append(args, "obj")
	}
	for _, a := range f.Args {
		args = append(args, a.VarName)
	}
	return fmt.Sprintf("return r.%s(%s)", method, strings.Join(args, ", "))
}

// rewriteFile replaces the file at path by edit of its contents, formatted, its imports
// completed.
func rewriteFile(path string, edit func(string) (string, error)) error {
	src, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	out, err := edit(string(src))
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	formatted, err := imports.Process(path, []byte(out), nil)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return os.WriteFile(path, formatted, 0o644)
}

// gqlgen's executor spends most of a large answer's allocations on work that every object and
// every scalar field repeats, whatever the query asks: a deferred group with the object's path
// (for @defer, which almost no query uses), a map and two closures to write the object, and,
// per scalar field, a field context, a context, four closures and the value boxed twice, to
// read a struct field. fastPaths edits the generated executor so that this work is done only
// when it is needed:
//
//   - an object below the root makes its deferred group only when one of its fields is
//     deferred, keeps its fields in a fastexec.FieldSet (one allocation, where gqlgen's takes
//     three, and no map to write it), and finds its fields in a cache of the operation's own,
//     whose key costs nothing to build;
//   - the field contexts' Child functions find the executor in the context, where the root
//     objects put it, instead of capturing it: one allocation less per object field;
//   - a query's response is written into a pooled buffer, and copied out once;
//   - the executable schema asks the resolver root for each object's resolver once, not
//     once per resolved field;
//   - a field's arguments are worked out once per operation, not once per parent;
//   - a list's elements are marshalled by fastexec.MarshalSlice, with one allocation per
//     element where gqlgen's takes four;
//   - the fields below take their field context and the context holding it in one
//     allocation (fastexec.WithFieldContext), where gqlgen's takes two;
//   - a field of a resolver without arguments, whose value is a pointer, calls the resolver
//     and marshals its value as gqlgen's path does, without its closures and middleware;
//   - an object or list read from a struct field gets its field context, for its own fields,
//     and none of the rest of gqlgen's path;
//   - a scalar or enum field read from a struct field, without arguments or directives, is
//     marshalled straight from the field (a value that writes itself, an enum or a cursor,
//     by its address, so that it is not boxed). When the value cannot be marshalled (a null where
//     the schema forbids one), the field takes gqlgen's own path, which reports the error with
//     its path.
//
// The field sets, field contexts, lists and response bytes of an HTTP request's operations
// are taken from the request's fastexec.Arena, which the transport releases for the next
// request once the response is written.
//
// The fields of the last three kinds skip the field interceptors: the graph's own
// (fieldChain) act on root fields and fields with arguments only.
//
// Each edit is checked to apply where the template writes what it expects, so that a gqlgen
// upgrade that changes the template fails generation instead of silently losing the edit.
func fastPaths(src string) (string, error) {
	const newGroup = "deferred := graphql.NewDeferredGroup(ctx)"
	if !strings.Contains(src, execContext) {
		return "", fmt.Errorf("fastPaths: the executionContext template changed")
	}
	src = strings.Replace(src, execContext, execContext[:len(execContext)-1]+
		"\tcollected fastexec.FieldsCache // the fields of each selection set, collected once\n"+
		"\targs      fastexec.ArgsCache   // the arguments of each field, worked out once\n"+
		"\tarena     *fastexec.Arena      // the request's, for the values that die with it; nil for none\n}", 1)
	argsOnce := 0
	src = fieldArgs.ReplaceAllStringFunc(src, func(m string) string {
		argsOnce++
		return "\tif args, ok := ec.args.Get(field.Field); ok {\n\t\tfc.Args = args\n\t\treturn fc, nil\n\t}\n" +
			strings.TrimSuffix(m, "\treturn fc, nil\n") + "\tec.args.Put(field.Field, fc.Args)\n\treturn fc, nil\n"
	})
	if argsOnce == 0 {
		return "", fmt.Errorf("fastPaths: the field arguments template changed")
	}
	const newExec = "\tec := newExecutionContext(opCtx, e, make(chan graphql.DeferredResult))\n"
	if strings.Count(src, newExec) != 1 {
		return "", fmt.Errorf("fastPaths: the Exec template changed")
	}
	src = strings.Replace(src, newExec, newExec+"\tec.arena = fastexec.ArenaOf(ctx)\n", 1)
	objects := 0
	var err error
	src = objectFunc.ReplaceAllStringFunc(src, func(fn string) string {
		if !strings.Contains(fn, "graphql.NewFieldSet(") {
			return fn // an interface's, which hands the object to its type's
		}
		objects++
		for _, e := range [][2]string{
			{"fields := graphql.CollectFields(ec.OperationContext, sel, ", "fields := ec.collected.Fields(ec.OperationContext, sel, "},
			{"out := graphql.NewFieldSet(fields)", "out := ec.arena.NewFieldSet(fields)"},
			{newGroup, "deferred := ec.arena.NewDeferredGroup(ctx, fields)"},
		} {
			if strings.Count(fn, e[0]) != 1 {
				err = fmt.Errorf("fastPaths: the object template changed: %q", e[0])
			}
			fn = strings.Replace(fn, e[0], e[1], 1)
		}
		return fn
	})
	if err != nil {
		return "", err
	}
	if objects == 0 || strings.Count(src, "ec.arena.NewFieldSet") != objects {
		return "", fmt.Errorf("fastPaths: the object template changed")
	}
	const response = "\t\t\tvar buf bytes.Buffer\n\t\t\tdata.MarshalGQL(&buf)\n\t\t\tresponse.Data = buf.Bytes()\n"
	if strings.Count(src, response) != 1 {
		return "", fmt.Errorf("fastPaths: the query's response template changed")
	}
	src = strings.Replace(src, response, "\t\t\tresponse.Data = ec.arena.Marshal(data)\n", 1)
	roots := 0
	src = rootContext.ReplaceAllStringFunc(src, func(m string) string {
		roots++
		return m + "\tctx = fastexec.WithExec(ctx, ec)\n"
	})
	children := 0
	src = childFunc.ReplaceAllStringFunc(src, func(m string) string {
		children++
		child := childFunc.FindStringSubmatch(m)[1]
		return fmt.Sprintf("Child: func(ctx context.Context, field graphql.CollectedField) (*graphql.FieldContext, error) {\n"+
			"\t\t\tif x, ok := fastexec.Exec[*executionContext](ctx); ok {\n\t\t\t\treturn x.%s(ctx, field)\n\t\t\t}\n"+
			"\t\t\treturn nil, errors.New(\"the field's context is not of this executor\")\n\t\t},", child)
	})
	if roots == 0 || children == 0 {
		return "", fmt.Errorf("fastPaths: the root or field context template changed")
	}
	const slice = "graphql.MarshalSliceConcurrently(ctx, "
	if !strings.Contains(src, slice) {
		return "", fmt.Errorf("fastPaths: the list template changed")
	}
	src = strings.ReplaceAll(src, slice, "ec.arena.MarshalSlice(ctx, ")

	marshalers := map[string]fastMarshal{}
	for _, m := range marshalFunc.FindAllStringSubmatch(src, -1) {
		name, body := m[1], m[3]
		switch {
		case strings.Contains(body, "ec.") || strings.Contains(body, "graphql.Add") || strings.Contains(body, "Error"):
			// Writes an object, or reports errors: gqlgen's path only, unless the raw
			// marshaller below is all it calls.
			if r := rawNonNull.FindStringSubmatch(body); r != nil {
				marshalers[name] = fastMarshal{raw: r[1]}
			}
		case body == "\treturn v" && !strings.HasPrefix(m[2], "*"):
			marshalers[name] = fastMarshal{direct: true, self: true}
		default:
			marshalers[name] = fastMarshal{direct: true}
		}
	}
	fields := 0
	src = structField.ReplaceAllStringFunc(src, func(fn string) string {
		m := structField.FindStringSubmatch(fn)
		head, fieldContext, value, marshal := m[1], m[2], m[3], m[4]
		fields++
		fm, scalar := marshalers[marshal]
		switch {
		case !scalar:
			// An object or a list: its fields need this field's context (their path, and
			// the selections the loaders read), but none of the rest of gqlgen's path.
			return head + fmt.Sprintf("\tfc, err := ec.%s(ctx, field)\n\tif err != nil {\n\t\treturn graphql.Null\n\t}\n"+
				"\tctx, _ = ec.arena.WithFieldContext(ctx, fc)\n\treturn ec.%s(ctx, field.Selections, %s)\n}\n", fieldContext, marshal, value)
		case fm.self:
			return head + fmt.Sprintf("\treturn &%s\n}\n", value)
		case fm.direct:
			return head + fmt.Sprintf("\treturn ec.%s(ctx, field.Selections, %s)\n}\n", marshal, value)
		case refs[fm.raw] != "":
			return head + fmt.Sprintf("\tif res, ok := %s(&%s); ok {\n\t\treturn res\n\t}\n", refs[fm.raw], value) + fn[len(head):]
		default:
			return head + fmt.Sprintf("\tif res := %s(%s); res != graphql.Null {\n\t\treturn res\n\t}\n", fm.raw, value) + fn[len(head):]
		}
	})
	if fields == 0 {
		return "", fmt.Errorf("fastPaths: no field matched the field template")
	}
	// A field marked non-null at run time by an interceptor, and nullable in the schema, is a
	// RequiredNull on an error: it nulls its parent.
	requiredNull := map[string]string{"true": "", "false": "\t\tif fc.NonNull {\n\t\t\treturn graphql.RequiredNull\n\t\t}\n"}
	resolved := 0
	src = resolverField.ReplaceAllStringFunc(src, func(fn string) string {
		m := resolverField.FindStringSubmatch(fn)
		head, fieldContext, call, marshal, nonNull := m[1], m[2], m[3], m[4], m[5]
		resolved++
		return head + fmt.Sprintf(`	fc, err := ec.%s(ctx, field)
	if err != nil {
		return graphql.Null
	}
	ctx, fc = ec.arena.WithFieldContext(ctx, fc)
	defer func() {
		if r := recover(); r != nil {
			ec.Error(ctx, ec.Recover(ctx, r))
			ret = graphql.Null
		}
	}()
	res, err := %s
	if err != nil {
		ec.Error(ctx, graphql.AddFieldLocationToError(ctx, err))
%s		return graphql.Null
	}
	fc.Result = res
	return ec.%s(ctx, field.Selections, res)
}
`, fieldContext, call, requiredNull[nonNull], marshal)
	})
	if resolved == 0 {
		return "", fmt.Errorf("fastPaths: no resolver field matched the field template")
	}
	if src, err = cacheResolvers(src); err != nil {
		return "", err
	}
	return strings.Replace(src, "import (\n", "import (\n\t\"github.com/multidb/multidb/graph/internal/fastexec\"\n", 1), nil
}

// cacheResolvers makes the executable schema keep each object's resolver, asked of the
// resolver root once: the root's methods (the resolver files' `return &eventResolver{r}`)
// allocate on every call, once per resolved field of every object of the answer.
func cacheResolvers(src string) (string, error) {
	const schema = "Resolvers: cfg.Resolvers,"
	root := resolverRoot.FindStringSubmatch(src)
	if root == nil || strings.Count(src, schema) != 1 {
		return "", fmt.Errorf("fastPaths: the resolver root template changed")
	}
	var fields, methods, assigns strings.Builder
	for _, m := range resolverMethod.FindAllStringSubmatch(root[1], -1) {
		name, typ := m[1], m[2]
		fmt.Fprintf(&fields, "\t%s %s\n", lcFirst(name), typ)
		fmt.Fprintf(&methods, "func (c *cachedResolvers) %s() %s { return c.%s }\n", name, typ, lcFirst(name))
		fmt.Fprintf(&assigns, "\t\t%s: r.%s(),\n", lcFirst(name), name)
	}
	if fields.Len() == 0 {
		return "", fmt.Errorf("fastPaths: the resolver root has no methods")
	}
	src = strings.Replace(src, schema, "Resolvers: cacheResolvers(cfg.Resolvers),", 1)
	return src + fmt.Sprintf(`
// cachedResolvers is a resolver root that answers each method with what the root it wraps
// answered once.
type cachedResolvers struct {
%s}

%s
// cacheResolvers wraps r, when there is one, in a cachedResolvers.
func cacheResolvers(r ResolverRoot) ResolverRoot {
	if r == nil {
		return nil
	}
	return &cachedResolvers{
%s	}
}
`, fields.String(), methods.String(), assigns.String()), nil
}

func lcFirst(s string) string { return strings.ToLower(s[:1]) + s[1:] }

var (
	// resolverRoot is the interface of the resolver root: its methods.
	resolverRoot = regexp.MustCompile(`(?s)\ntype ResolverRoot interface \{\n(.*?)\n\}\n`)
	// resolverMethod is one method of the resolver root: its name and the resolver's type.
	resolverMethod = regexp.MustCompile(`(?m)^\t(\w+)\(\) (\w+)$`)
)

// refs are the marshallers of non-null scalars that have a helper writing the value in place,
// from a pointer to the struct field: boxing a pointer allocates nothing.
var refs = map[string]string{
	"graphql.MarshalString": "fastexec.String",
	"graphql.MarshalTime":   "fastexec.Time",
	"graphql.MarshalUUID":   "fastexec.UUID",
	"graphql.MarshalInt":    "fastexec.Int",
}

// fastMarshal is how a scalar field's marshaller can be called without a field context:
// directly when it reports nothing, or through the raw marshaller it wraps.
type fastMarshal struct {
	direct bool
	self   bool   // the value writes itself (an enum, a cursor): its address does, boxed for free
	raw    string // graphql.MarshalString, ...: a non-null scalar that is Null only on an error
}

// fieldTemplate is the body gqlgen writes for a field: $1 the field context, $2 what the
// resolver returns, $3 the value's type, $4 its marshaller, $5 whether the field is non-null.
const fieldTemplate = `\treturn graphql\.ResolveField\(\n\t\tctx,\n\t\tec\.OperationContext,\n\t\tfield,\n` +
	`\t\tfunc\(ctx context\.Context, field graphql\.CollectedField\) \(\*graphql\.FieldContext, error\) \{\n\t\t\treturn ec\.(fieldContext_[^\s(]+)\(ctx, field\)\n\t\t\},\n` +
	`\t\tfunc\(ctx context\.Context\) \(any, error\) \{\n\t\t\treturn ($2)\n\t\t\},\n` +
	`\t\tnil,\n` +
	`\t\tfunc\(ctx context\.Context, selections ast\.SelectionSet, v ($3)\) graphql\.Marshaler \{\n\t\t\treturn ec\.(marshal[^\s(]+)\(ctx, selections, v\)\n\t\t\},\n` +
	`\t\t(?:true|false),\n\t\t(true|false),\n\t\)\n\}\n`

// fieldFunc is the signature line of a field's function.
const fieldFunc = `(?m)^(func \(ec \*executionContext\) _[^\s(]+\(ctx context\.Context, field graphql\.CollectedField, obj [^)]+\) \(ret graphql\.Marshaler\) \{\n)`

// rootContext is where a root object (Query, Mutation, Subscription) starts its fields'
// context.
var rootContext = regexp.MustCompile(`\n\tctx = graphql\.WithFieldContext\(ctx, &graphql\.FieldContext\{\n\t\tObject: "\w+",\n\t\}\)\n`)

// childFunc is the Child function of a field context, which captures the executor.
var childFunc = regexp.MustCompile(`Child: func\(ctx context\.Context, field graphql\.CollectedField\) \(\*graphql\.FieldContext, error\) \{\n\t\t\treturn ec\.(childFields_\w+)\(ctx, field\)\n\t\t\},`)

// fieldArgs is where a field context works out the field's arguments.
var fieldArgs = regexp.MustCompile(`\tctx = graphql\.WithFieldContext\(ctx, fc\)\n\tif fc\.Args, err = ec\.field_\w+_args\(ctx, field\.ArgumentMap\(ec\.Variables\)\); err != nil \{\n\t\tec\.Error\(ctx, err\)\n\t\treturn fc, err\n\t\}\n\treturn fc, nil\n`)

// execContext is the declaration of the executor's state of one operation.
const execContext = "type executionContext struct {\n\t*graphql.ExecutionContextState[ResolverRoot, DirectiveRoot, ComplexityRoot]\n}"

var (
	// objectFunc is the function that resolves and writes an object below the root.
	objectFunc = regexp.MustCompile(`(?s)\nfunc \(ec \*executionContext\) _[^\s(]+\(ctx context\.Context, sel ast\.SelectionSet, obj [^)]+\) graphql\.Marshaler \{\n.*?\n\}\n`)
	// marshalFunc is a generated marshaller of a value: its name, parameter type and body.
	marshalFunc = regexp.MustCompile(`(?s)\nfunc \(ec \*executionContext\) (marshal[^\s(]+)\(ctx context\.Context, sel ast\.SelectionSet, v ([^)]+)\) graphql\.Marshaler \{\n(.*?)\n\}\n`)
	// rawNonNull is the body of the marshaller of a non-null built-in scalar.
	rawNonNull = regexp.MustCompile(`^\t_ = sel\n\tres := (graphql\.Marshal\w+)\(v\)\n\tif res == graphql\.Null \{\n\t\tgraphql\.AddInvalidNullFromMarshaler\(ctx, "[^"]+"\)\n\t\}\n\treturn res$`)
	// structField is a field resolved by reading a struct field, with no arguments and no
	// directives: its signature line, its field context, the value read, and the marshaller
	// of the value.
	structField = regexp.MustCompile(fieldFunc + strings.NewReplacer("($2)", `(obj\.\w+), nil`, "($3)", `[^)]+`).Replace(fieldTemplate))
	// resolverField is a field of a resolver without arguments or directives, whose value is
	// a pointer: its signature line, its field context, the resolver's call, its value's
	// marshaller, and whether it is non-null.
	resolverField = regexp.MustCompile(fieldFunc + strings.NewReplacer("($2)", `(ec\.Resolvers\.\w+\(\)\.\w+\(ctx, obj\))`, "($3)", `\*[^)]+`).Replace(fieldTemplate))
)

// gqlgen's unmarshaller of an input object copies the object's map before reading it, and
// gives each field it reads a context holding the field's path, two allocations, for the
// errors of that field: some ten allocations per object, 10,000 for a trackEvents of 1,000
// events. fastInputs edits the generated unmarshallers so that
//
//   - one that never writes into the map (no default to set) reads the caller's map, the
//     variables' own, as it is;
//   - a field set straight from its value (it.X = data) is unmarshalled under the object's
//     context, and only when that fails once more under the field's path, for the error:
//     the unmarshallers depend on their input alone, so the second call fails as the
//     first did, with the path gqlgen's reports.
//
// As fastPaths, it fails generation when the template no longer writes what it expects.
func fastInputs(src string) (string, error) {
	const copied = "\tasMap := map[string]any{}\n\tfor k, v := range obj.(map[string]any) {\n\t\tasMap[k] = v\n\t}\n"
	funcs, kept := 0, 0
	src = inputFunc.ReplaceAllStringFunc(src, func(fn string) string {
		funcs++
		if strings.Count(fn, copied) != 1 || strings.Count(fn, "asMap[") != 2 {
			return fn // sets defaults into its copy
		}
		kept++
		return strings.Replace(fn, copied, "\tasMap := obj.(map[string]any)\n", 1)
	})
	if funcs == 0 || kept == 0 {
		return "", fmt.Errorf("fastInputs: the input object template changed")
	}
	fields := 0
	src = inputField.ReplaceAllStringFunc(src, func(m string) string {
		fields++
		g := inputField.FindStringSubmatch(m)
		indent, name, unmarshal, set := g[1], g[2], g[3], g[4]
		return fmt.Sprintf("%[1]sdata, err := %[3]s(ctx, v)\n%[1]sif err != nil {\n"+
			"%[1]s\tctx := graphql.WithPathContext(ctx, graphql.NewPathWithField(%[2]q))\n"+
			"%[1]s\t_, err = %[3]s(ctx, v)\n%[1]s\treturn it, err\n%[1]s}\n%[4]s", indent, name, unmarshal, set)
	})
	if fields == 0 {
		return "", fmt.Errorf("fastInputs: no field matched the input field template")
	}
	return src, nil
}

var (
	// inputFunc is the unmarshaller of an input object.
	inputFunc = regexp.MustCompile(`(?s)\nfunc \(ec \*executionContext\) unmarshalInput\w+\(ctx context\.Context, obj any\) \([^)]+\) \{\n.*?\n\}\n`)
	// inputField is the reading of an input field set straight from its value: the
	// indentation, the field's name, its unmarshaller and the line that sets it.
	inputField = regexp.MustCompile(`(?m)^(\t+)ctx := graphql\.WithPathContext\(ctx, graphql\.NewPathWithField\("(\w+)"\)\)\n\t+data, err := (ec\.[^\s(]+)\(ctx, v\)\n\t+if err != nil \{\n\t+return it, err\n\t+\}\n(\t+it\.\w+ = data\n)`)
)
