package requestid

import (
	"context"
	"log/slog"
)

// Key is the log attribute that holds the request ID.
const Key = "request_id"

// Handler is a slog.Handler that adds the request ID of the record's context, as Key, to every
// record logged with a context that carries one (log.InfoContext(ctx, ...)). The attribute is
// always at the top level, even below WithGroup, so that every line can be found by it.
type Handler struct {
	// base is the wrapped handler before any WithGroup; ops replays the WithAttrs and
	// WithGroup calls made since, so that the ID can be added outside every group.
	base    slog.Handler
	ops     []func(slog.Handler) slog.Handler
	inner   slog.Handler // base with ops applied
	grouped bool         // some op is a WithGroup
}

// NewHandler wraps h so that records logged with a request's context carry its ID.
func NewHandler(h slog.Handler) *Handler {
	return &Handler{base: h, inner: h}
}

// Enabled reports whether the wrapped handler handles records of level.
func (h *Handler) Enabled(ctx context.Context, level slog.Level) bool {
	return h.inner.Enabled(ctx, level)
}

// Handle adds the request ID of ctx to r, unless r already has a request_id attribute, and
// passes r on.
func (h *Handler) Handle(ctx context.Context, r slog.Record) error {
	id := FromContext(ctx)
	if id == "" || hasKey(r) {
		return h.inner.Handle(ctx, r)
	}
	if !h.grouped {
		r = r.Clone() // the caller may hand the same record to other handlers
		r.AddAttrs(slog.String(Key, id))
		return h.inner.Handle(ctx, r)
	}
	// Below a group an added attribute would land inside it; rebuild the chain with the ID
	// first. Grouped loggers are rare, so the cost is paid only by them.
	inner := h.base.WithAttrs([]slog.Attr{slog.String(Key, id)})
	for _, op := range h.ops {
		inner = op(inner)
	}
	return inner.Handle(ctx, r)
}

// WithAttrs returns a Handler whose records also carry attrs.
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return h
	}
	return h.with(false, func(s slog.Handler) slog.Handler { return s.WithAttrs(attrs) })
}

// WithGroup returns a Handler that puts the attributes that follow in the group name.
func (h *Handler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	return h.with(true, func(s slog.Handler) slog.Handler { return s.WithGroup(name) })
}

func (h *Handler) with(group bool, op func(slog.Handler) slog.Handler) *Handler {
	ops := append(h.ops[:len(h.ops):len(h.ops)], op)
	return &Handler{base: h.base, ops: ops, inner: op(h.inner), grouped: h.grouped || group}
}

func hasKey(r slog.Record) bool {
	found := false
	r.Attrs(func(a slog.Attr) bool {
		found = a.Key == Key
		return !found
	})
	return found
}
