package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/multidb/multidb/ent/users/user"
	"github.com/multidb/multidb/graph"
	"github.com/multidb/multidb/internal/auth"
	"github.com/multidb/multidb/internal/config"
	"github.com/multidb/multidb/internal/server"
	"github.com/multidb/multidb/internal/testdb"
)

// chromium finds Debian's Chromium. Under CI=true its absence fails the test.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium is required when CI=true (apt-get install chromium)")
	}
	t.Skip("chromium is not installed")
	return ""
}

// TestPlaygroundRunsAQueryInABrowser opens GraphiQL in headless Chromium, runs the stitched
// query the URL carries and reads, in the result pane, the rows the test wrote.
func TestPlaygroundRunsAQueryInABrowser(t *testing.T) {
	bin := chromium(t)
	ctx := context.Background()
	// Rows of the test's own, not the demo seed: the seeders a team adds or edits must not
	// change what this test reads.
	set := testdb.OpenMigrated(t, config.SQLite)
	const (
		email, password, name = "browser@example.com", "browser-test-password", "Browser Admin"
		events                = 7
	)
	hash, err := auth.HashPassword(password, auth.DefaultParams)
	if err != nil {
		t.Fatal(err)
	}
	admin, err := set.Users.User.Create().SetEmail(email).SetName(name).SetRole(user.RoleADMIN).SetPasswordHash(hash).Save(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i := range events {
		if err := set.Analytics.Event.Create().SetUserID(admin.ID).SetName(fmt.Sprintf("browser.%d", i)).Exec(ctx); err != nil {
			t.Fatal(err)
		}
	}
	srv := httptest.NewServer(server.New(server.Options{
		GraphQL:    graph.NewHandler(set),
		Playground: true,
		Readiness:  func(context.Context) []server.DatabaseState { return nil },
	}))
	defer srv.Close()

	alloc, cancel := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(bin),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-quic", true),
	)
	defer cancel()
	ctx, cancel = chromedp.NewContext(alloc)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 60*time.Second)
	defer cancel()

	// Log in, and hand GraphiQL the token in its headers editor, as a developer would paste it.
	body, _ := json.Marshal(map[string]any{
		"query":     `mutation($email: String!, $password: String!) { logIn(email: $email, password: $password) { token } }`,
		"variables": map[string]any{"email": email, "password": password},
	})
	res, err := http.Post(srv.URL+"/graphql", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var login struct {
		Data struct{ LogIn struct{ Token string } }
	}
	err = json.NewDecoder(res.Body).Decode(&login)
	res.Body.Close()
	if err != nil || login.Data.LogIn.Token == "" {
		t.Fatalf("log in as %s: %v (status %s)", email, err, res.Status)
	}
	headers, _ := json.Marshal(map[string]string{"Authorization": "Bearer " + login.Data.LogIn.Token})

	query := `{ users(first: 1, where: {email: "` + email + `"}) { edges { node { name events(first: 2) { totalCount } } } } }`
	err = chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/?query="+url.QueryEscape(query)+"&headers="+url.QueryEscape(string(headers))),
		chromedp.WaitVisible(`.graphiql-execute-button`),
		chromedp.Click(`.graphiql-execute-button`),
	)
	if err != nil {
		t.Fatalf("browser: open the playground and run the query: %v", err)
	}
	result, err := chromedp.Run(ctx,
		// The result pane fills in once the response arrives; poll until it shows the data.
		chromedp.Poll[string](`(() => {
			const text = (document.querySelector('.result-window') || {}).innerText || '';
			return text.includes('"data"') || text.includes('"errors"') ? text : false;
		})()`, chromedp.WithPollingTimeout(30*time.Second)),
	)
	if err != nil {
		t.Fatalf("browser: %v (result pane: %q)", err, result)
	}
	// The user comes from the users database, the count of its events from analytics.
	for _, want := range []string{`"name": "` + name + `"`, fmt.Sprintf(`"totalCount": %d`, events)} {
		if !strings.Contains(result, want) {
			t.Errorf("result pane lacks %s:\n%s", want, result)
		}
	}
}
