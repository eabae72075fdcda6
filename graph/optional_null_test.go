package graph_test

import (
	"encoding/json"
	"testing"
)

// An optional text field that was never set is null in the graph, not "".
func TestUnsetOptionalTextIsNull(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		var out struct {
			CreateLogEntry struct {
				RequestID json.RawMessage `json:"requestID"`
			} `json:"createLogEntry"`
		}
		e.query(t, `mutation { createLogEntry(input: {message: "no request"}) { requestID } }`, nil, &out)
		if string(out.CreateLogEntry.RequestID) != "null" {
			t.Errorf("requestID of an entry created without one: got %s, want null", out.CreateLogEntry.RequestID)
		}
	})
}

// orEmpty reads an optional text field as the empty string when it is null.
func orEmpty(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
