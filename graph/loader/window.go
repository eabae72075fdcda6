package loader

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"

	"entgo.io/contrib/entgql"
	"entgo.io/ent"
	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"
	"github.com/99designs/gqlgen/graphql"
	"github.com/google/uuid"
	"github.com/lib/pq"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vikstrous/dataloadgen"

	"github.com/multidb/multidb/graph/apierror"
	"github.com/multidb/multidb/internal/database"
)

// Args are the arguments of one stitched connection field, as entgql declares them.
type Args[O, W any] struct {
	After  *Cursor
	First  *int
	Before *Cursor
	Last   *int
	Order  *O
	Where  *W
}

// Order is how a page is sorted: by column, then by id, as entgql sorts its connections.
type Order[N any] struct {
	column string
	dir    entgql.OrderDirection
	// value is the cursor value of a node; nil when the page is sorted by id alone, where
	// entgql's cursors hold the id only.
	value func(N) (ent.Value, error)
}

// OrderOf is the Order of an entgql order field: its name (as String() gives it), its
// direction, its cursor value, and the type's id column and column check.
func OrderOf[N any](name string, dir entgql.OrderDirection, value func(N) (ent.Value, error), id string, valid func(string) bool) (Order[N], error) {
	col, err := orderColumn(name, id, valid)
	ord := Order[N]{column: col, dir: dir}
	if col != id {
		ord.value = value
	}
	return ord, err
}

// Source is what a connection edge needs to know of the type whose rows refer to the parent.
// xdb_edges.go declares one per edge.
type Source[N any, O, W any] struct {
	Edge      string // "User.events"
	Database  string
	ID        string // primary key column
	Partition string // the column holding the parent's id
	Order     func(*O) (Order[N], error)
	Check     func(*W) error // refuses a where that cannot become a predicate
	// Query reads the rows that match where, through the client (so through the database's
	// driver and its access rules), with modify reshaping the statement: modify restricts it
	// to the parents, so that the access rules' predicates land inside the per-parent page.
	// cols are the columns to read, nil for every column. The columns that modify appends
	// after the node's own are scanned into extra, and row is called after each row.
	Query  func(ctx context.Context, c *database.Clients, where *W, cols []string, modify func(*sql.Selector), extra []any, row func() error) ([]N, error)
	Fields *Fields
	NodeID func(N) uuid.UUID
	Parent func(N) uuid.UUID
}

// key is one connection to load: a parent, and the fingerprint of its argument set.
type key struct {
	parent uuid.UUID
	args   string
}

// argSet is one distinct argument set of a level, and whether totalCount was asked for.
type argSet[O, W any] struct {
	Args[O, W]
	total bool
	cols  []string // the columns the selection needs; nil for every column
}

// Page is one parent's connection, in the shape entgql builds.
type Page[N any] struct {
	Nodes    []N
	Cursors  []Cursor
	PageInfo PageInfo
	Total    int
}

// connLoader loads a connection per parent: one window-function statement per argument set
// and list of parents, however many parents the list holds.
type connLoader[N any, O, W any] struct {
	l    *Loaders
	src  *Source[N, O, W]
	mu   sync.Mutex
	sets map[string]argSet[O, W]
	// byField is the argument set of each field of the document that asked, worked out for
	// its first parent: the arguments and selection of a field are the same for all.
	byField map[*ast.Field]fieldSet
}

// fieldSet is the argument set of a field: its fingerprint and its batch loader's name.
type fieldSet struct{ fp, name string }

// connLoaderOf returns the request's loader of src, made once.
func connLoaderOf[N any, O, W any](l *Loaders, src *Source[N, O, W]) *connLoader[N, O, W] {
	l.mu.Lock()
	defer l.mu.Unlock()
	name := "conn " + src.Edge
	if cl, ok := l.fallbacks[name].(*connLoader[N, O, W]); ok {
		return cl
	}
	cl := &connLoader[N, O, W]{l: l, src: src, sets: map[string]argSet[O, W]{}, byField: map[*ast.Field]fieldSet{}}
	l.fallbacks[name] = cl
	return cl
}

func (cl *connLoader[N, O, W]) newLoader(opts ...dataloadgen.Option) *dataloadgen.Loader[key, Page[N]] {
	return dataloadgen.NewLoader(cl.fetch, opts...)
}

