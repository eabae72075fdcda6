package limit

import "fmt"

// checkWhere bounds the size of a where argument, as decoded from the document or the
// variables: at most WherePredicates predicates (each field of an input object, at any depth,
// counts one) and no list longer than WhereList. It reports what is wrong, or "". The walk
// stops at the first bound it passes, so its cost is bounded too.
func (l Limits) checkWhere(v any) string {
	n := 0
	var msg string
	var walk func(v any)
	walk = func(v any) {
		if msg != "" {
			return
		}
		switch v := v.(type) {
		case map[string]any:
			for _, child := range v {
				n++
				if n > l.WherePredicates {
					msg = fmt.Sprintf("at most %d predicates are allowed", l.WherePredicates)
					return
				}
				walk(child)
			}
		case []any:
			if len(v) > l.WhereList {
				msg = fmt.Sprintf("a list holds %d values; at most %d are allowed", len(v), l.WhereList)
				return
			}
			for _, child := range v {
				walk(child)
			}
		}
	}
	walk(v)
	return msg
}
