package rules

import (
	"encoding/json"
	"math"
	"slices"
	"strconv"
)

// jsonWriter writes JSON as json.Marshal does, byte for byte, for the values that event
// properties and log fields hold once decoded from a request: maps of strings to values,
// lists, strings, numbers, booleans and null. It writes those without reflection, sorting a
// map's keys in a buffer it reuses; any other value, or a string or number it would have to
// escape or format in a rarer way, it hands to json.Marshal.
type jsonWriter struct {
	buf  []byte
	keys []string // the sorted keys of the maps being written, outermost first
}

// write appends v's JSON to w.buf, or fails where json.Marshal would.
func (w *jsonWriter) write(v any) error {
	switch v := v.(type) {
	case nil:
		w.buf = append(w.buf, "null"...)
	case bool:
		w.buf = strconv.AppendBool(w.buf, v)
	case string:
		return w.writeString(v)
	case json.Number:
		if v == "" {
			w.buf = append(w.buf, '0') // as json.Marshal writes an empty Number
			return nil
		}
		if !validNumber(string(v)) {
			return w.marshal(v)
		}
		w.buf = append(w.buf, v...)
	case float64:
		// json.Marshal's 'f' form: exponents outside it, NaN and infinities are its own.
		if a := math.Abs(v); a != 0 && (a < 1e-6 || a >= 1e21) || math.IsNaN(v) || math.IsInf(v, 0) {
			return w.marshal(v)
		}
		w.buf = strconv.AppendFloat(w.buf, v, 'f', -1, 64)
	case int:
		w.buf = strconv.AppendInt(w.buf, int64(v), 10)
	case int64:
		w.buf = strconv.AppendInt(w.buf, v, 10)
	case map[string]any:
		if v == nil {
			w.buf = append(w.buf, "null"...)
			return nil
		}
		start := len(w.keys)
		for k := range v {
			w.keys = append(w.keys, k)
		}
		keys := w.keys[start:]
		slices.Sort(keys)
		w.buf = append(w.buf, '{')
		for i, k := range keys {
			if i > 0 {
				w.buf = append(w.buf, ',')
			}
			if err := w.writeString(k); err != nil {
				return err
			}
			w.buf = append(w.buf, ':')
			if err := w.write(v[k]); err != nil {
				return err
			}
		}
		w.buf = append(w.buf, '}')
		clear(keys) // no string kept alive by the buffer
		w.keys = w.keys[:start]
	case []any:
		if v == nil {
			w.buf = append(w.buf, "null"...)
			return nil
		}
		w.buf = append(w.buf, '[')
		for i, e := range v {
			if i > 0 {
				w.buf = append(w.buf, ',')
			}
			if err := w.write(e); err != nil {
				return err
			}
		}
		w.buf = append(w.buf, ']')
	default:
		return w.marshal(v)
	}
	return nil
}

// writeString writes s quoted: as it is when json.Marshal would escape none of its bytes
// (printable ASCII other than the quote, the backslash and <, >, &, which it escapes for
// HTML), else as json.Marshal writes it.
func (w *jsonWriter) writeString(s string) error {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return w.marshal(s)
		}
	}
	w.buf = append(w.buf, '"')
	w.buf = append(w.buf, s...)
	w.buf = append(w.buf, '"')
	return nil
}

func (w *jsonWriter) marshal(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	w.buf = append(w.buf, b...)
	return nil
}
