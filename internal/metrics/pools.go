package metrics

import (
	"database/sql"

	"github.com/prometheus/client_golang/prometheus"
)

// RegisterPools registers a collector that reports, at each scrape, the connection pool
// statistics (sql.DB.Stats) of every pool pools returns, labelled by database name. pools is
// called on every scrape, so databases opened later are reported too.
func (m *Metrics) RegisterPools(pools func() map[string]*sql.DB) error {
	return m.reg.Register(newPoolCollector(pools))
}

type poolCollector struct {
	pools                              func() map[string]*sql.DB
	open, inUse, idle, maxOpen         *prometheus.Desc
	waitCount, waitDuration, maxClosed *prometheus.Desc
}

func newPoolCollector(pools func() map[string]*sql.DB) *poolCollector {
	desc := func(name, help string) *prometheus.Desc {
		return prometheus.NewDesc(prometheus.BuildFQName(namespace, "db_pool", name), help, []string{"database"}, nil)
	}
	return &poolCollector{
		pools:        pools,
		open:         desc("open_connections", "Connections open, in use or idle."),
		inUse:        desc("in_use_connections", "Connections in use."),
		idle:         desc("idle_connections", "Idle connections."),
		maxOpen:      desc("max_open_connections", "Limit on open connections (0 means none)."),
		waitCount:    desc("wait_count_total", "Times a statement waited for a free connection."),
		waitDuration: desc("wait_duration_seconds_total", "Time spent waiting for a free connection."),
		maxClosed:    desc("max_idle_time_closed_total", "Connections closed for having been idle too long."),
	}
}

func (c *poolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.open, c.inUse, c.idle, c.maxOpen, c.waitCount, c.waitDuration, c.maxClosed} {
		ch <- d
	}
}

func (c *poolCollector) Collect(ch chan<- prometheus.Metric) {
	for name, db := range c.pools() {
		if db == nil {
			continue
		}
		s := db.Stats()
		gauge := func(d *prometheus.Desc, v float64) {
			ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, name)
		}
		counter := func(d *prometheus.Desc, v float64) {
			ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v, name)
		}
		gauge(c.open, float64(s.OpenConnections))
		gauge(c.inUse, float64(s.InUse))
		gauge(c.idle, float64(s.Idle))
		gauge(c.maxOpen, float64(s.MaxOpenConnections))
		counter(c.waitCount, float64(s.WaitCount))
		counter(c.waitDuration, s.WaitDuration.Seconds())
		counter(c.maxClosed, float64(s.MaxIdleTimeClosed))
	}
}
