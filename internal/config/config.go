// Package config loads multidb's settings from the process environment and layered .env files.
package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/joho/godotenv"
)

// Environments multidb knows.
const (
	Development = "development"
	Test        = "test"
	Staging     = "staging"
	Production  = "production"
)

// Dialects a database URL can name.
const (
	Postgres = "postgres"
	SQLite   = "sqlite3"
)

// ErrConfig marks every configuration error, so that main can exit with a one-line message.
var ErrConfig = errors.New("config")

// Config is everything multidb reads from its environment.
type Config struct {
	Env  string
	Port int
	// Host is the interface serve listens on (HOST); "" is every interface, which a container
	// needs to be reached through its published port.
	Host string
	// Listen is the address serve listens on: LISTEN_ADDR when set, else HOST and PORT.
	Listen    string
	DataDir   string
	Databases []Database
	// Lookup reads any other variable with the same precedence (process, then .env files).
	Lookup func(key string) (string, bool)
}

// Database is where one database lives.
type Database struct {
	Name    string // "users"
	EnvVar  string // "USERS_DATABASE_URL"
	URL     string // as configured, for messages (password masked)
	Dialect string // Postgres or SQLite
	Driver  string // database/sql driver name: "postgres" or "sqlite"
	DSN     string // what the driver opens
	// Default is true when no URL was set and development fell back to a SQLite file.
	Default bool
	Pool    Pool
}

// Pool bounds what one database may take, so that a slow database cannot hold the time or
// connections of requests that only touch the others. Each value comes from <NAME>_DB_<KEY>
// (USERS_DB_MAX_CONNS), else DB_<KEY>, else its default.
type Pool struct {
	MaxConns         int           // MAX_CONNS: open connections at most (20; SQLite 4)
	ConnWait         time.Duration // CONN_WAIT: how long a statement waits for a free connection (2s)
	StatementTimeout time.Duration // STATEMENT_TIMEOUT: PostgreSQL cancels longer statements (30s; 0 = none)
	// The network of PostgreSQL connections (SQLite has none: a file, bounded by its busy
	// timeout and by each statement's context).
	ConnectTimeout time.Duration // CONNECT_TIMEOUT: dial and handshake of a connection (5s)
	Keepalive      time.Duration // KEEPALIVE: TCP keepalive idle time and interval (15s; 0 = off)
	TCPUserTimeout time.Duration // TCP_USER_TIMEOUT: unacknowledged data drops the connection after (20s; 0 = system default)
}

// Database returns the named database's settings.
func (c *Config) Database(name string) (Database, bool) {
	for _, db := range c.Databases {
		if db.Name == name {
			return db, true
		}
	}
	return Database{}, false
}

// EnvVar is the variable that holds the URL of the named database.
func EnvVar(name string) string {
	return strings.ToUpper(name) + "_DATABASE_URL"
}

// Load reads the configuration of the databases named in names from the process environment,
// then from .env.<ENV>.local, .env.<ENV>, .env.local and .env in dir (the first that sets a
// variable wins; .env.local is skipped in the test environment so tests are reproducible).
func Load(dir string, names []string) (*Config, error) {
	return load(dir, names, os.LookupEnv)
}

