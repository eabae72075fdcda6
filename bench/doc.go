// Package bench holds the benchmarks of the graph over a large PostgreSQL data set: 10,000
// users, 1,000,000 events and 300,000 log entries, bulk-loaded once per `go test -bench` run
// into fresh databases that are dropped at the end. `make bench` runs them.
//
// Every benchmark sends real GraphQL documents by HTTP to graph.NewHandler and reports, besides
// ns/op and allocations (client and server together: both run in this process), the SQL
// statements each database received per operation.
package bench
