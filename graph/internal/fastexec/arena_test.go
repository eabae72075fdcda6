package fastexec

import (
	"context"
	"strings"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// TestArenaActsAsTheHeap: what the arena's methods make is what the functions they stand for
// make, with and without an arena.
func TestArenaActsAsTheHeap(t *testing.T) {
	for _, a := range []*Arena{nil, NewArena()} {
		fields := fieldsOf("id", "name", "x", "y", "z")
		m := a.NewFieldSet(fields)
		if len(m.Values) != len(fields) || m.ndelayed != 0 || m.Invalids != 0 {
			t.Fatalf("arena %v: got field set %+v", a != nil, m)
		}
		for i := range m.Values {
			m.Values[i] = graphql.MarshalString(strings.Repeat("v", i))
		}
		want := Marshal(m)
		if got := a.Marshal(m); string(got) != string(want) {
			t.Errorf("arena %v: Marshal got %s, want %s", a != nil, got, want)
		}

		ctx := graphql.WithResponseContext(context.Background(), graphql.DefaultErrorPresenter, quietRecover)
		ctx = graphql.WithFieldContext(ctx, &graphql.FieldContext{Object: "Q", Field: fieldsOf("list")[0]})
		element := func(ctx context.Context, i int) graphql.Marshaler {
			return graphql.MarshalString(graphql.GetPath(ctx).String())
		}
		for _, n := range []int{0, 1, 5, chunk + 1} {
			wantList, _ := written(MarshalSlice(ctx, n, 0, false, element))
			gotList, _ := written(a.MarshalSlice(ctx, n, 0, false, element))
			if gotList != wantList {
				t.Errorf("arena %v, %d elements: got %.100s, want %.100s", a != nil, n, gotList, wantList)
			}
		}

		fc := &graphql.FieldContext{Object: "Event", Field: fieldsOf("user")[0]}
		inner, got := a.WithFieldContext(ctx, fc)
		if graphql.GetFieldContext(inner) != got || got.Object != "Event" || got.Parent != graphql.GetFieldContext(ctx) {
			t.Errorf("arena %v: WithFieldContext got %+v", a != nil, got)
		}
		a.Release()
	}
}

// TestArenaReleaseZeroesAndReuses: released values are zero for the next request, which
// takes them again, and a response written later does not change an earlier one's bytes.
func TestArenaReleaseZeroesAndReuses(t *testing.T) {
	a := new(Arena)
	sets := make([]*FieldSet, chunk+3) // more than a chunk
	for i := range sets {
		sets[i] = a.NewFieldSet(fieldsOf("a"))
		sets[i].Values[0] = graphql.MarshalString("x")
		sets[i].Invalids = 1
	}
	first := a.Marshal(graphql.MarshalString("first"))
	second := a.Marshal(graphql.MarshalString("second"))
	if string(first) != `"first"` || string(second) != `"second"` {
		t.Fatalf("got %s and %s", first, second)
	}
	a.Release()
	for i := range sets {
		if sets[i].Values != nil || sets[i].Invalids != 0 || sets[i].fields != nil {
			t.Fatalf("field set %d not zeroed by Release: %+v", i, sets[i])
		}
	}
	if again := a.NewFieldSet(fieldsOf("b")); again != sets[0] {
		t.Errorf("the first field set after Release is not the first one's memory")
	}
	if len(a.sets.chunks) != 2 {
		t.Errorf("got %d chunks, want the 2 of before", len(a.sets.chunks))
	}
}

// TestArenaKeptForDeferredFields: an operation with a deferred field keeps its arena, whose
// values its deferred fields still read after the response.
func TestArenaKeptForDeferredFields(t *testing.T) {
	a := new(Arena)
	m := a.NewFieldSet(fieldsOf("a"))
	m.Values[0] = graphql.MarshalString("kept")
	deferred := graphql.CollectedField{Field: &ast.Field{Alias: "b"}, Deferrables: []*graphql.Deferrable{{Label: "x"}}}
	if g := a.NewDeferredGroup(context.Background(), []graphql.CollectedField{deferred}); g.FieldSet == nil {
		t.Fatal("got no group for a deferred field")
	}
	a.Release()
	if m.Values == nil || a.sets.used != 1 {
		t.Errorf("Release emptied an arena that a deferred field still reads")
	}
}

// TestArenaBoundsWhatItKeeps: an arena that grew past maxArenaChunks of a kind, or whose
// response buffer grew past maxPooledBuffer, is not kept for the next request.
func TestArenaBoundsWhatItKeeps(t *testing.T) {
	var s slab[FieldSet]
	for range (maxArenaChunks + 1) * chunk {
		s.take(1)
	}
	if s.reset() {
		t.Errorf("a slab of %d chunks is kept, want at most %d", len(s.chunks), maxArenaChunks)
	}
	a := new(Arena)
	a.Marshal(graphql.MarshalString(strings.Repeat("x", maxPooledBuffer)))
	if a.reset() {
		t.Errorf("an arena whose response buffer grew to %d bytes is kept", a.response.Cap())
	}
	if b := new(Arena); !b.reset() {
		t.Errorf("an empty arena is not kept")
	}

	var small slab[FieldSet]
	small.take(chunk + 1) // a list longer than a chunk gets its own memory
	if len(small.chunks) != 0 || !small.reset() {
		t.Errorf("a long list went into the slab's chunks: %d", len(small.chunks))
	}
}

// TestArgsCacheKeepsAFieldsArguments: the arguments put for a field are the ones got for it,
// and only for it.
func TestArgsCacheKeepsAFieldsArguments(t *testing.T) {
	var c ArgsCache
	f, g := &ast.Field{Alias: "events"}, &ast.Field{Alias: "events"}
	if _, ok := c.Get(f); ok {
		t.Fatal("an empty cache has arguments")
	}
	first := 10
	c.Put(f, map[string]any{"first": &first})
	args, ok := c.Get(f)
	if !ok || args["first"] != &first {
		t.Errorf("got %v, %v; want the arguments put", args, ok)
	}
	if _, ok := c.Get(g); ok {
		t.Errorf("another field of the same name got the arguments")
	}
}
