package main

import (
	"context"
	"flag"
	"fmt"
	"io"

	"github.com/multidb/multidb/internal/seed"
)

func seedCmd(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("seed", flag.ContinueOnError)
	only := fs.String("db", "", "seed only this database")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	set, err := openReachable(ctx, cfg, *only)
	if err != nil {
		return err
	}
	defer set.Close()
	var dbs []string
	if *only != "" {
		dbs = []string{*only}
	}
	results, err := seed.Run(ctx, set, seed.Seeders, cfg.Env, dbs, stdout)
	if err != nil {
		return err
	}
	for _, r := range results {
		if len(r.Ran) == 0 {
			fmt.Fprintf(stdout, "%s: nothing to seed for %s (%d already seeded)\n", r.DB, cfg.Env, len(r.Skipped))
		}
	}
	return nil
}
