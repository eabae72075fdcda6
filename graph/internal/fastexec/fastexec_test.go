package fastexec

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/99designs/gqlgen/graphql"
	"github.com/google/uuid"
	"github.com/vektah/gqlparser/v2/ast"
)

// written is what m writes into a bytes.Buffer, as the executor marshals a response, and into
// a writer that is not one.
func written(m graphql.Marshaler) (buffer, other string) {
	var b bytes.Buffer
	b.Grow(4) // smaller than most values: AvailableBuffer must grow
	m.MarshalGQL(&b)
	var s strings.Builder
	m.MarshalGQL(&s)
	return b.String(), s.String()
}

func same(t *testing.T, name string, got graphql.Marshaler, ok bool, want graphql.Marshaler) {
	t.Helper()
	if want == graphql.Null {
		if ok {
			t.Errorf("%s: got a value, want false as graphql answers null", name)
		}
		return
	}
	if !ok {
		t.Fatalf("%s: got false, want %q", name, want)
	}
	w, _ := written(want)
	b, o := written(got)
	if b != w || o != w {
		t.Errorf("%s: wrote %s (buffer) and %s (other writer), want %s", name, b, o, w)
	}
}

func TestScalarsWriteWhatGraphqlWrites(t *testing.T) {
	for _, s := range []string{"", "plain", `quote " and \ backslash`, "tab\t cr\r nl\n bell\a nul\x00 \x1f",
		"é ü 日本 🎉", "invalid \xff\xfe utf-8", "</script>&<>", "\u2028\u2029"} {
		got, ok := String(&s)
		same(t, "String "+s, got, ok, graphql.MarshalString(s))
	}
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		paris = time.FixedZone("CET", 3600)
	}
	for _, tm := range []time.Time{{}, time.Date(2026, 11, 29, 1, 2, 3, 0, time.UTC),
		time.Date(2026, 1, 2, 3, 4, 5, 123456789, time.UTC), time.Date(1999, 12, 31, 23, 59, 59, 1000, paris),
		time.Unix(0, 0), time.Date(12345, 1, 1, 0, 0, 0, 0, time.UTC)} {
		got, ok := Time(&tm)
		same(t, "Time "+tm.String(), got, ok, graphql.MarshalTime(tm))
	}
	for _, id := range []uuid.UUID{uuid.Nil, uuid.New(), uuid.Must(uuid.NewV7()), uuid.Max} {
		got, ok := UUID(&id)
		same(t, "UUID "+id.String(), got, ok, graphql.MarshalUUID(id))
	}
	for _, n := range []int{0, 1, -1, 42, math.MaxInt, math.MinInt} {
		got, ok := Int(&n)
		same(t, "Int", got, ok, graphql.MarshalInt(n))
	}
}

func fieldsOf(aliases ...string) []graphql.CollectedField {
	out := make([]graphql.CollectedField, len(aliases))
	for i, a := range aliases {
		out[i] = graphql.CollectedField{Field: &ast.Field{Alias: a, Name: a}}
	}
	return out
}

func TestFieldSetWritesWhatGraphqlWrites(t *testing.T) {
	for _, aliases := range [][]string{{}, {"id"}, {"id", "name", "id", "n2"}, {"a", "b", "c", "d", "e", "f", "g", "h"}} {
		fields := fieldsOf(aliases...)
		ours, theirs := NewFieldSet(fields), graphql.NewFieldSet(fields)
		for i := range fields {
			v := graphql.MarshalString(strings.Repeat("x", i))
			if i == 1 {
				v = graphql.Null
			}
			ours.Values[i], theirs.Values[i] = v, v
		}
		want, _ := written(theirs)
		b, o := written(ours)
		if b != want || o != want {
			t.Errorf("%v: got %s and %s, want %s", aliases, b, o, want)
		}
	}
}