func load(dir string, names []string, getenv func(string) (string, bool)) (*Config, error) {
	base, err := readEnvFiles(dir, ".env")
	if err != nil {
		return nil, err
	}
	env, ok := getenv("ENV")
	if !ok || env == "" {
		env = base["ENV"]
	}
	if env == "" {
		env = Development
	}
	switch env {
	case Development, Test, Staging, Production:
	default:
		return nil, fmt.Errorf("%w: ENV=%q is not an environment; use development, test, staging or production", ErrConfig, env)
	}
	files := []string{".env." + env + ".local", ".env." + env}
	if env != Test {
		files = append(files, ".env.local")
	}
	files = append(files, ".env")
	layers := make([]map[string]string, 0, len(files))
	for _, f := range files {
		m, err := readEnvFiles(dir, f)
		if err != nil {
			return nil, err
		}
		layers = append(layers, m)
	}
	lookup := func(key string) (string, bool) {
		if v, ok := getenv(key); ok {
			return v, true
		}
		for _, m := range layers {
			if v, ok := m[key]; ok {
				return v, true
			}
		}
		return "", false
	}

	cfg := &Config{Env: env, Port: 8080, Lookup: lookup}
	if v, ok := lookup("PORT"); ok && v != "" {
		port, err := strconv.Atoi(v)
		if err != nil || port < 0 || port > 65535 {
			return nil, fmt.Errorf("%w: PORT=%q is not a port number; set PORT to a number such as 8080", ErrConfig, v)
		}
		cfg.Port = port
	}
	if v, ok := lookup("HOST"); ok && v != "" {
		if strings.ContainsAny(v, " /") || (strings.Contains(v, ":") && net.ParseIP(v) == nil) {
			return nil, fmt.Errorf("%w: HOST=%q is not a host name or IP address; use e.g. HOST=127.0.0.1, or leave it empty for every interface", ErrConfig, v)
		}
		cfg.Host = v
	}
	cfg.Listen = net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port))
	if v, ok := lookup("LISTEN_ADDR"); ok && v != "" {
		host, port, err := net.SplitHostPort(v)
		if n, perr := strconv.Atoi(port); err != nil || perr != nil || n < 0 || n > 65535 {
			return nil, fmt.Errorf("%w: LISTEN_ADDR=%q is not host:port; use e.g. LISTEN_ADDR=127.0.0.1:8080 or :8080 (every interface)", ErrConfig, v)
		}
		cfg.Host, cfg.Listen = host, v
		cfg.Port, _ = strconv.Atoi(port)
	}
	cfg.DataDir = filepath.Join(dir, "data")
	if v, ok := lookup("DATA_DIR"); ok && v != "" {
		cfg.DataDir = v
	}
	for _, name := range names {
		db, err := databaseFromEnv(cfg, name, lookup)
		if err != nil {
			return nil, err
		}
		cfg.Databases = append(cfg.Databases, db)
	}
	return cfg, nil
}

func databaseFromEnv(cfg *Config, name string, lookup func(string) (string, bool)) (Database, error) {
	key := EnvVar(name)
	raw, _ := lookup(key)
	raw = strings.TrimSpace(raw)
	if raw == "" {
		if cfg.Env == Staging || cfg.Env == Production {
			return Database{}, fmt.Errorf("%w: %s is not set; %s needs a URL for every database, e.g. %s=postgres://user:pass@host:5432/%s (in the environment or .env.%s)",
				ErrConfig, key, cfg.Env, key, name, cfg.Env)
		}
		raw = "sqlite:" + filepath.Join(cfg.DataDir, name+".db")
		db, err := ParseURL(raw)
		if err != nil {
			return Database{}, fmt.Errorf("%w: %s: %v", ErrConfig, key, err)
		}
		db.Name, db.EnvVar, db.Default = name, key, true
		return withPool(db, lookup)
	}
	db, err := ParseURL(raw)
	if err != nil {
		return Database{}, fmt.Errorf("%w: %s: %v", ErrConfig, key, err)
	}
	db.Name, db.EnvVar = name, key
	return withPool(db, lookup)
}

func noSettings(string) (string, bool) { return "", false }

// withPool reads the pool settings of db.
func withPool(db Database, lookup func(string) (string, bool)) (Database, error) {
	setting := func(key string) (string, string, bool) {
		for _, k := range []string{strings.ToUpper(db.Name) + "_DB_" + key, "DB_" + key} {
			if v, ok := lookup(k); ok && v != "" {
				return k, v, true
			}
		}
		return "", "", false
	}
	db.Pool = Pool{MaxConns: 20, ConnWait: 2 * time.Second, StatementTimeout: 30 * time.Second,
		ConnectTimeout: 5 * time.Second, Keepalive: 15 * time.Second, TCPUserTimeout: 20 * time.Second}
	if db.Dialect == SQLite {
		db.Pool.MaxConns = 4
	}
	if k, v, ok := setting("MAX_CONNS"); ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 10_000 {
			return db, fmt.Errorf("%w: %s=%q is not a connection count; use a number such as 20", ErrConfig, k, v)
		}
		db.Pool.MaxConns = n
	}
	for _, d := range []struct {
		key string
		to  *time.Duration
	}{{"CONN_WAIT", &db.Pool.ConnWait}, {"STATEMENT_TIMEOUT", &db.Pool.StatementTimeout},
		{"CONNECT_TIMEOUT", &db.Pool.ConnectTimeout}, {"KEEPALIVE", &db.Pool.Keepalive}, {"TCP_USER_TIMEOUT", &db.Pool.TCPUserTimeout}} {
		if k, v, ok := setting(d.key); ok {
			dur, err := time.ParseDuration(v)
			if err != nil || dur < 0 {
				return db, fmt.Errorf("%w: %s=%q is not a duration; use a value such as 5s", ErrConfig, k, v)
			}
			*d.to = dur
		}
	}
	return db, nil
}

