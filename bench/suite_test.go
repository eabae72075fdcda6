package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"testing"
)

// suite is the testing.TB that owns the shared data set. A benchmark's own *testing.B runs its
// cleanups after every round of b.N iterations, which would drop the databases under the next
// benchmark; the suite's cleanups run once, from TestMain, after the last benchmark.
//
// It implements every method of testing.TB; the embedded interface is nil and only supplies the
// unexported one. Fatal and Skip end the caller by panicking with a *suiteStop, which load turns
// back into an error for the benchmark that asked for the data.
type suite struct {
	testing.TB

	mu       sync.Mutex
	cleanups []func()
	failed   bool
	ctx      context.Context
	cancel   context.CancelFunc

	closeOnce sync.Once
	closeErr  error
}

// suiteStop is the panic value of suite.FailNow and suite.SkipNow.
type suiteStop struct{ err error }

// stopped, deferred by a function that uses the suite, turns the suite's Fatal or Skip into
// the error it returns; other panics go on.
func stopped(err *error) {
	if r := recover(); r != nil {
		stop, ok := r.(*suiteStop)
		if !ok {
			panic(r)
		}
		*err = stop.err
	}
}

func newSuite() *suite {
	ctx, cancel := context.WithCancel(context.Background())
	return &suite{ctx: ctx, cancel: cancel}
}

// close runs the cleanups, last registered first, and reports whether anything failed. It runs
// them once: a second caller (TestMain, while an interrupt is being handled) waits for the first.
func (s *suite) close() error {
	s.closeOnce.Do(func() {
		s.cancel()
		s.mu.Lock()
		cleanups := s.cleanups
		s.cleanups = nil
		s.mu.Unlock()
		for i := len(cleanups) - 1; i >= 0; i-- {
			cleanups[i]()
		}
		if s.Failed() {
			s.closeErr = errors.New("bench: cleaning up the data set failed")
		}
	})
	return s.closeErr
}

func (s *suite) Name() string { return "bench" }
func (s *suite) Helper()      {}
func (s *suite) ArtifactDir() string {
	return s.TempDir()
}
func (s *suite) Attr(key, value string)   { s.Logf("%s=%s", key, value) }
func (s *suite) Output() io.Writer        { return os.Stderr }
func (s *suite) Context() context.Context { return s.ctx }
func (s *suite) Log(args ...any)          { fmt.Fprintln(os.Stderr, args...) }
func (s *suite) Logf(format string, a ...any) {
	fmt.Fprintf(os.Stderr, format+"\n", a...)
}

func (s *suite) Cleanup(f func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cleanups = append(s.cleanups, f)
}

func (s *suite) Fail() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failed = true
}

func (s *suite) Failed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.failed
}

func (s *suite) Error(args ...any) { s.Log(args...); s.Fail() }
func (s *suite) Errorf(format string, a ...any) {
	s.Logf(format, a...)
	s.Fail()
}

func (s *suite) FailNow() {
	s.Fail()
	panic(&suiteStop{errors.New("failed")})
}
func (s *suite) Fatal(args ...any) { s.Fail(); panic(&suiteStop{errors.New(fmt.Sprint(args...))}) }
func (s *suite) Fatalf(format string, a ...any) {
	s.Fail()
	panic(&suiteStop{fmt.Errorf(format, a...)})
}

func (s *suite) Skipped() bool { return false }
func (s *suite) SkipNow()      { panic(&suiteStop{errors.New("skipped")}) }
func (s *suite) Skip(a ...any) { panic(&suiteStop{errors.New(fmt.Sprint(a...))}) }
func (s *suite) Skipf(format string, a ...any) {
	panic(&suiteStop{fmt.Errorf(format, a...)})
}

func (s *suite) TempDir() string {
	dir, err := os.MkdirTemp("", "multidb-bench-")
	if err != nil {
		s.Fatalf("TempDir: %v", err)
	}
	s.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func (s *suite) Setenv(key, value string) {
	old, had := os.LookupEnv(key)
	if err := os.Setenv(key, value); err != nil {
		s.Fatalf("Setenv %s: %v", key, err)
	}
	s.Cleanup(func() {
		if had {
			os.Setenv(key, old)
		} else {
			os.Unsetenv(key)
		}
	})
}

func (s *suite) Chdir(dir string) {
	old, err := os.Getwd()
	if err != nil {
		s.Fatalf("Chdir: %v", err)
	}
	if err := os.Chdir(dir); err != nil {
		s.Fatalf("Chdir %s: %v", dir, err)
	}
	s.Cleanup(func() { os.Chdir(old) })
}
