package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var names = []string{"users", "analytics", "logs"}

func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func env(vars map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := vars[k]; return v, ok }
}

func TestLoadDevelopmentDefaultsToSQLiteFiles(t *testing.T) {
	dir := writeFiles(t, nil)
	cfg, err := load(dir, names, env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Env != Development || cfg.Port != 8080 {
		t.Errorf("got env %q port %d, want development 8080", cfg.Env, cfg.Port)
	}
	for _, db := range cfg.Databases {
		want := filepath.Join(dir, "data", db.Name+".db")
		if db.Dialect != SQLite || !db.Default || !strings.HasPrefix(db.DSN, "file:"+want+"?") {
			t.Errorf("%s: got dialect %q default %v dsn %q, want a SQLite file at %s", db.Name, db.Dialect, db.Default, db.DSN, want)
		}
		for _, pragma := range []string{"foreign_keys", "journal_mode", "busy_timeout"} {
			if !strings.Contains(db.DSN, pragma) {
				t.Errorf("%s: DSN %q lacks %s", db.Name, db.DSN, pragma)
			}
		}
	}
}

func TestLoadErrors(t *testing.T) {
	tests := []struct {
		name  string
		vars  map[string]string
		files map[string]string
		want  []string // substrings of the error
	}{
		{"staging without URLs names the first missing variable",
			map[string]string{"ENV": "staging"}, nil, []string{"USERS_DATABASE_URL is not set", "staging"}},
		{"production names the one missing variable",
			map[string]string{"ENV": "production", "USERS_DATABASE_URL": "postgres://h/u", "ANALYTICS_DATABASE_URL": "postgres://h/a"}, nil,
			[]string{"LOGS_DATABASE_URL is not set"}},
		{"unknown scheme",
			map[string]string{"USERS_DATABASE_URL": "mysql://h/u"}, nil, []string{"USERS_DATABASE_URL", `scheme "mysql"`, "postgres://"}},
		{"no scheme",
			map[string]string{"LOGS_DATABASE_URL": "just-a-name"}, nil, []string{"LOGS_DATABASE_URL", "no scheme"}},
		{"postgres without database",
			map[string]string{"ANALYTICS_DATABASE_URL": "postgres://h:5432/"}, nil, []string{"ANALYTICS_DATABASE_URL", "names no database"}},
		{"password is masked",
			map[string]string{"USERS_DATABASE_URL": "postgres://u:s3cret@h:5432/"}, nil, []string{"xxxxx"}},
		{"bad port",
			map[string]string{"PORT": "eighty"}, nil, []string{`PORT="eighty"`}},
		{"bad host",
			map[string]string{"HOST": "http://example.com"}, nil, []string{`HOST="http://example.com"`, "every interface"}},
		{"bad listen address",
			map[string]string{"LISTEN_ADDR": "127.0.0.1"}, nil, []string{`LISTEN_ADDR="127.0.0.1"`, "host:port"}},
		{"bad environment",
			map[string]string{"ENV": "prod"}, nil, []string{`ENV="prod"`, "production"}},
		{"malformed env file",
			nil, map[string]string{".env": "A=\"unterminated\n"}, []string{".env"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := load(writeFiles(t, tt.files), names, env(tt.vars))
			if !errors.Is(err, ErrConfig) {
				t.Fatalf("got %v, want a config error", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Errorf("error %q leaks the password", err)
			}
		})
	}
}

func TestLoadPrecedence(t *testing.T) {
	files := map[string]string{
		".env":                  "ENV=staging\nPORT=1\nA=env\nB=env\nC=env\nD=env\nE=env\n",
		".env.local":            "PORT=2\nA=local\nB=local\nC=local\nD=local\n",
		".env.staging":          "PORT=3\nA=staging\nB=staging\nC=staging\n" + pgURLs,
		".env.staging.local":    "PORT=4\nA=staging.local\nB=staging.local\n",
		".env.production":       "A=production\n",
		".env.production.local": "A=production.local\n",
	}
	cfg, err := load(writeFiles(t, files), names, env(map[string]string{"A": "process"}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Env != Staging || cfg.Port != 4 {
		t.Errorf("got env %q port %d, want staging 4", cfg.Env, cfg.Port)
	}
	for key, want := range map[string]string{"A": "process", "B": "staging.local", "C": "staging", "D": "local", "E": "env"} {
		if got, _ := cfg.Lookup(key); got != want {
			t.Errorf("%s = %q, want %q", key, got, want)
		}
	}
	if db, _ := cfg.Database("users"); db.Dialect != Postgres || db.Default {
		t.Errorf("users: got %+v, want PostgreSQL from .env.staging", db)
	}
}

func TestLoadTestEnvironmentSkipsLocal(t *testing.T) {
	files := map[string]string{".env.local": "PORT=2\n", ".env": "PORT=1\n"}
	cfg, err := load(writeFiles(t, files), names, env(map[string]string{"ENV": "test"}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Port != 1 {
		t.Errorf("got port %d, want 1 from .env (.env.local is not read in test)", cfg.Port)
	}
}

const pgURLs = "USERS_DATABASE_URL=postgres://postgres@127.0.0.1:5432/u\nANALYTICS_DATABASE_URL=postgresql://postgres@db.internal:5432/a?sslmode=require\nLOGS_DATABASE_URL=sqlite:/var/lib/multidb/logs.db\n"

func TestParseURL(t *testing.T) {
	tests := []struct {
		url, dialect, dsnHas string
	}{
		{"postgres://postgres@127.0.0.1:5432/u", Postgres, "sslmode=disable"},
		{"postgresql://app:pw@db.internal:5432/a", Postgres, "db.internal"},
		{"postgres://db.internal/a?sslmode=verify-full", Postgres, "sslmode=verify-full"},
		{"sqlite:data/users.db", SQLite, "file:data/users.db?"},
		{"sqlite:///var/lib/x.db", SQLite, "file:/var/lib/x.db?"},
		{"file:data/logs.db", SQLite, "file:data/logs.db?"},
		{"sqlite::memory:", SQLite, "file::memory:?"},
	}
	for _, tt := range tests {
		db, err := ParseURL(tt.url)
		if err != nil {
			t.Errorf("%s: %v", tt.url, err)
			continue
		}
		if db.Dialect != tt.dialect || !strings.Contains(db.DSN, tt.dsnHas) {
			t.Errorf("%s: got %s %q, want %s with %q", tt.url, db.Dialect, db.DSN, tt.dialect, tt.dsnHas)
		}
	}
}

func FuzzParseURL(f *testing.F) {
	for _, s := range []string{"postgres://u:p@h:5432/db?sslmode=disable", "sqlite:data/x.db", "file:x.db?mode=ro", "postgresql://[::1]/d", "sqlite:", "http://x", "postgres://%zz", ":", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		db, err := ParseURL(raw)
		if err != nil {
			return
		}
		if db.Dialect != Postgres && db.Dialect != SQLite {
			t.Fatalf("%q: dialect %q", raw, db.Dialect)
		}
		if db.DSN == "" || db.Driver == "" {
			t.Fatalf("%q: empty DSN or driver: %+v", raw, db)
		}
	})
}

func TestPoolSettings(t *testing.T) {
	vars := map[string]string{"USERS_DB_MAX_CONNS": "5", "DB_CONN_WAIT": "100ms", "ANALYTICS_DB_STATEMENT_TIMEOUT": "2s",
		"LOGS_DB_CONNECT_TIMEOUT": "2s", "DB_KEEPALIVE": "0", "USERS_DB_TCP_USER_TIMEOUT": "9s"}
	cfg, err := load(writeFiles(t, nil), names, env(vars))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]Pool{
		"users":     {MaxConns: 5, ConnWait: 100 * time.Millisecond, StatementTimeout: 30 * time.Second, ConnectTimeout: 5 * time.Second, TCPUserTimeout: 9 * time.Second},
		"analytics": {MaxConns: 4, ConnWait: 100 * time.Millisecond, StatementTimeout: 2 * time.Second, ConnectTimeout: 5 * time.Second, TCPUserTimeout: 20 * time.Second},
		"logs":      {MaxConns: 4, ConnWait: 100 * time.Millisecond, StatementTimeout: 30 * time.Second, ConnectTimeout: 2 * time.Second, TCPUserTimeout: 20 * time.Second},
	}
	for _, db := range cfg.Databases {
		if db.Pool != want[db.Name] {
			t.Errorf("%s: got %+v, want %+v", db.Name, db.Pool, want[db.Name])
		}
	}
	for key, bad := range map[string]string{"LOGS_DB_MAX_CONNS": "0", "DB_CONN_WAIT": "soon", "USERS_DB_STATEMENT_TIMEOUT": "-1s",
		"DB_CONNECT_TIMEOUT": "5", "ANALYTICS_DB_KEEPALIVE": "often"} {
		_, err := load(writeFiles(t, nil), names, env(map[string]string{key: bad}))
		if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), key) {
			t.Errorf("%s=%s: got %v, want a config error naming %s", key, bad, err, key)
		}
	}
}

func TestListenAddress(t *testing.T) {
	for _, tt := range []struct {
		vars       map[string]string
		want, host string
		port       int
	}{
		{nil, ":8080", "", 8080}, // every interface, as a container needs
		{map[string]string{"HOST": "127.0.0.1", "PORT": "9000"}, "127.0.0.1:9000", "127.0.0.1", 9000},
		{map[string]string{"HOST": "::1"}, "[::1]:8080", "::1", 8080},
		{map[string]string{"LISTEN_ADDR": "10.0.0.5:7000", "HOST": "127.0.0.1", "PORT": "9000"}, "10.0.0.5:7000", "10.0.0.5", 7000},
	} {
		cfg, err := load(writeFiles(t, nil), nil, env(tt.vars))
		if err != nil {
			t.Fatalf("%v: %v", tt.vars, err)
		}
		if cfg.Listen != tt.want || cfg.Host != tt.host || cfg.Port != tt.port {
			t.Errorf("%v: got %q host %q port %d, want %q host %q port %d", tt.vars, cfg.Listen, cfg.Host, cfg.Port, tt.want, tt.host, tt.port)
		}
	}
}

func TestLiveSettings(t *testing.T) {
	def := Live{Poll: time.Second, Settle: time.Second, Recheck: time.Second, Buffer: 1024, BatchRows: 1000, BatchPairs: 50_000, MaxPerUser: 100, MaxPerConnection: 50}
	cfg, err := load(writeFiles(t, nil), names, env(map[string]string{
		"LIVE_POLL_INTERVAL": "250ms", "LIVE_SETTLE": "300ms", "LIVE_RECHECK": "5s", "LIVE_BUFFER": "64",
		"LIVE_BATCH_ROWS": "32", "LIVE_BATCH_PAIRS": "1000", "LIVE_MAX_PER_USER": "7", "LIVE_MAX_PER_CONNECTION": "3"}))
	if err != nil {
		t.Fatal(err)
	}
	got, err := cfg.Live(def)
	want := Live{Poll: 250 * time.Millisecond, Settle: 300 * time.Millisecond, Recheck: 5 * time.Second, Buffer: 64, BatchRows: 32, BatchPairs: 1000, MaxPerUser: 7, MaxPerConnection: 3}
	if err != nil || got != want {
		t.Fatalf("got %+v, %v; want %+v", got, err, want)
	}
	for key, bad := range map[string]string{"LIVE_POLL_INTERVAL": "0s", "LIVE_SETTLE": "soon", "LIVE_RECHECK": "-3s",
		"LIVE_BUFFER": "0", "LIVE_BATCH_ROWS": "many", "LIVE_BATCH_PAIRS": "-1", "LIVE_MAX_PER_USER": "1.5", "LIVE_MAX_PER_CONNECTION": "20000"} {
		cfg, err := load(writeFiles(t, nil), names, env(map[string]string{key: bad}))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := cfg.Live(def); !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), key) || !strings.Contains(err.Error(), "use ") {
			t.Errorf("%s=%s: got %v, want a config error naming %s and the fix", key, bad, err, key)
		}
	}
	cfg, _ = load(writeFiles(t, nil), names, env(map[string]string{"LIVE_BUFFER": "500"}))
	if _, err := cfg.Live(def); !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "LIVE_BATCH_ROWS") {
		t.Errorf("a buffer below the batch: got %v", err)
	}
}
