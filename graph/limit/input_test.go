package limit

import (
	"reflect"
	"testing"

	"github.com/google/uuid"
)

type eventInput struct {
	UserID     uuid.UUID
	Name       string
	Properties map[string]any
}

func TestCheckStringsNamesThePath(t *testing.T) {
	ok := &eventInput{Name: "ok", Properties: map[string]any{"k": "v"}}
	cases := []struct {
		name string
		arg  any
		want string
	}{
		{"valid", []*eventInput{ok, ok}, ""},
		{"field", []*eventInput{ok, {Name: "a\x00"}}, "inputs[1].Name: text may not hold the NUL character (U+0000)"},
		{"nested value", []*eventInput{ok, ok, {Properties: map[string]any{"nested": []any{map[string]any{"k": "v\x00"}}}}},
			"inputs[2].Properties.nested[0].k: text may not hold the NUL character (U+0000)"},
		{"map key", []*eventInput{{Properties: map[string]any{"k\xff": 1}}}, "inputs[0].Properties key: text must be valid UTF-8"},
		{"plain string", "a\x00", "inputs: text may not hold the NUL character (U+0000)"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := checkStrings(reflect.ValueOf(tc.arg), "inputs"); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}

// TestCheckStringsFormatsNoPathOfValidInput: the walk of a batch of 1,000 events allocates a
// key and a value per map and nothing per string or element.
func TestCheckStringsFormatsNoPathOfValidInput(t *testing.T) {
	batch := make([]*eventInput, 1000)
	for i := range batch {
		batch[i] = &eventInput{Name: "page.view", Properties: map[string]any{"path": "/", "n": i, "tags": []any{"a", "b"}}}
	}
	v := reflect.ValueOf(batch)
	allocs := testing.AllocsPerRun(5, func() {
		if msg := checkStrings(v, "inputs"); msg != "" {
			t.Fatal(msg)
		}
	})
	if max := float64(2*len(batch) + 10); allocs > max {
		t.Errorf("got %.0f allocations, want at most %.0f", allocs, max)
	}
}

// TestCheckStringsAllocatesNothingForValidStructs: the arguments of a connection (first, an
// orderBy, a where without maps) are checked once per parent of a stitched page, and cost
// no allocation.
func TestCheckStringsAllocatesNothingForValidStructs(t *testing.T) {
	first := 10
	args := []any{&first, &eventInput{Name: "page.view"}, []*eventInput{{Name: "a"}, {Name: "b"}}}
	for _, arg := range args {
		v := reflect.ValueOf(arg)
		if allocs := testing.AllocsPerRun(10, func() {
			if msg := checkStrings(v, "orderBy"); msg != "" {
				t.Fatal(msg)
			}
		}); allocs != 0 {
			t.Errorf("%T: got %.0f allocations, want none", arg, allocs)
		}
	}
}
