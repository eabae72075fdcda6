package graph_test

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql/schema"
	"entgo.io/ent/schema/field"
	"github.com/google/uuid"

	"github.com/multidb/multidb/internal/database"
	"github.com/multidb/multidb/schema/xdb"
)

// This file tests every type of every database from the registry and the declarations in the
// schemas, with rows it writes itself: a type or a database added with make schema or
// make database is tested here with no new line.

// gtype is a type of the graph as the tests see it.
type gtype struct {
	db    string
	spec  database.Type
	table *schema.Table
}

func (t gtype) key() string          { return t.db + "." + t.spec.Name }
func (t gtype) list() string         { return t.spec.List }
func (t gtype) refs() []database.Ref { return t.spec.Refs }

// graphTypes lists every type of the graph, from the registry.
func graphTypes() []gtype {
	var out []gtype
	for _, spec := range database.Registry {
		for _, st := range spec.Types {
			if st.Nodes == nil {
				continue
			}
			gt := gtype{db: spec.Name, spec: st}
			for _, tbl := range spec.Tables {
				if tbl.Name == st.Table {
					gt.table = tbl
				}
			}
			out = append(out, gt)
		}
	}
	return out
}

// world is the rows of one test: users A and B, an admin, and rows of every type.
type world struct {
	a, b, admin uuid.UUID
	rows        map[string][]wrow // by type key
}

type wrow struct {
	id    uuid.UUID
	owner *uuid.UUID
	refs  map[string]uuid.UUID // column -> id it holds
}

// newWorld writes, with plain SQL so that no rule or validator interferes, users A and B, an
// admin, and for every other type of the graph two rows owned by A, two by B and, when the
// owner may be null, one of nobody (or three rows for a type that has no owner).
func newWorld(t *testing.T, e *env, types []gtype) *world {
	t.Helper()
	w := &world{a: uuid.Must(uuid.NewV7()), b: uuid.Must(uuid.NewV7()), admin: uuid.Must(uuid.NewV7()), rows: map[string][]wrow{}}
	for _, gt := range types {
		if gt.key() != "users.User" {
			continue
		}
		for _, u := range []struct {
			id   uuid.UUID
			role string
		}{{w.a, "USER"}, {w.b, "USER"}, {w.admin, "ADMIN"}} {
			insertRow(t, e, gt, map[string]any{"id": u.id, "role": u.role})
			id := u.id
			w.rows[gt.key()] = append(w.rows[gt.key()], wrow{id: id, owner: &id})
		}
	}
	for _, gt := range types {
		if gt.key() == "users.User" {
			continue
		}
		p := gt.spec.Policy
		var owners []*uuid.UUID
		if p.Kind == xdb.KindOwned {
			owners = []*uuid.UUID{&w.a, &w.a, &w.b, &w.b}
			if col := column(gt.table, p.Owner); col != nil && col.Nullable {
				owners = append(owners, nil)
			}
		} else {
			owners = []*uuid.UUID{nil, nil, nil}
		}
		for i, owner := range owners {
			r := wrow{id: uuid.Must(uuid.NewV7()), owner: owner, refs: map[string]uuid.UUID{}}
			set := map[string]any{"id": r.id}
			for _, ref := range gt.refs() {
				targets := w.rows[ref.Target]
				if len(targets) == 0 {
					continue
				}
				id := targets[i%len(targets)].id
				if ref.Target == "users.User" {
					id = []uuid.UUID{w.a, w.b}[i%2]
				}
				r.refs[ref.Column] = id
				set[ref.Column] = id
			}
			if p.Kind == xdb.KindOwned {
				if owner != nil {
					set[p.Owner] = *owner
					r.refs[p.Owner] = *owner
				} else {
					set[p.Owner] = nil
					delete(r.refs, p.Owner)
				}
			}
			insertRow(t, e, gt, set)
			w.rows[gt.key()] = append(w.rows[gt.key()], r)
		}
	}
	return w
}

