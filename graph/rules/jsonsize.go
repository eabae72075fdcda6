package rules

import (
	"encoding/json"
	"math"
)

// jsonSizeBound returns a size that encoding/json's serialization of v cannot exceed, or false
// for a value it does not vouch for (a type it does not know, a number encoding/json would
// refuse, nesting deeper than it walks). It lets CheckJSON pass the usual small value without
// serializing it: a batch of 1,000 events would otherwise be serialized once to be measured
// and once more to be stored.
func jsonSizeBound(v any, depth int) (int, bool) {
	if depth > 64 {
		return 0, false
	}
	switch v := v.(type) {
	case nil:
		return len("null"), true
	case bool:
		return len("false"), true
	case string:
		return stringBound(v), true
	case json.Number:
		return len(v), validNumber(string(v))
	case float64:
		// The longest are 25 bytes: -0.0000012345678901234567, -1.2345678901234567e-308.
		return 32, !math.IsNaN(v) && !math.IsInf(v, 0)
	case float32:
		return 32, !math.IsNaN(float64(v)) && !math.IsInf(float64(v), 0)
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64:
		return 20, true
	case map[string]any:
		n := len("{}") + max(len(v)-1, 0) // braces and commas
		for k, e := range v {
			size, ok := jsonSizeBound(e, depth+1)
			if !ok {
				return 0, false
			}
			n += stringBound(k) + len(":") + size
		}
		return n, true
	case []any:
		n := len("[]") + max(len(v)-1, 0)
		for _, e := range v {
			size, ok := jsonSizeBound(e, depth+1)
			if !ok {
				return 0, false
			}
			n += size
		}
		return n, true
	}
	return 0, false
}

// stringBound bounds a string's serialization: quotes, and at most 6 bytes per byte (a control
// character, <, > or & as \u00XX, an invalid byte as \ufffd).
func stringBound(s string) int { return 2 + 6*len(s) }

// validNumber reports whether s is a number as JSON writes them, the only ones encoding/json
// serializes from a json.Number.
func validNumber(s string) bool {
	i := 0
	digits := func() bool {
		start := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		return i > start
	}
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case !digits():
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if !digits() {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if !digits() {
			return false
		}
	}
	return i == len(s)
}
