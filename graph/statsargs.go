package graph

import (
	"github.com/multidb/multidb/ent/analytics/event"
	"time"

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
