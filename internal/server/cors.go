package server

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
)

// CORS says which other origins may call /graphql from a browser. The zero value allows none:
// only same-origin pages (the playground) and clients that send no Origin (curl, servers).
type CORS struct {
	// Origins are exact origins (scheme://host[:port]); "*" alone allows every origin.
	Origins []string
	// Localhost allows every http(s) origin on localhost, 127.0.0.1 or [::1], any port: the
	// development default, for a frontend dev server on its own port.
	Localhost bool
}

// corsMaxAge is how long a browser may reuse a preflight's answer (seconds).
const corsMaxAge = 600

// corsMaxOrigins bounds CORS_ORIGINS, which is matched on every request.
const corsMaxOrigins = 100

// ParseCORS reads CORS_ORIGINS, a comma- or space-separated list of exact origins. An unset or
// empty value gives the default: localhost origins in development, none elsewhere. "*" is
// refused in production: every site on the web could then read the API with its users' tokens
// if a page ever stored them where scripts reach.
func ParseCORS(value string, development, production bool) (CORS, error) {
	fields := strings.FieldsFunc(value, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' })
	if len(fields) == 0 {
		return CORS{Localhost: development}, nil
	}
	if len(fields) > corsMaxOrigins {
		return CORS{}, fmt.Errorf("CORS_ORIGINS lists %d origins; at most %d", len(fields), corsMaxOrigins)
	}
	var c CORS
	for _, f := range fields {
		if f == "*" {
			if production {
				return CORS{}, fmt.Errorf("CORS_ORIGINS=* is refused in production: list the origins of your frontends, such as https://app.example.com")
			}
			if len(fields) > 1 {
				return CORS{}, fmt.Errorf("CORS_ORIGINS: * allows every origin and cannot be listed with others")
			}
			return CORS{Origins: []string{"*"}}, nil
		}
		o, ok := canonicalOrigin(f)
		if !ok {
			return CORS{}, fmt.Errorf("CORS_ORIGINS: %q is not an origin; write scheme://host[:port], such as https://app.example.com, with no path", f)
		}
		c.Origins = append(c.Origins, o)
	}
	return c, nil
}

// canonicalOrigin returns s as a browser writes it in the Origin header, or false when s is not
// an http(s) origin: a path, query, user or fragment is a mistake worth refusing at start-up.
func canonicalOrigin(s string) (string, bool) {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.Fragment != "" || u.User != nil {
		return "", false
	}
	host := strings.ToLower(u.Host)
	// Browsers leave the default port out of Origin.
	if (u.Scheme == "http" && strings.HasSuffix(host, ":80")) || (u.Scheme == "https" && strings.HasSuffix(host, ":443")) {
		host = host[:strings.LastIndexByte(host, ':')]
	}
	return u.Scheme + "://" + host, true
}

func (c CORS) allows(origin string) bool {
	if slices.Contains(c.Origins, "*") || slices.Contains(c.Origins, origin) {
		return true
	}
	if !c.Localhost {
		return false
	}
	u, err := url.Parse(origin)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return false
	}
	switch u.Hostname() {
	case "localhost", "127.0.0.1", "::1":
		return true
	}
	return false
}

// sameOrigin reports whether origin names the host the request was sent to, as the
// playground's own requests do. The scheme is not compared: behind a TLS proxy the server
// cannot tell it.
func sameOrigin(origin string, r *http.Request) bool {
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false
	}
	host, port := u.Hostname(), u.Port()
	rhost, rport, err := net.SplitHostPort(r.Host)
	if err != nil {
		rhost, rport = r.Host, ""
	}
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	if rport == "" {
		rport = port // the Host header omits the default port of the scheme used
	}
	return strings.EqualFold(host, rhost) && port == rport
}

// Middleware answers CORS preflights and marks the answers to allowed origins. A request from
// a browser on an origin that is neither allowed nor the server's own is refused with 403
// before it runs (deny by default): a response the browser would hide must not be a write the
// server performed anyway.
func (c CORS) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		if origin == "" {
			next.ServeHTTP(w, r)
			return
		}
		h := w.Header()
		h.Add("Vary", "Origin")
		allowed := c.allows(origin)
		if !allowed && !sameOrigin(origin, r) {
			h.Add("Vary", "Access-Control-Request-Method")
			writeForbiddenOrigin(w, origin)
			return
		}
		if allowed {
			if slices.Contains(c.Origins, "*") {
				h.Set("Access-Control-Allow-Origin", "*")
			} else {
				h.Set("Access-Control-Allow-Origin", origin)
			}
			h.Set("Access-Control-Expose-Headers", "X-Request-ID, WWW-Authenticate")
		}
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			h.Add("Vary", "Access-Control-Request-Method")
			h.Add("Vary", "Access-Control-Request-Headers")
			h.Set("Access-Control-Allow-Methods", "GET, POST")
			h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type, X-Request-ID")
			h.Set("Access-Control-Max-Age", strconv.Itoa(corsMaxAge))
			w.WriteHeader(http.StatusNoContent)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func writeForbiddenOrigin(w http.ResponseWriter, origin string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusForbidden)
	_ = json.NewEncoder(w).Encode(map[string]any{"errors": []any{map[string]any{
		"message":    fmt.Sprintf("requests from the origin %q are not allowed; add it to CORS_ORIGINS", truncate(origin, 200)),
		"extensions": map[string]any{"code": "FORBIDDEN"},
	}}})
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