// Connection returns the page of src's rows that refer to parent (whose id is parentID), for
// args. Invalid arguments fail this field alone, before any batching.
func Connection[N any, O, W any](ctx context.Context, l *Loaders, src *Source[N, O, W], parent any, parentID uuid.UUID, args Args[O, W]) (Page[N], error) {
	return connLoaderOf(l, src).load(ctx, parent, parentID, args)
}

func (cl *connLoader[N, O, W]) load(ctx context.Context, parent any, parentID uuid.UUID, args Args[O, W]) (Page[N], error) {
	var field *ast.Field
	if fc := graphql.GetFieldContext(ctx); fc != nil {
		field = fc.Field.Field
	}
	if field != nil {
		cl.mu.Lock()
		fs, ok := cl.byField[field]
		cl.mu.Unlock()
		if ok {
			return batchLoader(cl.l, parent, cl.src.Edge, fs.name, cl.newLoader).Load(ctx, key{parent: parentID, args: fs.fp})
		}
	}
	switch {
	case args.First != nil && args.Last != nil:
		return Page[N]{}, apierror.BadInput("passing both `first` and `last` to paginate a connection is not supported")
	case args.First != nil && *args.First < 0:
		return Page[N]{}, apierror.BadInput("`first` on a connection cannot be less than zero")
	case args.Last != nil && *args.Last < 0:
		return Page[N]{}, apierror.BadInput("`last` on a connection cannot be less than zero")
	}
	if args.Where != nil {
		if err := cl.src.Check(args.Where); err != nil {
			return Page[N]{}, err
		}
	}
	ord, err := cl.src.Order(args.Order)
	if err != nil {
		return Page[N]{}, err
	}
	set := argSet[O, W]{Args: args, total: selected(ctx, "totalCount")}
	set.cols = ConnectionColumns(ctx, cl.src.Fields, cl.src.Partition, ord.column)
	fp, err := fingerprint(set, ord)
	if err != nil {
		return Page[N]{}, err
	}
	name := cl.src.Edge + "|" + fp
	cl.mu.Lock()
	cl.sets[fp] = set
	if field != nil {
		cl.byField[field] = fieldSet{fp: fp, name: name}
	}
	cl.mu.Unlock()
	ld := batchLoader(cl.l, parent, cl.src.Edge, name, cl.newLoader)
	return ld.Load(ctx, key{parent: parentID, args: fp})
}

// selected reports whether the current field's selection asks for name.
// Fragments on the field's own type (`... on EventConnection { totalCount }`) count too.
func selected(ctx context.Context, name string) bool {
	fc := graphql.GetFieldContext(ctx)
	if fc == nil || fc.Field.Definition == nil {
		return true
	}
	satisfies := []string{fc.Field.Definition.Type.Name()}
	return slices.ContainsFunc(graphql.CollectFieldsCtx(ctx, satisfies), func(f graphql.CollectedField) bool {
		return f.Name == name
	})
}

// fingerprint names an argument set: equal sets, from different parents, batch together.
// The order enters by column and direction, since entgql's order fields hold functions.
func fingerprint[N any, O, W any](set argSet[O, W], ord Order[N]) (string, error) {
	b, err := json.Marshal(struct {
		After, Before *Cursor
		First, Last   *int
		Order         string
		Where         *W
		Total         bool
		Cols          []string
	}{set.After, set.Before, set.First, set.Last, ord.column + " " + string(ord.dir), set.Where, set.total, set.cols})
	return string(b), err
}

// fetch is the batch function: it groups the keys by argument set and sends one statement
// per set, the sets concurrently.
func (l *connLoader[N, O, W]) fetch(ctx context.Context, keys []key) ([]Page[N], []error) {
	out := make([]Page[N], len(keys))
	errs := make([]error, len(keys))
	groups := map[string][]int{}
	var order []string
	for i, k := range keys {
		if _, ok := groups[k.args]; !ok {
			order = append(order, k.args)
		}
		groups[k.args] = append(groups[k.args], i)
	}
	var wg sync.WaitGroup
	for _, fp := range order {
		l.mu.Lock()
		set := l.sets[fp]
		l.mu.Unlock()
		idx := groups[fp]
		wg.Go(func() {
			parents := make([]uuid.UUID, len(idx))
			for j, i := range idx {
				parents[j] = keys[i].parent
			}
			pages, err := l.pages(ctx, parents, set)
			for _, i := range idx {
				out[i], errs[i] = pages[keys[i].parent], err
			}
		})
	}
	wg.Wait()
	return out, errs
}

