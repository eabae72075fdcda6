package limit

import (
	"container/list"
	"context"
	"sync"

	"github.com/99designs/gqlgen/graphql"
	"github.com/vektah/gqlparser/v2/ast"
)

// DefaultCacheBytes is the default bound of a DocumentCache: 16 MiB of documents.
const DefaultCacheBytes = 16 << 20

// docOverhead is what a cached document is counted beyond its source: a parsed document
// holds a node of a few hundred bytes per token, and the token limit bounds their number, so
// each byte of source is counted docWeight times.
const (
	docOverhead = 1024
	docWeight   = 8
)

// ByteCache is a least-recently-used cache bounded by the size of what it holds, not by its
// number of entries: gqlgen's own caches hold a fixed number of entries of any size, so
// unique large documents could hold gigabytes. An entry heavier than a sixteenth of the
// bound is not cached at all; a client that sends such documents pays their parse each time.
type ByteCache[T any] struct {
	mu     sync.Mutex
	max    int
	used   int
	weight func(key string, v T) int
	order  *list.List // front: most recently used
	items  map[string]*list.Element
}

// DocumentCache is the cache of parsed documents, weighed by Weight.
type DocumentCache = ByteCache[*ast.QueryDocument]

type cached[T any] struct {
	key    string
	v      T
	weight int
}

var (
	_ graphql.Cache[*ast.QueryDocument] = (*DocumentCache)(nil)
	_ graphql.Cache[string]             = (*ByteCache[string])(nil)
)

// NewDocumentCache returns a cache holding documents of maxBytes at most, by the weight of
// Weight; DefaultCacheBytes when maxBytes is not positive.
func NewDocumentCache(maxBytes int) *DocumentCache {
	return NewByteCache(maxBytes, func(key string, _ *ast.QueryDocument) int { return Weight(key) })
}

// NewQueryCache returns a cache of documents by their hash, for automatic persisted queries,
// holding maxBytes of them at most.
func NewQueryCache(maxBytes int) *ByteCache[string] {
	return NewByteCache(maxBytes, func(key, query string) int { return 64 + len(key) + len(query) })
}

// NewByteCache returns a cache holding entries of maxBytes at most, as weighed by weight;
// DefaultCacheBytes when maxBytes is not positive.
func NewByteCache[T any](maxBytes int, weight func(key string, v T) int) *ByteCache[T] {
	if maxBytes <= 0 {
		maxBytes = DefaultCacheBytes
	}
	return &ByteCache[T]{max: maxBytes, weight: weight, order: list.New(), items: map[string]*list.Element{}}
}

// Weight is what a document of source src counts against the bound.
func Weight(src string) int { return docOverhead + docWeight*len(src) }

// Get implements graphql.Cache.
func (c *ByteCache[T]) Get(_ context.Context, key string) (v T, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[key]
	if !ok {
		return v, false
	}
	c.order.MoveToFront(el)
	return el.Value.(*cached[T]).v, true
}

// Add implements graphql.Cache.
func (c *ByteCache[T]) Add(_ context.Context, key string, v T) {
	w := c.weight(key, v)
	if w > c.max/16 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[key]; ok {
		c.order.MoveToFront(el)
		return
	}
	for c.used+w > c.max {
		last := c.order.Back()
		old := last.Value.(*cached[T])
		c.order.Remove(last)
		delete(c.items, old.key)
		c.used -= old.weight
	}
	c.items[key] = c.order.PushFront(&cached[T]{key: key, v: v, weight: w})
	c.used += w
}

// Bytes is the weight of the entries held.
func (c *ByteCache[T]) Bytes() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.used
}

// Len is the number of entries held.
func (c *ByteCache[T]) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.items)
}
