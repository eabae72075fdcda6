package xdbgen

import (
	"strings"
	"testing"

	"entgo.io/ent/entc"
)

// TestBuildRefusesWrongDeclarations loads a schema package whose declarations are wrong in
// every way generation checks, and expects one error naming each, with the fix.
func TestBuildRefusesWrongDeclarations(t *testing.T) {
	g, err := entc.LoadGraph("./testdata/bad", config(t.TempDir(), "bad"))
	if err != nil {
		t.Fatal(err)
	}
	err = build([]*Database{{Name: "bad", Graph: g}})
	if err == nil {
		t.Fatal("got no error, want the wrong declarations refused")
	}
	for _, want := range []string{
		"Unguarded declares no access policy",
		"xdb.Policy(xdb.AdminOnly())",
		`xdb.OwnedBy("owner_id") names no UUID field`,
		`xdb.Ref("nowhere.Team") names no type`,
		"is in the same database; use an ent edge",
	} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not say %q:\n%v", want, err)
		}
	}
}
