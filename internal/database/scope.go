package database

import (
	"context"
	"errors"
	"sync"
)

// Scope is put in a request's context (WithScope) by a caller that reuses the memory of the
// request's contexts once the request is over: the graph's executor takes its field contexts
// from an arena. database/sql reads a query's context after its rows are closed (the goroutine
// that watches it asks for Done and Err when it gets round to it), which would read another
// request's context then. Under a Scope, each statement runs on a context of its own instead,
// done when the caller's is, with its deadline, and holding nothing of it; End lets those go.
type Scope struct {
	mu   sync.Mutex
	ends []func()
}

type scopeKey struct{}

// errScopeEnded is the cause of a statement context let go by Scope.End.
var errScopeEnded = errors.New("database: the request is over")

// WithScope returns ctx holding s: the statements run under it take contexts of their own.
func WithScope(ctx context.Context, s *Scope) context.Context {
	return context.WithValue(ctx, scopeKey{}, s)
}

// End lets go of the contexts of the scope's statements. It is called once every statement
// run under the scope has returned and its rows are closed.
func (s *Scope) End() {
	if s == nil {
		return
	}
	s.mu.Lock()
	ends := s.ends
	s.ends = nil
	s.mu.Unlock()
	for _, end := range ends {
		end()
	}
}

// statementContext is the context a statement of ctx runs on: ctx itself, or, under a Scope, a
// context of the statement's own.
func statementContext(ctx context.Context) context.Context {
	s, _ := ctx.Value(scopeKey{}).(*Scope)
	if s == nil {
		return ctx
	}
	base, stopDeadline := context.Background(), context.CancelFunc(func() {})
	if deadline, ok := ctx.Deadline(); ok {
		base, stopDeadline = context.WithDeadline(base, deadline)
	}
	own, cancel := context.WithCancelCause(base)
	if ctx.Err() != nil {
		cancel(context.Cause(ctx))
	}
	// The function runs on a goroutine of its own, maybe once the request is over: it reads
	// nothing of ctx. The statement's error is told by the caller's ctx (guard.classify).
	stop := context.AfterFunc(ctx, func() { cancel(context.Canceled) })
	s.mu.Lock()
	s.ends = append(s.ends, func() {
		stop()
		cancel(errScopeEnded)
		stopDeadline()
	})
	s.mu.Unlock()
	return own
}
