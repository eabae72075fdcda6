package graph

import (
	"context"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/99designs/gqlgen/graphql"

	"github.com/multidb/multidb/ent/analytics/event"
	"github.com/multidb/multidb/internal/auth"

	"github.com/multidb/multidb/ent/analytics"
	"github.com/multidb/multidb/graph/apierror"
	"github.com/multidb/multidb/graph/model"
	"github.com/multidb/multidb/graph/stats"
)

// eventQuery is a query of the events where selects, on the access-ruled client: a USER's
// statement carries the predicate of their own rows.
func (r *Resolver) eventQuery(where *analytics.EventWhereInput) (*analytics.EventQuery, error) {
	q := r.clients.Analytics.Event.Query()
	if where != nil {
		p, err := where.P()
		switch {
		case err == analytics.ErrEmptyEventWhereInput: // nolint:errorlint // a sentinel, returned as is
		case err != nil:
			return nil, apierror.BadInput("where: %v", err)
		default:
			q.Where(p)
		}
	}
	return q, nil
}

// statsGroups reads eventStats' groupBy.
func statsGroups(in []*model.EventGroup) ([]stats.Group, error) {
	out := make([]stats.Group, 0, len(in))
	for _, g := range in {
		switch g.By {
		case model.EventGroupByName:
			if g.Path != nil {
				return nil, apierror.BadInput("groupBy NAME takes no path")
			}
			out = append(out, stats.Group{Column: event.FieldName})
		case model.EventGroupByProperty:
			if g.Path == nil {
				return nil, apierror.BadInput("groupBy PROPERTY needs a path, such as \"path\" or \"utm.source\"")
			}
			keys, err := stats.ParsePath(*g.Path)
			if err != nil {
				return nil, err
			}
			out = append(out, stats.Group{Path: keys})
		default:
			return nil, apierror.BadInput("groupBy %q is not NAME or PROPERTY", g.By)
		}
	}
	return out, nil
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// statsSpec reads the arguments of an eventStats field.
func (r *Resolver) statsSpec(from, to time.Time, groupBy []*model.EventGroup, bucket *model.StatsBucket, timezone *string) (stats.Spec, error) {
	spec := stats.Spec{From: from, To: to, Max: r.statsMax}
	if spec.Max <= 0 {
		spec.Max = stats.DefaultMaxBuckets
	}
	if bucket != nil {
		spec.Bucket = stats.Bucket(*bucket)
	}
	var err error
	if spec.Loc, err = stats.Location(deref(timezone)); err != nil {
		return spec, err
	}
	spec.Groups, err = statsGroups(groupBy)
	return spec, err
}

// statsBuckets is the GraphQL form of the rows.
func statsBuckets(rows []stats.Row) []*model.EventStatsBucket {
	out := make([]*model.EventStatsBucket, len(rows))
	for i, row := range rows {
		out[i] = &model.EventStatsBucket{Start: row.Start, End: row.End, Keys: row.Keys, Count: row.Count, UniqueUsers: row.Unique}
		if out[i].Keys == nil {
			out[i].Keys = []*string{}
		}
	}
	return out
}

// rollupRange says whether eventStats can read PostgreSQL's rollups, and for which hours
// (stats.RollupRange): for an ADMIN only, since the rollups count every user's events, and
// for a where on the event name only, which the rollups keep.
func (r *Resolver) rollupRange(ctx context.Context, spec stats.Spec, where *analytics.EventWhereInput) (lo, hi time.Time, ok bool) {
	if v, signed := auth.FromContext(ctx); !r.rollups || !signed || !v.Admin() || !onlyName(where) {
		return lo, hi, false
	}
	return stats.RollupRange(spec)
}

// onlyName reports whether w filters on the event name alone (or not at all).
func onlyName(w *analytics.EventWhereInput) bool {
	if w == nil {
		return true
	}
	if len(w.Predicates) > 0 || !onlyName(w.Not) {
		return false
	}
	for _, sub := range append(slices.Clone(w.And), w.Or...) {
		if !onlyName(sub) {
			return false
		}
	}
	// Every other field must be unset: a copy with the name's fields and the nested inputs
	// cleared is the zero value.
	rest := analytics.EventWhereInput{}
	v, zero := reflect.ValueOf(w).Elem(), reflect.ValueOf(&rest).Elem()
	for i := range v.NumField() {
		name := v.Type().Field(i).Name
		if strings.HasPrefix(name, "Name") || name == "Not" || name == "And" || name == "Or" || name == "Predicates" {
			continue
		}
		if !reflect.DeepEqual(v.Field(i).Interface(), zero.Field(i).Interface()) {
			return false
		}
	}
	return true
}

// fieldAsked reports whether the field being resolved selects the subfield name.
func fieldAsked(ctx context.Context, name string) bool {
	if graphql.GetFieldContext(ctx) == nil {
		return true
	}
	for _, f := range graphql.CollectFieldsCtx(ctx, nil) {
		if f.Name == name {
			return true
		}
	}
	return false
}
