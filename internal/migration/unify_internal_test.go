package migration

import (
	"os"
	"path/filepath"
	"testing"

	"ariga.io/atlas/sql/migrate"
)

// The engines are planned one after the other and may straddle a second: the later file takes
// the version of the first, and its atlas.sum is rewritten.
func TestUnifyVersionsAcrossASecond(t *testing.T) {
	root := t.TempDir()
	pg, lite := filepath.Join(root, "postgres"), filepath.Join(root, "sqlite")
	for _, dir := range []string{pg, lite} {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(path, body string) {
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := Hash(filepath.Dir(path)); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(pg, "20261128220310_add_x.sql"), "ALTER TABLE t ADD COLUMN x int;\n")
	write(filepath.Join(lite, "20261128220311_add_x.sql"), "ALTER TABLE t ADD COLUMN x int;\n")
	files, err := unifyVersions([]string{filepath.Join(pg, "20261128220310_add_x.sql"), filepath.Join(lite, "20261128220311_add_x.sql")})
	if err != nil {
		t.Fatal(err)
	}
	if want := filepath.Join(lite, "20261128220310_add_x.sql"); len(files) != 2 || files[1] != want {
		t.Fatalf("got %v, want the SQLite file renamed to %s", files, want)
	}
	dir, err := migrate.NewLocalDir(lite)
	if err != nil {
		t.Fatal(err)
	}
	if err := migrate.Validate(dir); err != nil {
		t.Errorf("atlas.sum after the rename: %v", err)
	}
}