// pages runs the statement of one argument set and splits its rows by parent.
func (l *connLoader[N, O, W]) pages(ctx context.Context, parents []uuid.UUID, set argSet[O, W]) (map[uuid.UUID]Page[N], error) {
	ord, err := l.src.Order(set.Order)
	if err != nil {
		return nil, err
	}
	w := window{
		parents:   parents,
		id:        l.src.ID,
		partition: l.src.Partition,
		order:     ord.column,
		dir:       ord.dir,
		after:     set.After,
		before:    set.Before,
		total:     set.total,
	}
	switch {
	case set.First != nil:
		w.limit = *set.First + 1
	case set.Last != nil:
		w.limit = *set.Last + 1
		// `last` reads the page backwards, as entgql does, and build turns it around.
		w.dir = w.dir.Reverse()
	}
	// The statement's one column after the node's, when totalCount is asked for, is the
	// parent's count, read into one destination and kept per row.
	var (
		extra  []any
		row    func() error
		total  sql.NullInt64
		totals []int
	)
	if set.total {
		extra = []any{&total}
		row = func() error {
			totals = append(totals, int(total.Int64))
			return nil
		}
	}
	rows, err := l.src.Query(ctx, l.l.c, set.Where, set.cols, w.modifier(), extra, row)
	if err != nil {
		return nil, apierror.Database(l.src.Database, err)
	}
	// The statement orders its rows by parent: each parent's rows are one run of rows, which
	// its page takes without a copy (capped, so that no append reaches the next run).
	byParent := make(map[uuid.UUID][]N, len(parents))
	counts := make(map[uuid.UUID]int, len(parents))
	for start := 0; start < len(rows); {
		p := l.src.Parent(rows[start])
		end := start + 1
		for end < len(rows) && l.src.Parent(rows[end]) == p {
			end++
		}
		if prev, ok := byParent[p]; ok {
			byParent[p] = append(prev, rows[start:end]...)
		} else {
			byParent[p] = rows[start:end:end]
		}
		if set.total {
			counts[p] = totals[start]
		}
		start = end
	}
	out := make(map[uuid.UUID]Page[N], len(parents))
	listed := make([]any, 0, len(rows))
	for _, p := range parents {
		page, err := l.build(byParent[p], counts[p], set, ord)
		if err != nil {
			return nil, err
		}
		out[p] = page
		for _, n := range page.Nodes {
			listed = append(listed, n)
		}
	}
	// The nodes of every page of this statement are the parents of the next level.
	l.l.Remember(set.cols, listed...)
	l.l.Register(listed...)
	return out, nil
}

// build makes one parent's page of its rows, as entgql's Connection.build does; total is the
// parent's count, when totalCount is asked for.
func (l *connLoader[N, O, W]) build(nodes []N, total int, set argSet[O, W], ord Order[N]) (Page[N], error) {
	var p Page[N]
	if set.total {
		p.Total = total
	}
	p.PageInfo.HasNextPage = set.Before != nil
	p.PageInfo.HasPreviousPage = set.After != nil
	if set.First != nil && len(nodes) == *set.First+1 {
		p.PageInfo.HasNextPage = true
		nodes = nodes[:*set.First]
	} else if set.Last != nil && len(nodes) == *set.Last+1 {
		p.PageInfo.HasPreviousPage = true
		nodes = nodes[:*set.Last]
	}
	if set.Last != nil {
		slices.Reverse(nodes)
	}
	if !set.total {
		p.Total = len(nodes)
	}
	p.Nodes = nodes
	p.Cursors = make([]Cursor, len(nodes))
	for i, n := range nodes {
		p.Cursors[i] = Cursor{ID: l.src.NodeID(n)}
		if ord.value != nil {
			v, err := ord.value(n)
			if err != nil {
				return p, err
			}
			p.Cursors[i].Value = v
		}
	}
	if len(nodes) > 0 {
		p.PageInfo.StartCursor = &p.Cursors[0]
		p.PageInfo.EndCursor = &p.Cursors[len(nodes)-1]
	}
	return p, nil
}