func TestFieldSetResolvesConcurrentFields(t *testing.T) {
	oc := &graphql.OperationContext{RecoverFunc: func(ctx context.Context, err any) error { return fmt.Errorf("panic: %v", err) }}
	ctx := graphql.WithResponseContext(graphql.WithOperationContext(context.Background(), oc),
		graphql.DefaultErrorPresenter, graphql.DefaultRecover)
	fields := fieldsOf("a", "b", "c", "d")
	var running, most atomic.Int32
	slow := func(v string) func(context.Context) graphql.Marshaler {
		return func(context.Context) graphql.Marshaler {
			n := running.Add(1)
			for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
			}
			time.Sleep(20 * time.Millisecond)
			running.Add(-1)
			return graphql.MarshalString(v)
		}
	}
	m := NewFieldSet(fields)
	var g graphql.DeferredGroup
	m.Values[0] = graphql.MarshalString("sync")
	m.ResolveConcurrently(oc, &g, 1, true, true, slow("one"))
	m.ResolveConcurrently(oc, &g, 2, true, true, slow("two"))
	m.ResolveConcurrently(oc, &g, 3, true, false, func(context.Context) graphql.Marshaler { panic("boom") })
	m.Dispatch(ctx)
	if got, _ := written(m); got != `{"a":"sync","b":"one","c":"two","d":null}` {
		t.Errorf("got %s", got)
	}
	if most.Load() != 2 {
		t.Errorf("got %d fields resolving at once, want 2", most.Load())
	}
	// A panic is an error and a null; only the null of a non-null field makes the object
	// invalid, as in gqlgen.
	if m.Invalids != 0 {
		t.Errorf("got %d invalid fields, want 0", m.Invalids)
	}
	if errs := graphql.GetErrors(ctx); len(errs) != 1 || !strings.Contains(errs[0].Message, "boom") {
		t.Errorf("got errors %v, want the panic's", errs)
	}
	n := NewFieldSet(fieldsOf("x"))
	n.ResolveConcurrently(oc, &g, 0, true, true, func(context.Context) graphql.Marshaler { return graphql.Null })
	n.Dispatch(ctx)
	if n.Invalids != 1 {
		t.Errorf("a non-null field resolved to null: got %d invalid fields, want 1", n.Invalids)
	}
}

func TestMarshalSliceMatchesGraphql(t *testing.T) {
	for _, length := range []int{0, 1, 2, 17} {
		ctx := graphql.WithResponseContext(context.Background(), graphql.DefaultErrorPresenter, quietRecover)
		ctx = graphql.WithFieldContext(ctx, &graphql.FieldContext{Object: "Q", Field: fieldsOf("list")[0]})
		element := func(ctx context.Context, i int) graphql.Marshaler {
			if i == 1 {
				panic("element 1")
			}
			return graphql.MarshalString(graphql.GetPath(ctx).String())
		}
		want, _ := written(graphql.MarshalSliceConcurrently(ctx, length, 0, false, element))
		wantErrs := graphql.GetErrors(ctx)
		ctx2 := graphql.WithResponseContext(context.Background(), graphql.DefaultErrorPresenter, quietRecover)
		ctx2 = graphql.WithFieldContext(ctx2, &graphql.FieldContext{Object: "Q", Field: fieldsOf("list")[0]})
		got, _ := written(MarshalSlice(ctx2, length, 0, false, element))
		if got != want {
			t.Errorf("%d elements: got %s, want %s", length, got, want)
		}
		if gotErrs := graphql.GetErrors(ctx2); fmt.Sprint(gotErrs) != fmt.Sprint(wantErrs) {
			t.Errorf("%d elements: got errors %v, want %v", length, gotErrs, wantErrs)
		}
	}
}

// quietRecover is graphql.DefaultRecover without the stack trace on stderr.
func quietRecover(_ context.Context, err any) error {
	return fmt.Errorf("internal system error: %v", err)
}

func TestFieldsCacheCollectsOnce(t *testing.T) {
	doc := &ast.QueryDocument{}
	oc := &graphql.OperationContext{Doc: doc}
	sel := ast.SelectionSet{&ast.Field{Alias: "a", Name: "a"}, &ast.Field{Alias: "b", Name: "b"}}
	impl := []string{"T"}
	var c FieldsCache
	first := c.Fields(oc, sel, impl)
	if len(first) != 2 || first[0].Alias != "a" || first[1].Alias != "b" {
		t.Fatalf("got %+v", first)
	}
	if again := c.Fields(oc, sel, impl); &again[0] != &first[0] {
		t.Errorf("the second call collected again")
	}
	if other := c.Fields(oc, sel[:1], impl); len(other) != 1 {
		t.Errorf("a shorter selection got %d fields, want 1", len(other))
	}
}

