package main

import (
	"context"
	"fmt"
	"time"

	"github.com/multidb/multidb/internal/config"
	"github.com/multidb/multidb/internal/database"
)

// openReachable opens the databases and checks that every one in use (only, or all) answers,
// so that migrate and seed change nothing unless they can reach every database they touch.
func openReachable(ctx context.Context, cfg *config.Config, only string) (*database.Set, error) {
	if only != "" {
		if _, ok := database.Lookup(only); !ok {
			return nil, fmt.Errorf("%w: --db %q is not a database; use one of %v", errUsage, only, database.Names())
		}
	}
	set, err := database.Open(cfg)
	if err != nil {
		return nil, err
	}
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	errs := set.Ping(pctx)
	for _, db := range set.DBs {
		if only != "" && db.Name != only {
			continue
		}
		if err := errs[db.Name]; err != nil {
			set.Close()
			return nil, fmt.Errorf("%s: cannot reach %s=%s: %v; start that server or fix %s", db.Name, db.Config.EnvVar, db.Config.URL, err, db.Config.EnvVar)
		}
	}
	return set, nil
}

// selected returns the databases a command works on: the one named by --db, or all.
func selected(set *database.Set, only string) []*database.DB {
	if only == "" {
		return set.DBs
	}
	return []*database.DB{set.Get(only)}
}