func column(t *schema.Table, name string) *schema.Column {
	for _, c := range t.Columns {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// insertRow writes one row of gt's table: the values in set, and for every other column that
// may not be null a value of its type.
func insertRow(t *testing.T, e *env, gt gtype, set map[string]any) {
	t.Helper()
	db := e.set.Get(gt.db)
	var cols, marks []string
	var args []any
	for _, c := range gt.table.Columns {
		v, ok := set[c.Name]
		if !ok {
			if c.Nullable {
				continue
			}
			v = sampleValue(c)
		}
		cols = append(cols, `"`+c.Name+`"`)
		args = append(args, v)
		if db.Dialect() == dialect.Postgres {
			marks = append(marks, fmt.Sprintf("$%d", len(args)))
		} else {
			marks = append(marks, "?")
		}
	}
	q := fmt.Sprintf(`INSERT INTO "%s" (%s) VALUES (%s)`, gt.table.Name, strings.Join(cols, ", "), strings.Join(marks, ", "))
	if _, err := db.SQL.ExecContext(context.Background(), q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func sampleValue(c *schema.Column) any {
	switch c.Type {
	case field.TypeEnum:
		return c.Enums[0]
	case field.TypeUUID:
		return uuid.Must(uuid.NewV7())
	case field.TypeJSON:
		return "{}"
	case field.TypeTime:
		return time.Now().UTC()
	case field.TypeBool:
		return false
	case field.TypeBytes:
		return []byte{}
	case field.TypeString, field.TypeOther:
		return "x" + uuid.NewString()[:8] + "@example.com" // unique, and an email where one is asked
	}
	return 0 // every numeric type
}

// visible reports whether a viewer (uuid.Nil: anonymous) may see r, by the type's policy.
func (w *world) visible(gt gtype, viewer uuid.UUID, r wrow) bool {
	switch gt.spec.Policy.Kind {
	case xdb.KindPublic:
		return true
	case xdb.KindSignedIn:
		return viewer != uuid.Nil
	case xdb.KindAdminOnly:
		return viewer == w.admin
	case xdb.KindOwned:
		return viewer == w.admin || (viewer != uuid.Nil && r.owner != nil && *r.owner == viewer)
	}
	return false
}

// readable reports whether the viewer may ask for the type's list at all: anonymous callers
// only for public types.
func readable(gt gtype, viewer uuid.UUID) bool {
	return viewer != uuid.Nil || gt.spec.Policy.Kind == xdb.KindPublic
}

func (w *world) ids(gt gtype) []uuid.UUID {
	var out []uuid.UUID
	for _, r := range w.rows[gt.key()] {
		out = append(out, r.id)
	}
	return out
}

func (w *world) want(gt gtype, viewer uuid.UUID, keep func(wrow) bool) []string {
	out := []string{}
	for _, r := range w.rows[gt.key()] {
		if w.visible(gt, viewer, r) && (keep == nil || keep(r)) {
			out = append(out, r.id.String())
		}
	}
	slices.Sort(out)
	return out
}

type page struct {
	TotalCount int
	Edges      []struct {
		Node map[string]json.RawMessage
	}
}

func (p page) ids() []string {
	out := []string{}
	for _, e := range p.Edges {
		var id string
		_ = json.Unmarshal(e.Node["id"], &id)
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

// TestPoliciesOnEveryPath walks every type of every database and shows that each viewer (a
// USER, an ADMIN, an anonymous caller) gets exactly what the type's declared policy allows on
// every path: its list with totalCount, a where on ids, nodes, the stitched fields to and from
// it, and every mutation generated for it.
func TestPoliciesOnEveryPath(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		types := graphTypes()
		w := newWorld(t, e, types)
		anon := e.with(t)
		viewers := []struct {
			name string
			id   uuid.UUID
			as   *env
		}{
			{"user", w.a, anon.as(e.session(t, w.a, time.Now().Add(time.Hour)))},
			{"admin", w.admin, anon.as(e.session(t, w.admin, time.Now().Add(time.Hour)))},
			{"anonymous", uuid.Nil, anon},
		}
		for _, gt := range types {
			t.Run(gt.spec.Name, func(t *testing.T) {
				for _, v := range viewers {
					t.Run(v.name, func(t *testing.T) {
						checkReads(t, w, types, gt, v.id, v.as)
						if gt.spec.Policy.Generated() {
							checkMutations(t, w, gt, v.id, v.as)
						}
					})
				}
			})
		}
	})
}

func checkReads(t *testing.T, w *world, types []gtype, gt gtype, viewer uuid.UUID, as *env) {
	ids := w.ids(gt)
	if gt.list() != "" {
		doc := fmt.Sprintf(`{ %s(first: 20) { totalCount edges { node { id } } } }`, gt.list())
		if !readable(gt, viewer) {
			as.wantError(t, doc, nil, "UNAUTHENTICATED", "")
		} else {
			var got map[string]page
			as.query(t, doc, nil, &got)
			want := w.want(gt, viewer, nil)
			if ids := got[gt.list()].ids(); !slices.Equal(ids, want) || got[gt.list()].TotalCount != len(want) {
				t.Errorf("list: got %v (totalCount %d), want %v", ids, got[gt.list()].TotalCount, want)
			}
			// A where on every id finds no more.
			as.query(t, fmt.Sprintf(`query($ids: [ID!]) { %s(where: {idIn: $ids}) { totalCount } }`, gt.list()), map[string]any{"ids": ids}, &got)
			if got[gt.list()].TotalCount != len(want) {
				t.Errorf("where idIn: got totalCount %d, want %d", got[gt.list()].TotalCount, len(want))
			}
		}
	}
	if viewer == uuid.Nil {
		as.wantError(t, `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, map[string]any{"ids": ids}, "UNAUTHENTICATED", "")
	} else {
		var got struct{ Nodes []*struct{ ID string } }
		as.query(t, `query($ids: [ID!]!) { nodes(ids: $ids) { id } }`, map[string]any{"ids": ids}, &got)
		found := []string{}
		for _, n := range got.Nodes {
			if n != nil {
				found = append(found, n.ID)
			}
		}
		slices.Sort(found)
		if want := w.want(gt, viewer, nil); !slices.Equal(found, want) {
			t.Errorf("nodes: got %v, want %v", found, want)
		}
	}
	if gt.list() == "" || !readable(gt, viewer) {
		return
	}
	// The fields that leave this type for another database.
	for _, ref := range gt.refs() {
		target := typeByKey(types, ref.Target)
		var got map[string]struct {
			Edges []struct {
				Node map[string]json.RawMessage
			}
		}
		as.query(t, fmt.Sprintf(`{ %s(first: 50) { edges { node { id %s { id } } } } }`, gt.list(), ref.Field), nil, &got)
		for _, edge := range got[gt.list()].Edges {
			var id string
			_ = json.Unmarshal(edge.Node["id"], &id)
			r := w.row(gt, id)
			var to *struct{ ID string }
			_ = json.Unmarshal(edge.Node[ref.Field], &to)
			wantTo := ""
			if tid, ok := r.refs[ref.Column]; ok {
				if tr := w.row(target, tid.String()); tr.id != uuid.Nil && w.visible(target, viewer, tr) {
					wantTo = tid.String()
				}
			}
			if gotTo := ""; to != nil {
				gotTo = to.ID
				if gotTo != wantTo {
					t.Errorf("%s of %s: got %q, want %q", ref.Field, id, gotTo, wantTo)
				}
			} else if wantTo != "" {
				t.Errorf("%s of %s: got null, want %q", ref.Field, id, wantTo)
			}
		}
	}
	// The connections other databases' rows add to this type.
	for _, child := range types {
		for _, ref := range child.refs() {
			if ref.Target != gt.key() || ref.Inverse == "" {
				continue
			}
			var got map[string]struct {
				Edges []struct {
					Node map[string]json.RawMessage
				}
			}
			as.query(t, fmt.Sprintf(`{ %s(first: 50) { edges { node { id %s(first: 50) { totalCount edges { node { id } } } } } } }`, gt.list(), ref.Inverse), nil, &got)
			for _, edge := range got[gt.list()].Edges {
				var id string
				_ = json.Unmarshal(edge.Node["id"], &id)
				var conn page
				_ = json.Unmarshal(edge.Node[ref.Inverse], &conn)
				want := w.want(child, viewer, func(r wrow) bool { return r.refs[ref.Column].String() == id })
				if ids := conn.ids(); !slices.Equal(ids, want) || conn.TotalCount != len(want) {
					t.Errorf("%s of %s: got %v (totalCount %d), want %v", ref.Inverse, id, ids, conn.TotalCount, want)
				}
			}
		}
	}
}

func typeByKey(types []gtype, key string) gtype {
	for _, gt := range types {
		if gt.key() == key {
			return gt
		}
	}
	return gtype{}
}

func (w *world) row(gt gtype, id string) wrow {
	for _, r := range w.rows[gt.key()] {
		if r.id.String() == id {
			return r
		}
	}
	return wrow{}
}

// checkMutations runs the mutations generated for gt as the viewer: a USER creates, changes
// and deletes their own rows of an owned type only, and nothing of the other kinds; an ADMIN
// everything; an anonymous caller nothing.
func checkMutations(t *testing.T, w *world, gt gtype, viewer uuid.UUID, as *env) {
	name := gt.spec.Name
	p := gt.spec.Policy
	var refused string // the code every mutation gets, or "" when allowed
	switch {
	case viewer == uuid.Nil:
		refused = "UNAUTHENTICATED"
	case viewer != w.admin && p.Kind != xdb.KindOwned:
		refused = "FORBIDDEN"
	}
	input := createInput(t, as, w, name)
	create := fmt.Sprintf(`mutation($in: Create%sInput!) { create%s(input: $in) { id } }`, name, name)
	var created uuid.UUID
	if input != nil {
		if refused != "" {
			as.wantError(t, create, map[string]any{"in": input}, refused, "")
		} else {
			var got map[string]struct{ ID uuid.UUID }
			as.query(t, create, map[string]any{"in": input}, &got)
			created = got["create"+name].ID
			// What a USER creates is theirs: they see it in their list.
			if gt.list() != "" {
				var l map[string]page
				as.query(t, fmt.Sprintf(`query($id: ID!) { %s(where: {id: $id}) { totalCount } }`, gt.list()), map[string]any{"id": created}, &l)
				if l[gt.list()].TotalCount != 1 {
					t.Errorf("create%s: the viewer does not see the row they created", name)
				}
			}
		}
	}
	// Someone else's row: B's for an owned type, any row for the others.
	var other uuid.UUID
	for _, r := range w.rows[gt.key()] {
		if r.owner == nil || *r.owner == w.b {
			other = r.id
			break
		}
	}
	otherCode := refused
	if otherCode == "" && viewer != w.admin {
		otherCode = "NOT_FOUND" // hidden rows look missing
	}
	if p.Updatable() {
		update := fmt.Sprintf(`mutation($id: ID!) { update%s(id: $id, input: {}) { id } }`, name)
		expect(t, as, update, other, otherCode)
		if created != uuid.Nil {
			expect(t, as, update, created, "")
		}
	}
	del := fmt.Sprintf(`mutation($id: ID!) { delete%s(id: $id) { deletedID } }`, name)
	if viewer != w.admin { // the admin's deletion would change what the other viewers expect
		expect(t, as, del, other, otherCode)
	}
	if created != uuid.Nil {
		expect(t, as, del, created, "")
	}
}

func expect(t *testing.T, as *env, doc string, id uuid.UUID, code string) {
	t.Helper()
	if code != "" {
		as.wantError(t, doc, map[string]any{"id": id}, code, "")
		return
	}
	if r := as.do(t, doc, map[string]any{"id": id}); len(r.Errors) > 0 {
		t.Errorf("%s on %s: %+v", doc, id, r.Errors)
	}
}

// createInput builds a Create<name>Input from the schema: a value for every required field.
// nil when the type has no create mutation.
func createInput(t *testing.T, as *env, w *world, name string) map[string]any {
	t.Helper()
	type tref struct {
		Kind, Name string
		OfType     *tref
	}
	var intro struct {
		Type *struct {
			InputFields []struct {
				Name string
				Type tref
			}
		} `json:"__type"`
	}
	admin := as.as(as.session(t, w.admin, time.Now().Add(time.Hour)))
	admin.query(t, `query($n: String!) { __type(name: $n) { inputFields { name type { kind name ofType { kind name ofType { kind name } } } } } }`,
		map[string]any{"n": "Create" + name + "Input"}, &intro)
	if intro.Type == nil {
		return nil
	}
	in := map[string]any{}
	for _, f := range intro.Type.InputFields {
		if f.Type.Kind != "NON_NULL" || f.Type.OfType == nil {
			continue
		}
		base := f.Type.OfType
		switch {
		case base.Kind == "LIST":
			in[f.Name] = []any{}
		case base.Kind == "ENUM":
			var enum struct {
				Type struct{ EnumValues []struct{ Name string } } `json:"__type"`
			}
			admin.query(t, `query($n: String!) { __type(name: $n) { enumValues { name } } }`, map[string]any{"n": base.Name}, &enum)
			in[f.Name] = enum.Type.EnumValues[0].Name
		case base.Name == "Int" || base.Name == "Float":
			in[f.Name] = 1
		case base.Name == "Boolean":
			in[f.Name] = true
		case base.Name == "Time":
			in[f.Name] = time.Now().UTC().Format(time.RFC3339)
		case base.Name == "Map":
			in[f.Name] = map[string]any{}
		case base.Name == "ID" || base.Name == "UUID":
			in[f.Name] = w.a
		default:
			in[f.Name] = "sample " + name
		}
	}
	return in
}

// TestStatementsPerLevelOfEveryEdge asks, for every reference between databases, for a page
// of the target type with the connection of referring rows and, below it, the reference back:
// one statement per database per level, whatever the number of parents.
func TestStatementsPerLevelOfEveryEdge(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		types := graphTypes()
		newWorld(t, e, types)
		for _, child := range types {
			for _, ref := range child.refs() {
				target := typeByKey(types, ref.Target)
				t.Run(child.spec.Name+"."+ref.Field, func(t *testing.T) {
					if child.list() != "" {
						e.count.reset()
						e.do(t, fmt.Sprintf(`{ %s(first: 100) { edges { node { id %s { id } } } } }`, child.list(), ref.Field), nil)
						assertCounts(t, e, levels(child.db, 1, target.db, 1))
					}
					if ref.Inverse != "" && target.list() != "" {
						e.count.reset()
						r := e.do(t, fmt.Sprintf(`{ %s(first: 100) { edges { node { id %s(first: 3) { totalCount edges { node { id %s { id } } } } } } } }`,
							target.list(), ref.Inverse, ref.Field), nil)
						if len(r.Errors) > 0 {
							t.Fatalf("errors: %+v", r.Errors)
						}
						// The target's page, then the referring rows of all its parents; the
						// targets of those rows are the parents on the page, which the
						// request's identity map answers.
						assertCounts(t, e, levels(target.db, 1, child.db, 1))
					}
				})
			}
		}
	})
}

func levels(db1 string, n1 int, db2 string, n2 int) map[string]int {
	return map[string]int{db1: n1, db2: n2}
}

// TestDeleteUserFollowsEveryReference deletes a user and checks every reference to users in
// every database: rows that refer with xdb.Cascade are gone, the others (audit entries) stay.
func TestDeleteUserFollowsEveryReference(t *testing.T) {
	forEachDialect(t, func(t *testing.T, e *env) {
		types := graphTypes()
		w := newWorld(t, e, types)
		var out struct {
			DeleteUser struct {
				Removed []struct {
					Database string
					Count    int
				}
			}
		}
		e.query(t, `mutation($id: ID!) { deleteUser(id: $id) { removed { database count } } }`, map[string]any{"id": w.b}, &out)
		removed := map[string]int{}
		for _, r := range out.DeleteUser.Removed {
			removed[r.Database] += r.Count
		}
		wantRemoved := map[string]int{"users": 1}
		for _, gt := range types {
			for _, ref := range gt.refs() {
				if ref.Target != "users.User" {
					continue
				}
				referring := 0
				for _, r := range w.rows[gt.key()] {
					if r.refs[ref.Column] == w.b {
						referring++
					}
				}
				if referring == 0 {
					t.Fatalf("%s: the world has no row referring to the user", gt.key())
				}
				q := fmt.Sprintf(`SELECT COUNT(*) FROM "%s" WHERE "%s" = %s`, gt.table.Name, ref.Column, placeholder(e, gt.db))
				var left int
				if err := e.set.Get(gt.db).SQL.QueryRow(q, w.b).Scan(&left); err != nil {
					t.Fatal(err)
				}
				if ref.Cascade {
					wantRemoved[gt.db] += referring
					if left != 0 {
						t.Errorf("%s.%s: %d rows of the deleted user left, want 0", gt.key(), ref.Column, left)
					}
				} else if left != referring {
					t.Errorf("%s.%s: %d rows of the deleted user left, want the %d kept", gt.key(), ref.Column, left, referring)
				}
			}
		}
		for db, n := range wantRemoved {
			if removed[db] != n {
				t.Errorf("deleteUser reports %d rows removed from %s, want %d", removed[db], db, n)
			}
		}
	})
}

func placeholder(e *env, db string) string {
	if e.set.Get(db).Dialect() == dialect.Postgres {
		return "$1"
	}
	return "?"
}
