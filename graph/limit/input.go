package limit

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/gqlerror"
)

// Inputs is the gqlgen handler extension that refuses, with BAD_USER_INPUT and before the
// field's resolver runs, arguments no database should be sent: text holding NUL (PostgreSQL
// refuses it in text and jsonb, and the error would read as a database failure) or invalid
// UTF-8, in any string of any argument (filters, mutation inputs, event properties, map keys
// included); and after/before cursors whose value is not of the shape the server issues for
// the connection's order. It walks the resolved arguments of every field generically, so a
// new type or argument needs nothing here.
type Inputs struct{}

var (
	_ graphql.HandlerExtension = Inputs{}
	_ graphql.FieldInterceptor = Inputs{}
)

// ExtensionName implements graphql.HandlerExtension.
func (Inputs) ExtensionName() string { return "Inputs" }

// Validate implements graphql.HandlerExtension.
func (Inputs) Validate(graphql.ExecutableSchema) error { return nil }

// maxInputDepth bounds the walk; decoded JSON nests less deep than the decoder allows anyway.
const maxInputDepth = 256

// InterceptField implements graphql.FieldInterceptor.
func (Inputs) InterceptField(ctx context.Context, next graphql.Resolver) (any, error) {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || len(fc.Args) == 0 {
		return next(ctx)
	}
	for name, v := range fc.Args {
		if msg := checkStrings(reflect.ValueOf(v), name); msg != "" {
			return nil, inputError(ctx, msg)
		}
	}
	for _, name := range []string{"after", "before"} {
		if msg := checkCursor(fc.Args[name], fc.Args["orderBy"]); msg != "" {
			return nil, inputError(ctx, name+": "+msg)
		}
	}
	return next(ctx)
}

func inputError(ctx context.Context, msg string) error {
	err := gqlerror.ErrorPathf(graphql.GetPath(ctx), "%s", msg)
	err.Extensions = map[string]any{"code": "BAD_USER_INPUT"}
	return err
}

// checkStrings reports the first string under v, the argument name, that holds NUL or
// invalid UTF-8. A first walk keeps no path, which costs no allocation on the arguments of
// every connection of a large answer; only a refused value is walked again for its path.
func checkStrings(v reflect.Value, name string) string {
	var quiet stringWalk
	if quiet.walk(v, 0) == "" {
		return ""
	}
	w := stringWalk{path: make([]pathStep, 1, 8)}
	w.path[0].name = name
	return w.walk(v, 0)
}

// stringWalk walks an argument, with the path to where it is: written out only for the
// message of a refused value, so that the walk of a batch of 1,000 inputs formats no path.
// A walk without a path (nil) keeps none, and reports a refusal without one.
type stringWalk struct {
	path []pathStep
}

// pathStep is one step of a path: "inputs", "[3]", ".Properties", ".page", " key".
type pathStep struct {
	name  string        // the argument, or " key" for a map's key itself
	field string        // a struct's field
	key   reflect.Value // the key of a map's value, when valid
	index int           // a list's element, when the others are empty
}

func (w *stringWalk) String() string {
	var b strings.Builder
	for _, s := range w.path {
		switch {
		case s.name != "":
			b.WriteString(s.name)
		case s.field != "":
			b.WriteString(".")
			b.WriteString(s.field)
		case s.key.IsValid():
			fmt.Fprint(&b, ".", s.key.Interface())
		default:
			fmt.Fprintf(&b, "[%d]", s.index)
		}
	}
	return b.String()
}

// into walks v one step further down the path.
func (w *stringWalk) into(v reflect.Value, step pathStep, depth int) string {
	if w.path == nil {
		return w.walk(v, depth+1)
	}
	w.path = append(w.path, step)
	msg := w.walk(v, depth+1)
	w.path = w.path[:len(w.path)-1]
	return msg
}

func (w *stringWalk) walk(v reflect.Value, depth int) string {
	if depth > maxInputDepth {
		return w.String() + ": nested too deep"
	}
	switch v.Kind() {
	case reflect.String:
		if msg := checkString(v.String()); msg != "" {
			return w.String() + ": " + msg
		}
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return ""
		}
		return w.walk(v.Elem(), depth+1)
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return "" // bytes, such as an id: not text
		}
		for i := range v.Len() {
			if msg := w.into(v.Index(i), pathStep{index: i}, depth); msg != "" {
				return msg
			}
		}
	case reflect.Map:
		if v.Len() == 0 {
			return ""
		}
		// One key and one value, reused: MapIter.Key and Value would copy each entry.
		key, val := reflect.New(v.Type().Key()).Elem(), reflect.New(v.Type().Elem()).Elem()
		for it := v.MapRange(); it.Next(); {
			key.SetIterKey(it)
			val.SetIterValue(it)
			if msg := w.into(key, pathStep{name: " key"}, depth); msg != "" {
				return msg
			}
			if msg := w.into(val, pathStep{key: key}, depth); msg != "" {
				return msg
			}
		}
	case reflect.Struct:
		t := v.Type()
		for i := range t.NumField() {
			if f := t.Field(i); f.IsExported() {
				if msg := w.into(v.Field(i), pathStep{field: f.Name}, depth); msg != "" {
					return msg
				}
			}
		}
	}
	return ""
}

