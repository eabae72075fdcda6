package graph

import (
	"net/http"

	"github.com/multidb/multidb/ent/logs"
	"github.com/multidb/multidb/graph/live"
	"github.com/multidb/multidb/internal/auth"
	"github.com/multidb/multidb/internal/database"
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

// LiveLogFeed returns the feed of log entries a handler over set would use, for tests that
// drive its wake-ups themselves (live.Options.Poll below zero).
func LiveLogFeed(set *database.Set, o live.Options) *live.Feed[*logs.LogEntry] {
	return newLiveFeeds(set, o).logs
}
