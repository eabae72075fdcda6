package apierror_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

var codeShape = regexp.MustCompile(`^[A-Z][A-Z_]+[A-Z]$`)

// literalCode finds codes written as literals outside this package: "code": "X" in a map,
// Extensions["code"] = "X", errcode.Set(err, "X").
var literalCode = regexp.MustCompile(`(?:"code"\s*[:\]]\s*=?\s*|errcode\.Set\([^,]+,\s*)"([A-Z][A-Z_]+)"`)

// emittedCodes collects every code the server can put in extensions.code: the string
// constants of package apierror (where gqlgen's own codes are named too) and the literal
// codes in any hand-written Go file of the module.
func emittedCodes(t *testing.T) map[string]string {
	t.Helper()
	codes := map[string]string{}
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "apierror.go", nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range f.Decls {
		g, ok := d.(*ast.GenDecl)
		if !ok || g.Tok != token.CONST {
			continue
		}
		for _, spec := range g.Specs {
			for _, v := range spec.(*ast.ValueSpec).Values {
				lit, ok := v.(*ast.BasicLit)
				if !ok || lit.Kind != token.STRING {
					continue
				}
				if s, _ := strconv.Unquote(lit.Value); codeShape.MatchString(s) {
					codes[s] = "graph/apierror/apierror.go"
				}
			}
		}
	}
	root := filepath.Join("..", "..")
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case "node_modules", "ent", "generated", ".git", "data", "build", "testdata":
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if strings.Contains(string(b), "Code generated") {
			return nil
		}
		for _, m := range literalCode.FindAllStringSubmatch(string(b), -1) {
			codes[m[1]] = path
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return codes
}

// TestEveryCodeIsDocumented checks that README's Errors section lists every code the server
// can emit, each with an HTTP status and a meaning, and lists no code the server never emits.
func TestEveryCodeIsDocumented(t *testing.T) {
	codes := emittedCodes(t)
	if len(codes) < 10 {
		t.Fatalf("found %d codes, fewer than the server has: %v", len(codes), codes)
	}
	readme, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(string(readme), "\n## Errors\n")
	if !ok {
		t.Fatal("README has no ## Errors section")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	row := regexp.MustCompile("(?m)^\\| `([A-Z_]+)` \\| ([^|]*\\b[1-5][0-9][0-9]\\b[^|]*) \\| ([^|]+) \\|$")
	listed := map[string]bool{}
	for _, m := range row.FindAllStringSubmatch(section, -1) {
		listed[m[1]] = true
	}
	for code, where := range codes {
		if !listed[code] {
			t.Errorf("%s (from %s) is not in README's Errors table with an HTTP status and a meaning", code, where)
		}
	}
	for code := range listed {
		if _, ok := codes[code]; !ok {
			t.Errorf("README lists %s, which the server never emits", code)
		}
	}
}
