package seed

import "github.com/multidb/multidb/internal/config"

// Seeders lists every seeder. `make seed-new` adds its line above the marker.
var Seeders = []Seeder{
	{Name: "20261125_demo_users", DB: "users", Envs: []string{config.Development}, Run: demoUsers},
	{Name: "20261125_demo_events", DB: "analytics", Envs: []string{config.Development}, Run: demoEvents},
	{Name: "20261125_demo_logs", DB: "logs", Envs: []string{config.Development}, Run: demoLogs},
	// seed-new: new seeders go above this line.
}
