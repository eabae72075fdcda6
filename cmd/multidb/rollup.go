package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"entgo.io/ent/dialect"

	"github.com/multidb/multidb/graph/stats"
)

// errNoRollups: rollup was asked of an analytics database on SQLite, which has none.
var errNoRollups = errors.New("no rollups")

// rollupCmd runs `multidb rollup rebuild --from T --to T`: it recomputes PostgreSQL's
// per-hour rollups of the events of a range from the events themselves.
func rollupCmd(ctx context.Context, args []string, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "rebuild" {
		return fmt.Errorf("%w: rollup takes one command, rebuild --from T --to T", errUsage)
	}
	fs := flag.NewFlagSet("rollup rebuild", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fromArg := fs.String("from", "", "the start of the range: RFC 3339 (2026-03-01T00:00:00Z) or a UTC date (2026-03-01)")
	toArg := fs.String("to", "", "the end of the range, excluded, in the same forms")
	if err := fs.Parse(args[1:]); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: unexpected %q", errUsage, fs.Arg(0))
	}
	from, err := parseInstant("--from", *fromArg)
	if err != nil {
		return err
	}
	to, err := parseInstant("--to", *toArg)
	if err != nil {
		return err
	}
	if !from.Before(to) {
		return fmt.Errorf("%w: --from must be before --to", errUsage)
	}
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	set, err := openReachable(ctx, cfg, "analytics")
	if err != nil {
		return err
	}
	defer set.Close()
	db := set.Get("analytics")
	if db.Dialect() != dialect.Postgres {
		return fmt.Errorf("%w: analytics is on SQLite, which answers eventStats from the events and keeps no rollups", errNoRollups)
	}
	start := time.Now()
	res, err := stats.RebuildRollups(ctx, db.SQL, from, to)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "rebuilt the rollups of %s to %s in %s: %d events, %d rows of %s, %d of %s, %d transactions\n",
		res.From.Format(time.RFC3339), res.To.Format(time.RFC3339), time.Since(start).Round(time.Millisecond),
		res.Events, res.Counts, stats.RollupCounts, res.Users, stats.RollupUsers, res.Chunks)
	return nil
}

// parseInstant reads an instant in RFC 3339, or a date, taken as its midnight in UTC.
func parseInstant(flag, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, fmt.Errorf("%w: %s is required", errUsage, flag)
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, s); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("%w: %s %q: write 2026-03-01T00:00:00Z or 2026-03-01", errUsage, flag, s)
}