func TestNoDeferredGroupWithoutDeferredFields(t *testing.T) {
	ctx := context.Background()
	g := NewDeferredGroup(ctx, []graphql.CollectedField{{Field: &ast.Field{Alias: "a"}}})
	if g.FieldSet != nil || g.Defers != nil {
		t.Errorf("got a group %+v, want none", g)
	}
	deferred := graphql.CollectedField{Field: &ast.Field{Alias: "b"}, Deferrables: []*graphql.Deferrable{{Label: "x"}}}
	g = NewDeferredGroup(ctx, []graphql.CollectedField{{Field: &ast.Field{Alias: "a"}}, deferred})
	if g.FieldSet == nil || g.Defers == nil {
		t.Errorf("got no group for a deferred field")
	}
}

func TestMarshalCopiesOut(t *testing.T) {
	big := strings.Repeat("x", 1000)
	first := Marshal(graphql.MarshalString(big))
	second := Marshal(graphql.MarshalString("short"))
	if string(first) != `"`+big+`"` || string(second) != `"short"` {
		t.Errorf("got %.20s… and %s", first, second)
	}
	if cap(second) >= 2*len(second)+8 {
		t.Errorf("got capacity %d for %d bytes, want a copy of about the size", cap(second), len(second))
	}
}

func TestExecIsFoundInTheContext(t *testing.T) {
	type state struct{ n int }
	s := &state{n: 7}
	ctx := graphql.WithFieldContext(WithExec(context.Background(), s), &graphql.FieldContext{Object: "Query"})
	if got, ok := Exec[*state](ctx); !ok || got != s {
		t.Errorf("got %v, %v; want the state put in", got, ok)
	}
	if _, ok := Exec[*state](context.Background()); ok {
		t.Errorf("found a state in a context without one")
	}
}

// TestWithFieldContextActsAsGraphqls: the field context is found where gqlgen looks, with its
// parent set; other values, cancellation and deadlines are the parent context's.
func TestWithFieldContextActsAsGraphqls(t *testing.T) {
	type otherKey struct{}
	parent, cancel := context.WithCancel(context.WithValue(context.Background(), otherKey{}, "v"))
	root := &graphql.FieldContext{Object: "Query"}
	parent = graphql.WithFieldContext(parent, root)

	ctx, fc := WithFieldContext(parent, &graphql.FieldContext{Object: "User", IsResolver: true})
	if got := graphql.GetFieldContext(ctx); got != fc || got.Object != "User" || !got.IsResolver || got.Parent != root {
		t.Fatalf("got field context %+v, want the copy of User's with Query's as parent", got)
	}
	fc.Result = "r"
	if graphql.GetFieldContext(ctx).Result != "r" {
		t.Error("a change of the returned field context is not seen through the context")
	}
	if ctx.Value(otherKey{}) != "v" {
		t.Error("another value of the parent context is lost")
	}
	child, _ := WithFieldContext(ctx, &graphql.FieldContext{Object: "Event"})
	if got := graphql.GetFieldContext(child); got.Parent != fc {
		t.Errorf("got parent %p, want %p", got.Parent, fc)
	}
	derived, stop := context.WithCancel(child)
	defer stop()
	cancel()
	select {
	case <-derived.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("cancelling the parent does not reach a context derived from the field's")
	}
	if ctx.Err() != context.Canceled {
		t.Errorf("got %v, want context.Canceled", ctx.Err())
	}
}

// TestFieldSetIsOneSmallAllocation: a set of up to four fields is one allocation of 160 bytes
// or less, the size class below gqlgen's set alone.
func TestFieldSetIsOneSmallAllocation(t *testing.T) {
	if size := unsafe.Sizeof(FieldSet{}); size > 160 {
		t.Errorf("a FieldSet is %d bytes, want at most 160", size)
	}
	fields := fieldsOf("a", "b", "c", "d")
	if allocs := testing.AllocsPerRun(10, func() { _ = NewFieldSet(fields) }); allocs != 1 {
		t.Errorf("got %.0f allocations, want 1", allocs)
	}
}
