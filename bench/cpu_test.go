package bench

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/lib/pq"

	"github.com/multidb/multidb/internal/database"
)

// cpuUse is the CPU time spent so far by this process (the server and its HTTP clients) and
// by the PostgreSQL backends of the data set's databases. On a shared machine, where wall
// time depends on what else runs, it is the steadier measure of what an operation costs.
type cpuUse struct {
	proc, pg time.Duration
	ok       bool // false where /proc cannot be read (not Linux): no CPU is reported
}

// clockTick is the unit of /proc/<pid>/stat's times (USER_HZ, 100 on Linux).
const clockTick = 10 * time.Millisecond

// cpuNow samples cpuUse. Backends that exit between two samples take their time with them:
// compare it with newconns/1k-op, which is 0 when the pools kept their connections.
func (d *dataset) cpuNow(b *testing.B) cpuUse {
	b.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return cpuUse{}
	}
	use := cpuUse{proc: time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), ok: true}
	var names pq.StringArray
	for _, name := range database.Names() {
		var db string
		if err := d.set.Get(name).SQL.QueryRowContext(context.Background(), `SELECT current_database()`).Scan(&db); err != nil {
			b.Fatal(err)
		}
		names = append(names, db)
	}
	rows, err := d.set.Get("users").SQL.QueryContext(context.Background(),
		`SELECT pid FROM pg_stat_activity WHERE datname = ANY($1) AND pid <> pg_backend_pid()`, names)
	if err != nil {
		b.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var pid int
		if err := rows.Scan(&pid); err != nil {
			b.Fatal(err)
		}
		t, ok := procCPU(pid)
		if !ok {
			return cpuUse{}
		}
		use.pg += t
	}
	if err := rows.Err(); err != nil {
		b.Fatal(err)
	}
	return use
}

// procCPU is the user and system time of PostgreSQL backend pid, from /proc/<pid>/stat. It
// reports false for a process that is no postgres, as when the server runs on another host
// or in a container, where the pid names another process or none.
func procCPU(pid int) (time.Duration, bool) {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, false
	}
	// The command name, in parentheses, may hold spaces: the fields are counted after it.
	s := string(raw)
	open, end := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || end < open || s[open+1:end] != "postgres" {
		return 0, false
	}
	fields := strings.Fields(s[end+1:])
	if len(fields) < 13 {
		return 0, false
	}
	utime, err1 := strconv.ParseInt(fields[11], 10, 64) // field 14 of stat
	stime, err2 := strconv.ParseInt(fields[12], 10, 64) // field 15
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return time.Duration(utime+stime) * clockTick, true
}

// reportCPU adds the CPU per operation since before, of this process and of PostgreSQL.
func (d *dataset) reportCPU(b *testing.B, before cpuUse) {
	after := d.cpuNow(b)
	if !before.ok || !after.ok {
		return
	}
	ms := func(t time.Duration) float64 { return float64(t.Microseconds()) / 1000 / float64(b.N) }
	b.ReportMetric(ms(after.proc-before.proc), "go-cpu-ms/op")
	b.ReportMetric(ms(after.pg-before.pg), "pg-cpu-ms/op")
}