// window reshapes the query of one argument set into the per-parent page statement:
//
//	SELECT cols, total FROM (
//	  SELECT cols, ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY <order>, id) AS rn FROM (
//	    SELECT cols, COUNT(*) OVER (PARTITION BY user_id) AS total
//	    FROM t WHERE user_id IN (...) AND <where>
//	  ) AS t WHERE <cursors>
//	) AS t WHERE rn <= <limit+1> ORDER BY user_id, rn
//
// The total counts every row of the parent that matches where, before the cursors, like
// entgql's totalCount. Each derived table takes the table's own name as its alias, so that
// the column references ent and entgql build (`t`.`col`) resolve at every level, as
// entgql.LimitPerRow does. Window functions run on PostgreSQL and SQLite alike.
type window struct {
	parents              []uuid.UUID
	id, partition, order string
	dir                  entgql.OrderDirection
	after, before        *Cursor
	limit                int // rows per parent, one more than asked; 0 for all
	total                bool
}

func (w window) modifier() func(*sql.Selector) {
	return func(s *sql.Selector) {
		switch s.Dialect() {
		case dialect.Postgres:
			w.lateral(s)
			return
		case dialect.SQLite:
			w.correlated(s)
			return
		}
		d := sql.Dialect(s.Dialect())
		args := make([]any, len(w.parents))
		for i, p := range w.parents {
			args[i] = p
		}
		s.Where(sql.In(s.C(w.partition), args...))
		table := s.TableName()
		columns := s.UnqualifiedColumns()

		src := s.Clone()
		if w.total {
			src.AppendSelectExprAs(sql.Window(func(b *sql.Builder) { b.WriteString("COUNT(*)") }).
				PartitionBy(src.C(w.partition)), "total")
			columns = append(columns, "total")
		}
		src.As(table)

		ranked := d.Select().From(src)
		ranked.Select(ranked.Columns(columns...)...)
		ranked.AppendSelectExprAs(sql.RowNumber().PartitionBy(ranked.C(w.partition)).OrderExpr(w.orderExpr(ranked)), "rn")
		for _, p := range entgql.CursorsPredicate(w.after, w.before, w.id, w.order, w.dir) {
			p(ranked)
		}
		ranked.As(table)

		// rn orders the rows but is not read: the loader reads the node's columns and the total.
		out := d.Select().From(ranked)
		out.Select(out.Columns(columns...)...)
		if w.limit > 0 {
			out.Where(sql.LTE(out.C("rn"), w.limit))
		}
		out.OrderBy(out.C(w.partition), out.C("rn"))
		*s = *out
	}
}

// orderExpr is the page's sort: the order column, then the id, as entgql breaks ties.
func (w window) orderExpr(s *sql.Selector) sql.Querier {
	return sql.ExprFunc(func(b *sql.Builder) {
		b.Ident(s.C(w.order)).Pad().WriteString(string(w.dir))
		if w.order != w.id {
			b.Comma().Ident(s.C(w.id)).Pad().WriteString(string(w.dir))
		}
	})
}

// orderColumn is the column of an entgql order field: entgql names order fields after their
// columns (OrderField("OCCURRED_AT") on occurred_at) but keeps the column unexported. The
// default order (by id) has no name.
func orderColumn(name, id string, valid func(string) bool) (string, error) {
	if name == "" {
		return id, nil
	}
	col := strings.ToLower(name)
	if !valid(col) {
		return "", fmt.Errorf("loader: order field %s has no column %q", name, col)
	}
	return col, nil
}