// ParseURL reads a database URL; its scheme picks the dialect.
//
//	postgres://user:pass@host:5432/db?sslmode=disable   (also postgresql://)
//	sqlite:data/users.db, sqlite:///abs/path.db, file:data/users.db, sqlite::memory:
func ParseURL(raw string) (Database, error) {
	scheme, rest, ok := strings.Cut(raw, ":")
	if !ok {
		return Database{}, fmt.Errorf("%q has no scheme; use postgres://… or sqlite:path/to/file.db", mask(raw))
	}
	switch strings.ToLower(scheme) {
	case "postgres", "postgresql":
		u, err := url.Parse(raw)
		if err != nil {
			return Database{}, fmt.Errorf("%q is not a valid URL: use postgres://user:pass@host:5432/dbname", mask(raw))
		}
		if u.Host == "" && u.Query().Get("host") == "" {
			return Database{}, fmt.Errorf("%q names no host; use postgres://user:pass@host:5432/dbname", mask(raw))
		}
		if strings.Trim(u.Path, "/") == "" {
			return Database{}, fmt.Errorf("%q names no database; use postgres://user:pass@host:5432/dbname", mask(raw))
		}
		q := u.Query()
		if q.Get("sslmode") == "" && isLocal(u.Hostname()) {
			// A local server rarely has TLS; remote ones keep lib/pq's default (require).
			q.Set("sslmode", "disable")
			u.RawQuery = q.Encode()
		}
		return withPool(Database{URL: mask(raw), Dialect: Postgres, Driver: "postgres", DSN: u.String()}, noSettings)
	case "sqlite", "file":
		path, query, _ := strings.Cut(rest, "?")
		path = strings.TrimPrefix(path, "//")
		if path == "" {
			return Database{}, fmt.Errorf("%q names no file; use sqlite:data/users.db", raw)
		}
		if strings.ContainsRune(path, 0) {
			return Database{}, fmt.Errorf("%q contains a NUL byte", raw)
		}
		return withPool(Database{URL: raw, Dialect: SQLite, Driver: "sqlite", DSN: SQLiteDSN(path, query)}, noSettings)
	default:
		return Database{}, fmt.Errorf("scheme %q of %q is not supported; use postgres:// or sqlite:", scheme, mask(raw))
	}
}

// SQLiteDSN is the modernc.org/sqlite DSN of a file, with the pragmas multidb relies on:
// foreign keys on, WAL so readers don't block the writer, a busy timeout instead of
// immediate SQLITE_BUSY, and BEGIN IMMEDIATE so that a write transaction never fails on upgrade.
func SQLiteDSN(path, extra string) string {
	q := url.Values{}
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "busy_timeout(10000)")
	if path != ":memory:" && !strings.HasPrefix(path, "file::memory:") {
		q.Add("_pragma", "journal_mode(WAL)")
		q.Add("_pragma", "synchronous(NORMAL)")
	}
	q.Set("_txlock", "immediate")
	// Times are written in UTC, so that their text sorts and compares as the instants do.
	q.Set("_timezone", "UTC")
	dsn := "file:" + path + "?" + q.Encode()
	if extra != "" {
		dsn += "&" + extra
	}
	return dsn
}

func isLocal(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1" || host == "" || strings.HasPrefix(host, "/")
}

// mask hides the password of a URL for messages.
func mask(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.User == nil {
		return raw
	}
	if _, ok := u.User.Password(); ok {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	return u.String()
}

// readEnvFiles reads one .env file; a missing file is no error, a malformed one is.
func readEnvFiles(dir, name string) (map[string]string, error) {
	path := filepath.Join(dir, name)
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	m, err := godotenv.Read(path)
	if err != nil {
		return nil, fmt.Errorf("%w: read %s: %v; fix the line or remove the file", ErrConfig, path, err)
	}
	return m, nil
}
