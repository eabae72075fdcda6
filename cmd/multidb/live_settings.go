package main

import (
	"github.com/multidb/multidb/graph"
	"github.com/multidb/multidb/graph/live"
	"github.com/multidb/multidb/internal/config"
)

// liveSettings reads the LIVE_* settings of subscriptions (README "Live data"), with the
// defaults of package live; .env.example documents each.
func liveSettings(cfg *config.Config) ([]graph.Option, error) {
	s, err := cfg.Live(config.Live{
		Poll:             live.DefaultPoll,
		Settle:           live.DefaultSettle,
		Recheck:          graph.DefaultSessionRecheck,
		Buffer:           live.DefaultBuffer,
		BatchRows:        live.DefaultBatch,
		BatchPairs:       live.DefaultPairs,
		MaxPerUser:       live.DefaultMaxPerViewer,
		MaxPerConnection: live.DefaultMaxPerConnect,
	})
	if err != nil {
		return nil, err
	}
	return []graph.Option{
		graph.WithLive(live.Options{Poll: s.Poll, Settle: s.Settle, Buffer: s.Buffer, Batch: s.BatchRows, Pairs: s.BatchPairs, MaxPerViewer: s.MaxPerUser}),
		graph.WithMaxSubscriptionsPerConnection(s.MaxPerConnection),
		graph.WithSessionRecheck(s.Recheck),
	}, nil
}
