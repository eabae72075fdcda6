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

// DocumentCache is a least-recently-used cache of parsed documents bounded by their size,
// not their number: gqlgen's own holds a fixed number of documents of any size, so unique
// large documents could hold gigabytes. A document larger than a sixteenth of the bound is
// not cached at all; a client that sends such documents pays their parse each time.
type DocumentCache struct {
	mu    sync.Mutex
	max   int
	used  int
	order *list.List // front: most recently used
	items map[string]*list.Element
}

type cached struct {
	key    string
	doc    *ast.QueryDocument
	weight int
}

var _ graphql.Cache[*ast.QueryDocument] = (*DocumentCache)(nil)

// NewDocumentCache returns a cache holding documents of maxBytes at most, by the weight of
// Weight; DefaultCacheBytes when maxBytes is not positive.
func NewDocumentCache(maxBytes int) *DocumentCache {
	if maxBytes <= 0 {
		maxBytes = DefaultCacheBytes
	}
	return &DocumentCache{max: maxBytes, order: list.New(), items: map[string]*list.Element{}}
}

// Weight is what a document of source src counts against the bound.
func Weight(src string) int { return docOverhead + docWeight*len(src) }

// Get implements graphql.Cache.
func (c *DocumentCache) Get(_ context.Context, key string) (*ast.QueryDocument, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[key]
	if !ok {
		return nil, false
	}
	c.order.MoveToFront(el)
	return el.Value.(*cached).doc, true
}

// Add implements graphql.Cache.
func (c *DocumentCache) Add(_ context.Context, key string, doc *ast.QueryDocument) {
	w := Weight(key)
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
		old := last.Value.(*cached)
		c.order.Remove(last)
		delete(c.items, old.key)
		c.used -= old.weight
	}
	c.items[key] = c.order.PushFront(&cached{key: key, doc: doc, weight: w})
	c.used += w
}

// Bytes is the weight of the documents held.
func (c *DocumentCache) Bytes() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.used
}

// Len is the number of documents held.
func (c *DocumentCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.items)
}
