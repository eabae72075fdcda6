package rules

import (
	"encoding/json"
	"math"
	"testing"
)

// TestJSONWriterAsMarshal: jsonWriter writes what json.Marshal writes, byte for byte, and
// fails where it fails, for the values of the fast path and for those it hands over.
func TestJSONWriterAsMarshal(t *testing.T) {
	type custom struct {
		A int    `json:"a"`
		B string `json:"b,omitempty"`
	}
	values := []any{
		nil, true, false, "", "plain", `say "hi"`, `a\b`, "<a href=x>&</a>", "tab\tnewline\n", "héllo ✓ 日本",
		"\x7f", "bad \xff utf-8", "\u2028 separator",
		json.Number("12345678901234567890"), json.Number("-0.25e-3"), json.Number(""),
		0.0, -0.0, 1.5, -1234.5678, 1e20, 1e21, 1e-6, 1e-7, 123456789.0, float64(1 << 53),
		0, 42, int64(-7), int32(3), uint8(9),
		map[string]any(nil), map[string]any{},
		map[string]any{"b": 1.0, "a": "x", "c": []any{1.0, "two", nil, map[string]any{"z": true, "y": json.Number("3")}}},
		map[string]any{"<key>": "v", "k\"q": map[string]any{"n": nil}},
		[]any(nil), []any{}, []any{[]any{}, map[string]any{}},
		custom{A: 1}, map[string]any{"custom": custom{A: 2, B: "b"}, "list": []string{"x"}},
		map[string]any{"deep": map[string]any{"a": map[string]any{"b": map[string]any{"c": 1.0, "d": 2.0}, "e": 3.0}}},
	}
	for _, v := range values {
		want, wantErr := json.Marshal(v)
		var w jsonWriter
		err := w.write(v)
		if (err != nil) != (wantErr != nil) {
			t.Errorf("%#v: got error %v, json.Marshal's %v", v, err, wantErr)
			continue
		}
		if err == nil && string(w.buf) != string(want) {
			t.Errorf("%#v:\n got %s\nwant %s", v, w.buf, want)
		}
		if len(w.keys) != 0 {
			t.Errorf("%#v: %d keys left in the buffer", v, len(w.keys))
		}
	}
	for _, v := range []any{math.NaN(), math.Inf(1), json.Number("1x"), map[string]any{"f": math.Inf(-1)}, []any{make(chan int)}} {
		var w jsonWriter
		if err := w.write(v); err == nil {
			t.Errorf("%#v: no error, json.Marshal fails", v)
		}
	}
	// One writer, reused, as insertRows does: each value alone.
	var w jsonWriter
	for _, v := range values[len(values)-5:] {
		w.buf = w.buf[:0]
		if err := w.write(v); err != nil {
			t.Fatal(err)
		}
		want, _ := json.Marshal(v)
		if string(w.buf) != string(want) {
			t.Errorf("reused: got %s, want %s", w.buf, want)
		}
	}
}
