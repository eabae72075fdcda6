package graph

import (
	"net/http"

	"github.com/multidb/multidb/internal/auth"
)

// WithViewer serves every request that carries no bearer token as v. It exists for tests
// only (this file is not part of the package outside them): the tests of what an admin
// sees run without signing in first, and keep their statement counts free of the session
// lookup.
func WithViewer(v auth.Viewer) Option {
	return func(o *options) { o.viewer = &v }
}

// WithClientAddressHeader takes the client's address from the named header instead of the
// peer, so that tests can act from many addresses.
func WithClientAddressHeader(name string) Option {
	return func(o *options) { o.clientAddr = func(r *http.Request) string { return r.Header.Get(name) } }
}
