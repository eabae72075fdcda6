// Package fastexec holds what the edited gqlgen executor (graph/gqlgen.go, fastPaths) calls
// instead of the parts of gqlgen's path that every object and every scalar field repeats.
// Each function writes exactly what the gqlgen function it replaces writes.
package fastexec

import (
	"bytes"
	"context"
	"io"
	"strconv"
	"sync"
	"time"

	"github.com/99designs/gqlgen/graphql"
	"github.com/google/uuid"
)

// NewDeferredGroup returns the group of the deferred fields of an object, made only when one
// of fields is deferred: graphql.NewDeferredGroup works out the object's path on every call,
// and a group without deferred fields is never read.
func NewDeferredGroup(ctx context.Context, fields []graphql.CollectedField) graphql.DeferredGroup {
	for i := range fields {
		if fields[i].IsDeferred() {
			return graphql.NewDeferredGroup(ctx)
		}
	}
	return graphql.DeferredGroup{}
}

// String, Time, UUID and Int write a scalar field in place, from a pointer to it, as the
// graphql.Marshal function of its type does; into the response's bytes.Buffer, without a
// string or a closure of their own (boxing a pointer allocates nothing). Each returns false
// when that function would answer null, for gqlgen's path to report the error.

// String is graphql.MarshalString(*p).
func String(p *string) (graphql.Marshaler, bool) { return stringRef{p}, true }

// Time is graphql.MarshalTime(*p).
func Time(p *time.Time) (graphql.Marshaler, bool) { return timeRef{p}, !p.IsZero() }

// UUID is graphql.MarshalUUID(*p).
func UUID(p *uuid.UUID) (graphql.Marshaler, bool) { return uuidRef{p}, *p != uuid.Nil }

// Int is graphql.MarshalInt(*p).
func Int(p *int) (graphql.Marshaler, bool) { return intRef{p}, true }

type (
	stringRef struct{ p *string }
	timeRef   struct{ p *time.Time }
	uuidRef   struct{ p *uuid.UUID }
	intRef    struct{ p *int }
)

const (
	hexDigits   = "0123456789abcdef" // uuid's
	upperDigits = "0123456789ABCDEF" // gqlgen's string escapes
)

func (r stringRef) MarshalGQL(w io.Writer) {
	// graphql.MarshalString's quoting: JSON's escapes for control characters, '"' and '\\'.
	s := *r.p
	start := 0
	io.WriteString(w, `"`)
	for i, c := range s {
		if c >= 0x20 && c != '\\' && c != '"' {
			continue
		}
		io.WriteString(w, s[start:i])
		switch c {
		case '\t':
			io.WriteString(w, `\t`)
		case '\r':
			io.WriteString(w, `\r`)
		case '\n':
			io.WriteString(w, `\n`)
		case '\\':
			io.WriteString(w, `\\`)
		case '"':
			io.WriteString(w, `\"`)
		default:
			io.WriteString(w, `\u00`)
			w.Write([]byte{upperDigits[c>>4], upperDigits[c&0xf]})
		}
		start = i + 1
	}
	io.WriteString(w, s[start:])
	io.WriteString(w, `"`)
}

func (r timeRef) MarshalGQL(w io.Writer) {
	b, ok := w.(*bytes.Buffer)
	if !ok {
		graphql.MarshalTime(*r.p).MarshalGQL(w)
		return
	}
	// strconv.Quote of an RFC 3339 time only adds the quotes.
	buf := append(b.AvailableBuffer(), '"')
	buf = r.p.AppendFormat(buf, time.RFC3339Nano)
	b.Write(append(buf, '"'))
}

func (r uuidRef) MarshalGQL(w io.Writer) {
	b, ok := w.(*bytes.Buffer)
	if !ok {
		graphql.MarshalUUID(*r.p).MarshalGQL(w)
		return
	}
	// uuid.UUID.String's form, quoted.
	buf := append(b.AvailableBuffer(), '"')
	for i, c := range r.p {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			buf = append(buf, '-')
		}
		buf = append(buf, hexDigits[c>>4], hexDigits[c&0xf])
	}
	b.Write(append(buf, '"'))
}

func (r intRef) MarshalGQL(w io.Writer) {
	b, ok := w.(*bytes.Buffer)
	if !ok {
		graphql.MarshalInt(*r.p).MarshalGQL(w)
		return
	}
	b.Write(strconv.AppendInt(b.AvailableBuffer(), int64(*r.p), 10))
}

// buffers are the scratch buffers Marshal writes responses into.
var buffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooledBuffer bounds a buffer kept for the next response: a rare huge answer does not pin
// its memory.
const maxPooledBuffer = 4 << 20

// Marshal returns what m writes, in a slice of its exact length. The executor writes a
// response into a fresh bytes.Buffer, which doubles its way up to the response's size; a
// pooled buffer that has grown already, copied once, allocates the response once.
func Marshal(m graphql.Marshaler) []byte {
	b := buffers.Get().(*bytes.Buffer)
	b.Reset()
	m.MarshalGQL(b)
	out := bytes.Clone(b.Bytes())
	if b.Cap() <= maxPooledBuffer {
		buffers.Put(b)
	}
	return out
}

// execKey is the context key of the executor's state of an operation.
type execKey struct{}

// WithExec returns ctx holding the executor's state of the operation, ec, for Exec: the
// field contexts' Child functions find it there instead of each capturing it in a closure
// of its own, one allocation per object field of the answer.
func WithExec(ctx context.Context, ec any) context.Context {
	return context.WithValue(ctx, execKey{}, ec)
}

// Exec returns the executor's state that WithExec put in ctx.
func Exec[T any](ctx context.Context) (T, bool) {
	ec, ok := ctx.Value(execKey{}).(T)
	return ec, ok
}
