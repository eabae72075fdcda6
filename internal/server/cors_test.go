package server_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/multidb/multidb/internal/server"
)

func TestParseCORS(t *testing.T) {
	tests := []struct {
		value     string
		dev, prod bool
		want      []string
		localhost bool
		wantErr   string
	}{
		{"", true, false, nil, true, ""},
		{"", false, true, nil, false, ""},
		{"https://app.example.com, https://Admin.Example.com:443", false, true, []string{"https://app.example.com", "https://admin.example.com"}, false, ""},
		{"*", false, true, nil, false, "CORS_ORIGINS=* is refused in production"},
		{"*", true, false, []string{"*"}, false, ""},
		{"https://app.example.com/path", false, false, nil, false, "not an origin"},
		{"app.example.com", false, false, nil, false, "not an origin"},
		{"*,https://a.example", false, false, nil, false, "cannot be listed"},
	}
	for _, tt := range tests {
		got, err := server.ParseCORS(tt.value, tt.dev, tt.prod)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "CORS_ORIGINS") {
				t.Errorf("ParseCORS(%q): got %v, want an error with %q naming CORS_ORIGINS", tt.value, err, tt.wantErr)
			}
			continue
		}
		if err != nil || strings.Join(got.Origins, " ") != strings.Join(tt.want, " ") || got.Localhost != tt.localhost {
			t.Errorf("ParseCORS(%q) = %+v, %v; want %v localhost=%v", tt.value, got, err, tt.want, tt.localhost)
		}
	}
	if _, err := server.ParseCORS(strings.Repeat("https://a.example,", 101), false, false); err == nil {
		t.Error("101 origins were accepted")
	}
}

// TestCORSPreflight checks the preflight and the answers to allowed, same and other origins.
func TestCORSPreflight(t *testing.T) {
	ran := 0
	h := server.CORS{Origins: []string{"https://app.example.com"}, Localhost: true}.Middleware(
		http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { ran++ }))
	do := func(method, origin string, hdr map[string]string) *httptest.ResponseRecorder {
		r := httptest.NewRequest(method, "http://api.example.com/graphql", nil)
		if origin != "" {
			r.Header.Set("Origin", origin)
		}
		for k, v := range hdr {
			r.Header.Set(k, v)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	pre := do("OPTIONS", "https://app.example.com", map[string]string{"Access-Control-Request-Method": "POST", "Access-Control-Request-Headers": "authorization,content-type"})
	if pre.Code != http.StatusNoContent || ran != 0 {
		t.Fatalf("preflight: status %d, handler ran %d times", pre.Code, ran)
	}
	for k, v := range map[string]string{
		"Access-Control-Allow-Origin":  "https://app.example.com",
		"Access-Control-Allow-Methods": "GET, POST",
		"Access-Control-Allow-Headers": "Authorization, Content-Type, X-Request-ID",
		"Access-Control-Max-Age":       "600",
	} {
		if got := pre.Header().Get(k); got != v {
			t.Errorf("preflight %s = %q, want %q", k, got, v)
		}
	}
	if got := pre.Header().Get("Access-Control-Allow-Credentials"); got != "" {
		t.Errorf("credentials allowed: %q", got)
	}
	if w := do("POST", "http://localhost:5173", nil); w.Header().Get("Access-Control-Allow-Origin") != "http://localhost:5173" || ran != 1 {
		t.Errorf("localhost origin: ACAO %q, ran %d", w.Header().Get("Access-Control-Allow-Origin"), ran)
	}
	if w := do("POST", "http://api.example.com", nil); w.Code != http.StatusOK || w.Header().Get("Access-Control-Allow-Origin") != "" || ran != 2 {
		t.Errorf("same origin: status %d, ACAO %q, ran %d", w.Code, w.Header().Get("Access-Control-Allow-Origin"), ran)
	}
	if w := do("POST", "", nil); w.Code != http.StatusOK || ran != 3 {
		t.Errorf("no origin: status %d, ran %d", w.Code, ran)
	}
	for _, m := range []string{"POST", "OPTIONS"} {
		w := do(m, "https://evil.example", map[string]string{"Access-Control-Request-Method": "POST"})
		if w.Code != http.StatusForbidden || w.Header().Get("Access-Control-Allow-Origin") != "" || ran != 3 ||
			!strings.Contains(w.Body.String(), `"code":"FORBIDDEN"`) {
			t.Errorf("%s from another origin: status %d, ACAO %q, ran %d, body %s", m, w.Code, w.Header().Get("Access-Control-Allow-Origin"), ran, w.Body)
		}
	}
}
