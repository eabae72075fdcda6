package faults_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"ariga.io/atlas/sql/migrate"
	entsql "entgo.io/ent/dialect/sql"

	"github.com/multidb/multidb/internal/config"
	"github.com/multidb/multidb/internal/database"
	"github.com/multidb/multidb/internal/migration"
	"github.com/multidb/multidb/internal/testdb"
)

const (
	childMigrateEnv = "FAULTS_CHILD_MIGRATE_URL"
	childDirEnv     = "FAULTS_CHILD_MIGRATE_DIR"
)

// childMigrate is the process the test kills: it migrates the database at url from dir.
func childMigrate(url, dir string) int {
	db, err := openLogs(url)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer db.SQL.Close()
	d, err := migrate.NewLocalDir(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	m, err := migration.New(db, migration.WithDir(d), migration.WithLog(os.Stdout))
	if err == nil {
		_, err = m.Up(context.Background(), 0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

func openLogs(url string) (*database.DB, error) {
	spec, _ := database.Lookup("logs")
	cfg, err := config.ParseURL(url)
	if err != nil {
		return nil, err
	}
	cfg.Name, cfg.EnvVar = "logs", config.EnvVar("logs")
	pool, err := sql.Open(cfg.Driver, cfg.DSN)
	if err != nil {
		return nil, err
	}
	return &database.DB{Spec: spec, Config: cfg, SQL: pool, Driver: entsql.OpenDB(cfg.Dialect, pool)}, nil
}

// TestKilledMigrationResumes kills a migrator (SIGKILL, no chance to clean up) in the middle of
// its second file, then checks that the database is at the first file with nothing of the second,
// and that the next run finishes the job.
func TestKilledMigrationResumes(t *testing.T) {
	testdb.RequirePostgres(t, true)
	url := testdb.URL(t, config.Postgres, "logs")
	dir := t.TempDir()
	files := map[string]string{
		"20260101000001_one.sql": "CREATE TABLE one (id int);\n",
		"20260101000002_two.sql": "CREATE TABLE two (id int);\nINSERT INTO two VALUES (1);\nSELECT pg_sleep(2);\n",
	}
	local, err := migrate.NewLocalDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for name, body := range files {
		if err := local.WriteFile(name, []byte(body)); err != nil {
			t.Fatal(err)
		}
	}
	sum, err := local.Checksum()
	if err != nil {
		t.Fatal(err)
	}
	if err := migrate.WriteSumFile(local, sum); err != nil {
		t.Fatal(err)
	}

	child := exec.Command(os.Args[0], "-test.run=^$")
	child.Env = append(os.Environ(), childMigrateEnv+"="+url, childDirEnv+"="+dir)
	var out syncBuffer
	child.Stdout, child.Stderr = &out, &out
	if err := child.Start(); err != nil {
		t.Fatal(err)
	}
	check, err := sql.Open("postgres", dsn(t, url))
	if err != nil {
		t.Fatal(err)
	}
	defer check.Close()
	eventually(t, 10*time.Second, func() string {
		var n int
		check.QueryRow(`SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE '%pg_sleep%' AND pid <> pg_backend_pid()`).Scan(&n)
		if n == 0 {
			return "the second file is not running yet: " + out.String()
		}
		return ""
	})
	child.Process.Kill()
	child.Wait()

	var tables []string
	rows, err := check.Query(`SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var name string
		rows.Scan(&name)
		tables = append(tables, name)
	}
	rows.Close()
	if got := strings.Join(tables, ","); got != "multidb_revisions,one" {
		t.Errorf("after the kill: tables %s, want multidb_revisions,one (nothing of the second file)", got)
	}

	// The killed session's advisory lock dies with its connection: the next run is not blocked.
	db, err := openLogs(url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.SQL.Close()
	m, err := migration.New(db, migration.WithDir(local), migration.WithLockTimeout(10*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	applied, err := m.Up(context.Background(), 0)
	if err != nil || len(applied) != 1 || applied[0].Version != "20260101000002" {
		t.Fatalf("next run: applied %v, err %v; want the second file", applied, err)
	}
	var two int
	if err := check.QueryRow(`SELECT count(*) FROM two`).Scan(&two); err != nil || two != 1 {
		t.Errorf("table two holds %d rows (err %v), want 1", two, err)
	}
}
