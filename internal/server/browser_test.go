package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/multidb/multidb/graph"
	"github.com/multidb/multidb/internal/config"
	"github.com/multidb/multidb/internal/seed"
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
// query the URL carries and reads the demo data in the result pane.
func TestPlaygroundRunsAQueryInABrowser(t *testing.T) {
	bin := chromium(t)
	set := testdb.OpenMigrated(t, config.SQLite)
	if _, err := seed.Run(context.Background(), set, seed.Seeders, config.Development, nil, io.Discard); err != nil {
		t.Fatal(err)
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
	ctx, cancel := chromedp.NewContext(alloc)
	defer cancel()
	ctx, cancel = context.WithTimeout(ctx, 60*time.Second)
	defer cancel()

	// Log in as the demo admin, and hand GraphiQL the token in its headers editor, as a
	// developer would paste it.
	admin := seed.DemoUsers[0]
	body, _ := json.Marshal(map[string]any{
		"query":     `mutation($email: String!, $password: String!) { logIn(email: $email, password: $password) { token } }`,
		"variables": map[string]any{"email": admin.Email, "password": admin.Password},
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
		t.Fatalf("log in as %s: %v (status %s)", admin.Email, err, res.Status)
	}
	headers, _ := json.Marshal(map[string]string{"Authorization": "Bearer " + login.Data.LogIn.Token})

	query := `{ users(first: 1, orderBy: {field: EMAIL, direction: ASC}) { edges { node { name events(first: 2) { totalCount } } } } }`
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
	// The first user by email is the demo admin; its events come from the analytics database.
	for _, want := range []string{`"name": "Ada Admin"`, `"totalCount": 12`} {
		if !strings.Contains(result, want) {
			t.Errorf("result pane lacks %s:\n%s", want, result)
		}
	}
}