// lateral reshapes the query of one argument set, on PostgreSQL, into a page per parent that
// stops after limit rows on the index of (partition, order):
//
//	SELECT t.cols, uuid_send(t.id) AS id, uuid_send(t.user_id) AS user_id, c.total
//	FROM unnest($ids::uuid[]) WITH ORDINALITY AS xdb_parent(id, ord)
//	CROSS JOIN LATERAL (
//	  SELECT COUNT(*) AS total FROM t WHERE t.user_id = xdb_parent.id AND <where>
//	) AS c
//	CROSS JOIN LATERAL (
//	  SELECT cols FROM t WHERE t.user_id = xdb_parent.id AND <where> AND <cursors>
//	  ORDER BY <order>, id LIMIT <limit+1>
//	) AS t
//	ORDER BY xdb_parent.ord, <order>, id
//
// A window function reads every row of every parent before it ranks them; this reads
// limit+1 rows a parent, however many the parent holds. The count, only when totalCount is
// asked for, is COUNT(*) so that it can be answered from the index alone; counted per parent
// beside the page, it needs no join or sort by parent (1.5 ms where the grouped count joined
// to the pages took 2.2 ms, for 100 users). The rows come parent by parent in the list's
// order, as the nested loop gives them, so the ORDER BY costs little. Both parts are clones of the client's statement, so they keep every predicate its access rules added.
func (w window) lateral(s *sql.Selector) {
	const parent, counts = "xdb_parent", "xdb_count"
	table := s.TableName()
	columns := s.UnqualifiedColumns()
	ids := make(pq.StringArray, len(w.parents))
	for i, p := range w.parents {
		ids[i] = p.String()
	}

	page := w.parentPage(s, parent, "id")
	var count *sql.Selector
	if w.total {
		count = s.Clone()
		count.Select().AppendSelectExprAs(sql.Expr("COUNT(*)"), "total")
		count.Where(w.ofParent(count, parent, "id"))
	}

	out := sql.Dialect(dialect.Postgres).Select()
	q := func(col string) string {
		b := sql.Dialect(dialect.Postgres).Select()
		return b.As(table).C(col)
	}
	// The id and the parent's id are read as uuid_send's 16 bytes, which the scan copies as
	// they are: lib/pq turns a uuid into a new slice of its 36 characters, parsed back then.
	sel := make([]string, 0, len(columns))
	var binary []string
	for _, c := range columns {
		if c == w.id || c == w.partition {
			binary = append(binary, c)
		} else {
			sel = append(sel, q(c))
		}
	}
	out.Select(sel...)
	for _, c := range binary {
		out.AppendSelectExprAs(sql.ExprFunc(func(b *sql.Builder) {
			b.WriteString("uuid_send(").Ident(q(c)).WriteByte(')')
		}), c)
	}
	if w.total {
		out.AppendSelectExprAs(sql.ExprFunc(func(b *sql.Builder) {
			b.Ident(counts).WriteByte('.').Ident("total")
		}), "total")
	}
	out.FromExpr(sql.ExprFunc(func(b *sql.Builder) {
		b.WriteString("unnest(").Arg(ids).WriteString("::uuid[]) WITH ORDINALITY AS ").Ident(parent).WriteString("(id, ord)")
		if count != nil {
			b.WriteString(" CROSS JOIN LATERAL (").Join(count).WriteString(") AS ").Ident(counts)
		}
		b.WriteString(" CROSS JOIN LATERAL (").Join(page).WriteString(") AS ").Ident(table)
	}))
	out.OrderExpr(w.parentsOrder(parent, "ord", q))
	*s = *out
}

// parentPage is the page of one parent, as a clone of s: its rows whose partition column is
// the parent's id (column id of table parents of the enclosing statement), after the cursors,
// in the page's order, up to limit rows.
func (w window) parentPage(s *sql.Selector, parents, id string) *sql.Selector {
	page := s.Clone()
	page.Where(w.ofParent(page, parents, id))
	for _, p := range entgql.CursorsPredicate(w.after, w.before, w.id, w.order, w.dir) {
		p(page)
	}
	page.OrderExpr(w.orderExpr(page))
	if w.limit > 0 {
		page.Limit(w.limit)
	}
	return page
}

// ofParent is the predicate of s's rows of the parent whose id is column id of table parents
// of the enclosing statement.
func (w window) ofParent(s *sql.Selector, parents, id string) *sql.Predicate {
	return sql.P(func(b *sql.Builder) {
		b.Ident(s.C(w.partition)).WriteString(" = ").Ident(parents).WriteByte('.').Ident(id)
	})
}

// parentsOrder sorts the rows of every parent's page parent by parent (by column key of table
// parents), then each parent's in the page's order; q qualifies a column of the pages.
func (w window) parentsOrder(parents, key string, q func(string) string) sql.Querier {
	return sql.ExprFunc(func(b *sql.Builder) {
		b.Ident(parents).WriteByte('.').Ident(key).Comma().Ident(q(w.order)).Pad().WriteString(string(w.dir))
		if w.order != w.id {
			b.Comma().Ident(q(w.id)).Pad().WriteString(string(w.dir))
		}
	})
}
