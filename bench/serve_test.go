package bench

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/multidb/multidb/internal/config"
	"github.com/multidb/multidb/internal/database"
	"github.com/multidb/multidb/internal/testdb"
)

// idleWait is how long a started server is left alone before its RSS is read.
const idleWait = 5 * time.Second

// BenchmarkServeIdle starts the real binary, built as `make build` builds it, with `serve` on
// the development default (three SQLite files, migrated and seeded as `make run` does) and
// on three PostgreSQL databases, and reports the time from starting the process to the first
// 200 of /readyz (ms-to-ready) and its resident memory after idleWait without requests
// (idle-RSS-MB, VmRSS of /proc/PID/status). Each iteration is one start.
func BenchmarkServeIdle(b *testing.B) {
	if runtime.GOOS != "linux" {
		b.Skip("idle RSS is read from /proc/PID/status")
	}
	bin := buildServer(b)
	for _, dialect := range []string{config.SQLite, config.Postgres} {
		b.Run(testdb.Name(dialect), func(b *testing.B) {
			dir := b.TempDir()
			env := serveEnv(b, dialect)
			for _, sub := range [][]string{{"migrate", "up"}, {"seed"}} {
				cmd := exec.Command(bin, sub...)
				cmd.Dir, cmd.Env = dir, env
				if out, err := cmd.CombinedOutput(); err != nil {
					b.Fatalf("multidb %s: %v\n%s", strings.Join(sub, " "), err, out)
				}
			}
			var ready time.Duration
			var rssKB int64
			for b.Loop() {
				r, kb := startIdle(b, bin, dir, env)
				ready += r
				rssKB += kb
			}
			b.ReportMetric(0, "ns/op")
			b.ReportMetric(float64(ready.Microseconds())/1000/float64(b.N), "ms-to-ready")
			b.ReportMetric(float64(rssKB)/1024/float64(b.N), "idle-RSS-MB")
		})
	}
}

// serveEnv is the environment of a development server on databases of dialect: the default
// SQLite files under ./data, or new PostgreSQL databases dropped when b ends. Database URLs,
// ENV, PORT and HOST of the caller's environment are left out.
func serveEnv(b *testing.B, dialect string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		if strings.HasSuffix(k, "_DATABASE_URL") || k == "ENV" || k == "PORT" || k == "HOST" || k == "LISTEN_ADDR" {
			continue
		}
		env = append(env, kv)
	}
	env = append(env, "ENV=development", "HOST=127.0.0.1", "SHUTDOWN_DELAY=0s")
	if dialect == config.Postgres {
		testdb.RequirePostgres(b, true)
		for _, name := range database.Names() {
			env = append(env, config.EnvVar(name)+"="+testdb.URL(b, dialect, "serve_"+name))
		}
	}
	return env
}

// startIdle starts `serve` in dir, waits for /readyz to answer 200, leaves it idle for
// idleWait, reads its VmRSS and stops it. It returns the time to ready and the RSS in KiB.
func startIdle(b *testing.B, bin, dir string, env []string) (time.Duration, int64) {
	port := freePort(b)
	cmd := exec.Command(bin, "serve")
	cmd.Dir = dir
	cmd.Env = append(env, "PORT="+strconv.Itoa(port))
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	if err := cmd.Start(); err != nil {
		b.Fatalf("start multidb serve: %v", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(20 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	}()

	url := fmt.Sprintf("http://127.0.0.1:%d/readyz", port)
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(30 * time.Second)
	var ready time.Duration
	for ready == 0 {
		select {
		case err := <-exited:
			exited <- err
			b.Fatalf("multidb serve exited before it was ready: %v\n%s", err, out.Bytes())
		default:
		}
		if time.Now().After(deadline) {
			b.Fatalf("multidb serve not ready after 30s\n%s", out.Bytes())
		}
		if res, err := client.Get(url); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				ready = time.Since(start)
				break
			}
		}
		time.Sleep(2 * time.Millisecond)
	}
	time.Sleep(idleWait)
	kb, err := vmRSS(cmd.Process.Pid)
	if err != nil {
		b.Fatal(err)
	}
	return ready, kb
}

// vmRSS reads the resident set size of process pid, in KiB.
func vmRSS(pid int) (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", pid)
}

// freePort returns a TCP port of 127.0.0.1 that was free a moment ago.
func freePort(b *testing.B) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// built is the binary of this checkout, built once per run.
var built struct {
	once sync.Once
	path string
	err  error
}

// buildServer builds ./cmd/multidb as `make build` does (trimmed paths, no symbol table), once per
// run, into a directory removed after the last benchmark.
func buildServer(b *testing.B) string {
	built.once.Do(func() {
		dir, err := os.MkdirTemp("", "multidb-bench-bin-")
		if err != nil {
			built.err = err
			return
		}
		shared.suite.Cleanup(func() { os.RemoveAll(dir) })
		built.path = filepath.Join(dir, "multidb")
		goTool := os.Getenv("GO")
		if goTool == "" {
			goTool = "go"
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, goTool, "build", "-trimpath", "-ldflags", "-s -w", "-o", built.path, "./cmd/multidb")
		cmd.Dir = ".."
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			built.err = fmt.Errorf("go build ./cmd/multidb: %v\n%s", err, out)
		}
	})
	if built.err != nil {
		b.Fatal(built.err)
	}
	return built.path
}