func checkString(s string) string {
	switch {
	case strings.IndexByte(s, 0) >= 0:
		return "text may not hold the NUL character (U+0000)"
	case !utf8.ValidString(s):
		return "text must be valid UTF-8"
	}
	return ""
}

// checkCursor reports what is wrong with a decoded cursor (an *entgql.Cursor, seen by
// reflection so that every client's cursor type is covered): its value must be what the
// server puts in the cursors of that order, none for the default order (by id), and for an
// orderBy the kind of value its field orders by. A cursor is opaque to clients; one of
// another shape was made by hand, and would reach the database as a value of the wrong type.
func checkCursor(cursor, orderBy any) string {
	c := reflect.ValueOf(cursor)
	if !c.IsValid() || c.Kind() != reflect.Pointer || c.IsNil() {
		return ""
	}
	c = c.Elem()
	if c.Kind() != reflect.Struct {
		return ""
	}
	val := c.FieldByName("Value")
	if !val.IsValid() {
		return ""
	}
	if val.IsNil() {
		return ""
	}
	got := val.Elem()
	want, ok := orderValue(orderBy)
	if !ok {
		return "not a cursor of this connection"
	}
	if kindOf(got) == "" || kindOf(got) != kindOf(want) || (kindOf(got) == "bytes" && got.Len() != want.Len()) {
		return "not a cursor of this connection and order"
	}
	norm, ok := asTypeOf(got, want)
	if !ok {
		return "not a cursor of this connection and order"
	}
	if val.CanSet() {
		val.Set(norm)
	}
	return ""
}

// asTypeOf returns got, a value decoded from a cursor, as a value of want's type. msgpack
// gives back a UUID ([16]byte) as 16 raw bytes, an enum as a plain string and an integer as
// the smallest integer type that holds it; sent to a database as they are, the bytes compare
// as binary with a uuid or text column (PostgreSQL refuses them, SQLite orders them apart
// from every text and loses or repeats rows). Normalized here, every engine compares the
// cursor's value as the column's own type.
func asTypeOf(got, want reflect.Value) (reflect.Value, bool) {
	if got.Type() == want.Type() {
		return got, true
	}
	switch kindOf(want) {
	case "bytes":
		if want.Kind() == reflect.Array {
			v := reflect.New(want.Type()).Elem()
			reflect.Copy(v, got)
			return v, true
		}
		if got.Type().ConvertibleTo(want.Type()) {
			return got.Convert(want.Type()), true
		}
	case "number":
		// An integer column's cursor holds an integer; a float in it was made by hand.
		if isFloat(got) && !isFloat(want) {
			return got, false
		}
		if got.Type().ConvertibleTo(want.Type()) {
			return got.Convert(want.Type()), true
		}
	case "string", "bool":
		if got.Type().ConvertibleTo(want.Type()) {
			return got.Convert(want.Type()), true
		}
	case "time":
		return got, true
	}
	return got, false
}

func isFloat(v reflect.Value) bool {
	return v.Kind() == reflect.Float32 || v.Kind() == reflect.Float64
}

// orderValue returns the zero value of what orderBy's field orders by, by calling its Value
// function on a zero node; ok is false without an orderBy (the default order by id puts no
// value in cursors).
func orderValue(orderBy any) (v reflect.Value, ok bool) {
	o := reflect.ValueOf(orderBy)
	if !o.IsValid() || o.Kind() != reflect.Pointer || o.IsNil() || o.Elem().Kind() != reflect.Struct {
		return v, false
	}
	field := o.Elem().FieldByName("Field")
	if !field.IsValid() || field.Kind() != reflect.Pointer || field.IsNil() {
		return v, false
	}
	fn := field.Elem().FieldByName("Value")
	if !fn.IsValid() || fn.Kind() != reflect.Func || fn.IsNil() || fn.Type().NumIn() != 1 || fn.Type().In(0).Kind() != reflect.Pointer {
		return v, false
	}
	out := fn.Call([]reflect.Value{reflect.New(fn.Type().In(0).Elem())})
	if len(out) == 0 || !out[0].IsValid() || (out[0].Kind() == reflect.Interface && out[0].IsNil()) {
		return v, false
	}
	if out[0].Kind() == reflect.Interface {
		return out[0].Elem(), true
	}
	return out[0], true
}

var timeType = reflect.TypeFor[time.Time]()

// kindOf groups values as a cursor's encoding keeps them apart: msgpack decodes any integer
// into the smallest type that holds it, and an enum as its string.
func kindOf(v reflect.Value) string {
	switch {
	case !v.IsValid():
		return ""
	case v.Type() == timeType:
		return "time"
	}
	switch v.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "bool"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64,
		reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Slice, reflect.Array:
		if v.Type().Elem().Kind() == reflect.Uint8 {
			return "bytes" // a UUID, encoded as binary
		}
	}
	return ""
}
