package fastexec

import (
	"context"
	"io"
	"sync"
	"sync/atomic"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// FieldSet is graphql.FieldSet for the objects below the root: the values of an object's
// fields, the fields resolved concurrently, and how many came out invalid. It is one
// allocation (of 160 bytes) for an object of up to smallFields fields with up to
// smallDelayed concurrent ones, where gqlgen's takes three (the set, its values, its
// marshaller), and it writes the object itself.
type FieldSet struct {
	fields   []graphql.CollectedField
	Values   []graphql.Marshaler
	Invalids uint32
	ndelayed uint32     // the concurrent fields: in smallDelayed, then in more
	more     *[]delayed // the concurrent fields beyond smallDelayed

	small        [smallFields]graphql.Marshaler
	smallDelayed [smallDelayed]delayed
}

const (
	smallFields  = 4
	smallDelayed = 2
)

// delayed is a field resolved when the set is dispatched.
type delayed struct {
	resolve func(context.Context) graphql.Marshaler
	i       int32
	nonNull bool // a null makes the object invalid; else a RequiredNull does
	recover bool
}

// NewFieldSet is graphql.NewFieldSet.
func NewFieldSet(fields []graphql.CollectedField) *FieldSet {
	m := new(FieldSet)
	m.init(fields)
	return m
}

// init readies a zero FieldSet for fields.
func (m *FieldSet) init(fields []graphql.CollectedField) {
	m.fields = fields
	if len(fields) <= smallFields {
		m.Values = m.small[:len(fields)]
	} else {
		m.Values = make([]graphql.Marshaler, len(fields))
	}
}

// ResolveConcurrently is graphql.FieldSet.ResolveConcurrently: field i is resolved when the
// set is dispatched, or, deferred, later in the deferred group, by gqlgen itself.
func (m *FieldSet) ResolveConcurrently(oc *graphql.OperationContext, deferred *graphql.DeferredGroup, i int,
	recoverFromPanic, nonNull bool, resolve func(context.Context) graphql.Marshaler) {
	if m.fields[i].IsDeferred() {
		// gqlgen schedules a deferred field on the group only, and sets its value to null.
		g := graphql.NewFieldSet(m.fields)
		g.ResolveConcurrently(oc, deferred, i, recoverFromPanic, nonNull, resolve)
		m.Values[i] = g.Values[i]
		return
	}
	d := delayed{resolve: resolve, i: int32(i), nonNull: nonNull, recover: recoverFromPanic}
	if m.ndelayed < smallDelayed {
		m.smallDelayed[m.ndelayed] = d
	} else {
		if m.more == nil {
			m.more = new([]delayed)
		}
		*m.more = append(*m.more, d)
	}
	m.ndelayed++
}

// delayedField returns the j-th concurrent field.
func (m *FieldSet) delayedField(j int) *delayed {
	if j < smallDelayed {
		return &m.smallDelayed[j]
	}
	return &(*m.more)[j-smallDelayed]
}

// Dispatch is graphql.FieldSet.Dispatch: it resolves the concurrent fields, one on this
// goroutine and the others on goroutines of their own, and waits for them.
func (m *FieldSet) Dispatch(ctx context.Context) {
	switch m.ndelayed {
	case 0:
	case 1:
		m.execute(ctx, &m.smallDelayed[0])
	default:
		var wg sync.WaitGroup
		for j := 1; j < int(m.ndelayed); j++ {
			d := m.delayedField(j)
			wg.Go(func() { m.execute(ctx, d) })
		}
		m.execute(ctx, &m.smallDelayed[0])
		wg.Wait()
	}
}

func (m *FieldSet) execute(ctx context.Context, d *delayed) {
	res := m.resolveRecovering(ctx, d)
	m.Values[d.i] = res
	invalid := graphql.RequiredNull
	if d.nonNull {
		invalid = graphql.Null
	}
	if res == invalid {
		atomic.AddUint32(&m.Invalids, 1)
	}
}

// resolveRecovering turns a panic of d's resolver into an error of the field and a null, as
// gqlgen does. The operation's context is the one the executor was made from: ctx holds it.
func (m *FieldSet) resolveRecovering(ctx context.Context, d *delayed) (res graphql.Marshaler) {
	if d.recover {
		defer func() {
			if r := recover(); r != nil {
				oc := graphql.GetOperationContext(ctx)
				oc.Error(ctx, oc.Recover(ctx, r))
				res = graphql.Null
			}
		}()
	}
	return d.resolve(ctx)
}

// MarshalGQL writes the object as graphql.FieldSet does, without its map of the response
// keys written: CollectFields merges the fields of one response key, and a key met twice is
// written once, the first time, here too.
func (m *FieldSet) MarshalGQL(w io.Writer) {
	io.WriteString(w, "{")
next:
	for i := range m.fields {
		alias := m.fields[i].Alias
		for j := range i {
			if m.fields[j].Alias == alias {
				continue next
			}
		}
		if i > 0 {
			io.WriteString(w, ",")
		}
		// A response key is a GraphQL name: nothing in it needs escaping.
		io.WriteString(w, `"`)
		io.WriteString(w, alias)
		io.WriteString(w, `":`)
		m.Values[i].MarshalGQL(w)
	}
	io.WriteString(w, "}")
}

// MarshalSlice is graphql.MarshalSliceConcurrently without a worker limit: each element is
// marshalled on a goroutine of its own (one alone on this one), under a field context that
// holds its index, and a panic makes that element null and an error. The elements' contexts,
// with their field contexts and indexes, are one allocation, and the goroutines share one
// function, where gqlgen allocates four times per element.
func MarshalSlice(ctx context.Context, length int, workerLimit int64, omitPanicHandler bool,
	marshalElement func(ctx context.Context, i int) graphql.Marshaler) graphql.Array {
	if workerLimit > 0 {
		return graphql.MarshalSliceConcurrently(ctx, length, workerLimit, omitPanicHandler, marshalElement)
	}
	if length == 0 {
		return make(graphql.Array, 0)
	}
	return marshalSlice(ctx, make(graphql.Array, length), make([]fieldCtx, length), omitPanicHandler, marshalElement)
}

// marshalSlice is MarshalSlice into ret, with the elements' contexts in ctxs (zero, of ret's
// length).
func marshalSlice(ctx context.Context, ret graphql.Array, ctxs []fieldCtx, omitPanicHandler bool,
	marshalElement func(ctx context.Context, i int) graphql.Marshaler) graphql.Array {
	length := len(ret)
	parent := graphql.GetFieldContext(ctx)
	for i := range length {
		ctxs[i] = fieldCtx{Context: ctx, fc: graphql.FieldContext{Parent: parent}, index: i}
		ctxs[i].fc.Index = &ctxs[i].index
	}
	element := func(i int) {
		if !omitPanicHandler {
			defer func() {
				if r := recover(); r != nil {
					graphql.AddError(&ctxs[i], graphql.Recover(&ctxs[i], r))
					ret[i] = graphql.Null
				}
			}()
		}
		ret[i] = marshalElement(&ctxs[i], i)
	}
	if length == 1 {
		element(0)
		return ret
	}
	var wg sync.WaitGroup
	var next atomic.Int64
	wg.Add(length)
	worker := func() {
		defer wg.Done()
		element(int(next.Add(1) - 1))
	}
	for range length {
		go worker()
	}
	wg.Wait()
	return ret
}

// FieldsCache is graphql.CollectFields with a cache of an operation's own: gqlgen's cache
// builds its key with two allocations on every call, once per object of the answer.
type FieldsCache struct {
	mu     sync.RWMutex
	fields map[fieldsKey][]graphql.CollectedField
}

type fieldsKey struct {
	sel       *ast.Selection
	n         int
	satisfies *string
}

// Fields is graphql.CollectFields(oc, sel, satisfies), satisfies being one of the generated
// implementor lists (the key is its address).
func (c *FieldsCache) Fields(oc *graphql.OperationContext, sel ast.SelectionSet, satisfies []string) []graphql.CollectedField {
	if len(sel) == 0 || len(satisfies) == 0 {
		return graphql.CollectFields(oc, sel, satisfies)
	}
	k := fieldsKey{sel: &sel[0], n: len(sel), satisfies: &satisfies[0]}
	c.mu.RLock()
	f, ok := c.fields[k]
	c.mu.RUnlock()
	if ok {
		return f
	}
	f = graphql.CollectFields(oc, sel, satisfies)
	c.mu.Lock()
	if c.fields == nil {
		c.fields = map[fieldsKey][]graphql.CollectedField{}
	}
	c.fields[k] = f
	c.mu.Unlock()
	return f
}

// ArgsCache keeps the arguments of each field of an operation, worked out once: gqlgen works
// them out again for every parent, so a field under a list of 100 users (User.events) builds
// the same argument map 100 times. The variables are the operation's, so a field's arguments
// are the same for all its parents. The maps are shared: they are read, never written (a
// change, as package limit makes, replaces the field context's map with a copy).
type ArgsCache struct {
	mu   sync.RWMutex
	args map[*ast.Field]map[string]any
}

// Get returns the arguments kept for field.
func (c *ArgsCache) Get(field *ast.Field) (map[string]any, bool) {
	c.mu.RLock()
	args, ok := c.args[field]
	c.mu.RUnlock()
	return args, ok
}

// Put keeps args, the arguments of field that were worked out without an error.
func (c *ArgsCache) Put(field *ast.Field, args map[string]any) {
	c.mu.Lock()
	if c.args == nil {
		c.args = map[*ast.Field]map[string]any{}
	}
	c.args[field] = args
	c.mu.Unlock()
}
