package graph

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/vektah/gqlparser/v2/gqlerror"
)

// TestWriteJSONAsWritesWhatTheEncoderWrites: an answer of data alone is written without the
// encoder, and must read exactly as the encoder writes it, escapes included.
func TestWriteJSONAsWritesWhatTheEncoderWrites(t *testing.T) {
	for _, r := range []response{
		{Data: json.RawMessage(`{"users":{"edges":[{"node":{"name":"Ada","n":1}}]}}`)},
		{Data: json.RawMessage(`{"m":"<script>&amp;</script>"}`)},
		{Data: json.RawMessage("{\"m\":\"a\u2028b\u2029c\"}")},
		{Data: json.RawMessage(`{"m":"é \"quoted\" \\ \u00e9"}`)},
		{Data: json.RawMessage(`null`), Errors: gqlerror.List{{Message: "no"}}},
		{Data: json.RawMessage(`{"a":1}`), Extensions: map[string]any{"cost": 3}},
	} {
		var want bytes.Buffer
		if err := json.NewEncoder(&want).Encode(r); err != nil {
			t.Fatal(err)
		}
		rec := httptest.NewRecorder()
		writeJSONAs(rec, mediaJSON, http.StatusOK, r)
		if got := rec.Body.String(); got+"\n" != want.String() {
			t.Errorf("got  %s\nwant %s", got, want.String())
		}
		if ct := rec.Header().Get("Content-Type"); ct != mediaJSON+"; charset=utf-8" {
			t.Errorf("got Content-Type %q", ct)
		}
	}
}
