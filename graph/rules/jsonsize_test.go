package rules

import (
	"encoding/json"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

// TestJSONSizeBound: the bound is never below what encoding/json writes, and vouches for no
// value encoding/json refuses.
func TestJSONSizeBound(t *testing.T) {
	values := []any{
		nil, true, false, "", "plain", `"quoted" \\ back`, "<a href='x'>&</a>", "\x00\x01\x1f", "\xff\xfe invalid",
		"\u2028\u2029", "日本語", json.Number("-12.5e+3"), json.Number("0"), -0.0000012345678901234567, -1.2345678901234567e-308,
		math.MaxFloat64, -math.SmallestNonzeroFloat64, int64(math.MinInt64), uint64(math.MaxUint64), float32(-1.1754944e-38),
		map[string]any{}, []any{}, map[string]any{"<k>": []any{nil, 1.5, map[string]any{"\x00": "\xff"}}},
	}
	r := rand.New(rand.NewPCG(1, 2))
	for range 2000 {
		values = append(values, randomJSON(r, 0))
	}
	for _, v := range values {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("marshal %#v: %v", v, err)
		}
		n, ok := jsonSizeBound(v, 0)
		if !ok || n < len(b) {
			t.Errorf("bound of %s: %d, %v; want at least %d", b, n, ok, len(b))
		}
	}
	for _, v := range []any{math.NaN(), math.Inf(-1), json.Number(""), json.Number("1."), json.Number("01"), json.Number("Inf"),
		json.Number("1e"), json.Number("+1"), map[string]any{"k": math.Inf(1)}, []any{struct{}{}}, make(chan int)} {
		if n, ok := jsonSizeBound(v, 0); ok {
			t.Errorf("bound of %#v: %d, vouched for; want it left to encoding/json", v, n)
		}
	}
}

func randomJSON(r *rand.Rand, depth int) any {
	kind := r.IntN(8)
	if depth > 4 {
		kind = r.IntN(5)
	}
	switch kind {
	case 0:
		return nil
	case 1:
		return r.IntN(2) == 0
	case 2:
		return r.NormFloat64() * math.Pow(10, float64(r.IntN(40)-20))
	case 3:
		return json.Number(strconv.FormatFloat(r.NormFloat64()*math.Pow(10, float64(r.IntN(40)-20)), 'g', -1, 64))
	case 4:
		return randomString(r)
	case 5, 6:
		m := map[string]any{}
		for range r.IntN(5) {
			m[randomString(r)] = randomJSON(r, depth+1)
		}
		return m
	}
	l := make([]any, r.IntN(5))
	for i := range l {
		l[i] = randomJSON(r, depth+1)
	}
	return l
}

func randomString(r *rand.Rand) string {
	b := make([]byte, r.IntN(12))
	for i := range b {
		b[i] = byte(r.IntN(256))
	}
	return string(b)
}

// TestCheckJSONAtTheBound: a value of exactly MaxJSONBytes passes, one byte more is refused,
// whether or not the bound vouches for it.
func TestCheckJSONAtTheBound(t *testing.T) {
	overhead := len(`{"k":""}`)
	for _, s := range []string{strings.Repeat("a", MaxJSONBytes-overhead), strings.Repeat("<", (MaxJSONBytes-overhead)/6)} {
		if err := CheckJSON("p", map[string]any{"k": s}); err != nil {
			t.Errorf("%d bytes: %v", len(s), err)
		}
	}
	if err := CheckJSON("p", map[string]any{"k": strings.Repeat("a", MaxJSONBytes-overhead+1)}); err == nil {
		t.Error("one byte over MaxJSONBytes passed")
	}
	if err := CheckJSON("p", map[string]any{"k": math.NaN()}); err == nil {
		t.Error("NaN passed")
	}
}
