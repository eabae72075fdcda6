package bench

import (
	"context"
	"testing"
	"time"
)

const statsByNameDayQuery = `query Stats($from: Time!, $to: Time!) {
  eventStats(from: $from, to: $to, bucket: DAY, groupBy: [{by: NAME}]) { start keys count uniqueUsers }
}`

const statsWeeklyUniquesQuery = `query Weekly($from: Time!, $to: Time!) {
  eventStats(from: $from, to: $to, bucket: WEEK, timezone: "Europe/Berlin") { start count uniqueUsers }
}`

const funnelQuery = `query Funnel($from: Time!, $to: Time!) {
  funnel(steps: ["signup", "add_to_cart", "checkout"], within: "24h", from: $from, to: $to) { name users conversion }
}`

type statsOut struct {
	EventStats []struct {
		Count, UniqueUsers int
	}
}

// statsRange is the benchmarks' range: the last days of the data set, whole seconds.
func (d *dataset) statsRange(days int) (time.Time, time.Time) {
	to := d.now.Add(time.Second).Truncate(time.Second)
	return to.Add(-time.Duration(days) * 24 * time.Hour), to
}

// eventsBetween counts the events of [from, to) with SQL, to check the answers against.
func (d *dataset) eventsBetween(b *testing.B, from, to time.Time) int {
	b.Helper()
	var n int
	err := d.set.Get("analytics").SQL.QueryRowContext(context.Background(),
		`SELECT count(*) FROM events WHERE occurred_at >= $1 AND occurred_at < $2`, from, to).Scan(&n)
	if err != nil {
		b.Fatal(err)
	}
	return n
}

func benchStats(b *testing.B, doc string, days int) {
	d := data(b)
	from, to := d.statsRange(days)
	body := request(b, doc, map[string]any{"from": from.Format(time.RFC3339), "to": to.Format(time.RFC3339)})
	var out statsOut
	d.verify(b, body, &out)
	sum := 0
	for _, s := range out.EventStats {
		sum += s.Count
	}
	if want := d.eventsBetween(b, from, to); sum != want || want == 0 {
		b.Fatalf("the buckets hold %d events, want %d", sum, want)
	}
	d.run(b, func() []byte { return body })
}

// BenchmarkStatsByNameDay counts events by name and day over 90 days: a dashboard's chart.
func BenchmarkStatsByNameDay(b *testing.B) { benchStats(b, statsByNameDayQuery, 90) }

// BenchmarkStatsWeeklyUniques counts unique users per week in Europe/Berlin over 90 days.
func BenchmarkStatsWeeklyUniques(b *testing.B) { benchStats(b, statsWeeklyUniquesQuery, 90) }

// BenchmarkFunnel3Steps is a 3-step funnel over 30 days, within a day.
func BenchmarkFunnel3Steps(b *testing.B) {
	d := data(b)
	from, to := d.statsRange(30)
	body := request(b, funnelQuery, map[string]any{"from": from.Format(time.RFC3339), "to": to.Format(time.RFC3339)})
	var out struct {
		Funnel []struct{ Users int }
	}
	d.verify(b, body, &out)
	if len(out.Funnel) != 3 || out.Funnel[0].Users == 0 || out.Funnel[2].Users > out.Funnel[1].Users || out.Funnel[1].Users > out.Funnel[0].Users {
		b.Fatalf("funnel: %+v", out.Funnel)
	}
	d.run(b, func() []byte { return body })
}
