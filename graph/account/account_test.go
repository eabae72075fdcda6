package account_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSystemContextStaysHere keeps the reads and writes that bypass the access rules in this
// package: no other code of the module calls auth.SystemContext, but for the files listed
// here, each for one read whose rows it checks itself.
func TestSystemContextStaysHere(t *testing.T) {
	root := filepath.Join("..", "..")
	allowed := map[string]bool{filepath.Join(root, "graph", "account"): true, filepath.Join(root, "internal", "auth"): true}
	allowedFiles := map[string]bool{
		// The replay of a write with client ids: a stored row is returned only when it has
		// the owner the access rules gave the input (anonymous callers may not read at all).
		filepath.Join(root, "graph", "rules", "idempotent.go"): true,
	}
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == ".git" || path == filepath.Join(root, "ent") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		if allowed[filepath.Dir(path)] || allowedFiles[path] {
			return nil
		}
		src, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if strings.Contains(string(src), "SystemContext(") {
			t.Errorf("%s calls auth.SystemContext; only graph/account may", path)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}
