package deploy_test

import (
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// `make start` in a checkout that was never built says what to do instead of failing on a
// missing ./build/multidb with exit 127.
func TestMakeStartWithoutABuild(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Skip("make is not installed")
	}
	makefile, err := filepath.Abs("../../Makefile")
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("make", "--no-print-directory", "-f", makefile, "start")
	cmd.Dir = t.TempDir()
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() == 127 {
		t.Fatalf("make start without a build: %v, want a failure of make itself\n%s", err, out)
	}
	if !strings.Contains(string(out), "run make build first") {
		t.Errorf("make start without a build says:\n%s\nwant it to say: run make build first", out)
	}
}
