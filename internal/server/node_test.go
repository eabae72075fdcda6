package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/multidb/multidb/ent/users/user"
	"github.com/multidb/multidb/graph"
	"github.com/multidb/multidb/internal/auth"
	"github.com/multidb/multidb/internal/server"
	"github.com/multidb/multidb/internal/testdb"
)

// e2eDir is where the Node clients and their locked dependencies live (npm ci installs them;
// .ci/run does).
var e2eDir = filepath.Join("..", "..", "e2e")

// node returns the path of node with e2e's packages installed. Under CI=true their absence
// fails the test.
func node(t *testing.T) string {
	t.Helper()
	path, err := exec.LookPath("node")
	if err == nil {
		if _, err = os.Stat(filepath.Join(e2eDir, "node_modules", "graphql-http")); err == nil {
			return path
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("node and e2e's packages are required when CI=true (cd e2e && npm ci): %v", err)
	}
	t.Skipf("node or e2e's packages are missing (cd e2e && npm ci): %v", err)
	return ""
}

func runNode(t *testing.T, script string, args ...string) ([]byte, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node(t), append([]string{script}, args...)...)
	cmd.Dir = e2eDir
	return cmd.CombinedOutput()
}

// TestGraphQLOverHTTPAudit runs graphql-http's server audits against the real handler: no MUST
// and no SHOULD may fail.
func TestGraphQLOverHTTPAudit(t *testing.T) {
	node(t)
	for _, d := range testdb.Dialects(t) {
		t.Run(testdb.Name(d), func(t *testing.T) {
			set := testdb.OpenMigrated(t, d)
			srv := httptest.NewServer(server.New(server.Options{
				GraphQL:   graph.NewHandler(set),
				Readiness: func(context.Context) []server.DatabaseState { return nil },
			}))
			defer srv.Close()
			out, err := runNode(t, "audit.mjs", srv.URL+"/graphql")
			if err != nil {
				t.Fatalf("graphql-http audit: %v\n%s", err, out)
			}
			t.Logf("%s", out)
		})
	}
}

// TestApolloClient drives the API with Apollo Client 4 from Node: the code of a bad token's
// error (urql's reading of it too), BatchHttpLink, and paging by USER_ID in both directions.
func TestApolloClient(t *testing.T) {
	node(t)
	for _, d := range testdb.Dialects(t) {
		t.Run(testdb.Name(d), func(t *testing.T) {
			ctx := context.Background()
			set := testdb.OpenMigrated(t, d)
			const email, password = "apollo@example.com", "apollo-test-password"
			hash, err := auth.HashPassword(password, auth.DefaultParams)
			if err != nil {
				t.Fatal(err)
			}
			admin, err := set.Users.User.Create().SetEmail(email).SetName("Apollo").SetRole(user.RoleADMIN).SetPasswordHash(hash).Save(ctx)
			if err != nil {
				t.Fatal(err)
			}
			// Several users with several events each: pages end inside runs of equal USER_IDs.
			events := 1
			if err := set.Analytics.Event.Create().SetUserID(admin.ID).SetName("apollo.0").Exec(ctx); err != nil {
				t.Fatal(err)
			}
			for i := range 5 {
				u, err := set.Users.User.Create().SetEmail(fmt.Sprintf("u%d@example.com", i)).SetName("U").Save(ctx)
				if err != nil {
					t.Fatal(err)
				}
				for j := range 4 {
					if err := set.Analytics.Event.Create().SetUserID(u.ID).SetName(fmt.Sprintf("apollo.%d.%d", i, j)).Exec(ctx); err != nil {
						t.Fatal(err)
					}
					events++
				}
			}
			srv := httptest.NewServer(server.New(server.Options{
				GraphQL:   graph.NewHandler(set),
				Readiness: func(context.Context) []server.DatabaseState { return nil },
			}))
			defer srv.Close()
			out, err := runNode(t, "apollo.mjs", srv.URL+"/graphql", email, password)
			if err != nil {
				t.Fatalf("apollo.mjs: %v\n%s", err, out)
			}
			var got struct {
				BadTokenGraphQLError bool
				BadTokenCode         string
				URQLBadTokenCode     string `json:"urqlBadTokenCode"`
				Batch                struct {
					Requests   int
					Email      string
					TotalCount int
				}
				Paging map[string]struct {
					Rows int
					Same bool
				}
			}
			if err := json.Unmarshal(out, &got); err != nil {
				t.Fatalf("apollo.mjs printed %s: %v", out, err)
			}
			if !got.BadTokenGraphQLError || got.BadTokenCode != "UNAUTHENTICATED" {
				t.Errorf("bad token: Apollo saw a GraphQL error: %v, code %q; want UNAUTHENTICATED", got.BadTokenGraphQLError, got.BadTokenCode)
			}
			if got.URQLBadTokenCode != "UNAUTHENTICATED" {
				t.Errorf("bad token: urql read the code %q; want UNAUTHENTICATED", got.URQLBadTokenCode)
			}
			if got.Batch.Requests != 1 || got.Batch.Email != email || got.Batch.TotalCount != events {
				t.Errorf("BatchHttpLink: %+v, want 1 request, %s, %d events", got.Batch, email, events)
			}
			for _, dir := range []string{"ASC", "DESC"} {
				if p := got.Paging[dir]; p.Rows != events || !p.Same {
					t.Errorf("paging by USER_ID %s: %+v, want the %d events of one big page", dir, p, events)
				}
			}
		})
	}
}
