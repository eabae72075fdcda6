package server_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/google/uuid"

	"github.com/multidb/multidb/ent/users/user"
	"github.com/multidb/multidb/graph"
	"github.com/multidb/multidb/internal/auth"
	"github.com/multidb/multidb/internal/config"
	"github.com/multidb/multidb/internal/server"
	"github.com/multidb/multidb/internal/server/playground"
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

// TestPlaygroundRunsAQueryInABrowser opens GraphiQL in headless Chromium, logs in through
// it with variables, puts the token in its headers editor as a developer would, runs the
// stitched query and reads, in the result pane, the rows the test wrote. Then it checks that
// neither the URL nor localStorage holds the password, the token or the documents.
func TestPlaygroundRunsAQueryInABrowser(t *testing.T) {
	ctx := newBrowser(t)
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
	admin, err := set.Users.User.Create().SetEmail(email).SetName(name).SetRole(user.RoleADMIN).SetPasswordHash(hash).Save(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for i := range events {
		if err := set.Analytics.Event.Create().SetUserID(admin.ID).SetName(fmt.Sprintf("browser.%d", i)).Exec(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	srv := httptest.NewServer(server.New(server.Options{
		GraphQL:    graph.NewHandler(set),
		Playground: true,
		Readiness:  func(context.Context) []server.DatabaseState { return nil },
	}))
	defer srv.Close()

	// The editors are CodeMirror instances: the query's, then the variables' and the headers'.
	set1 := func(selector, text string) chromedp.Action[chromedp.Void] {
		js, _ := json.Marshal(text)
		return chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.querySelectorAll(%q)[%s].CodeMirror.setValue(%s)`,
			strings.Split(selector, "#")[0], strings.Split(selector, "#")[1], js))
	}
	const (
		queryEditor     = ".graphiql-query-editor .CodeMirror#0"
		variablesEditor = ".graphiql-editor-tool .CodeMirror#0"
		headersEditor   = ".graphiql-editor-tool .CodeMirror#1"
	)
	run := func(want string) string {
		t.Helper()
		// The page's first document has several operations, for which the execute button
		// is a menu; once the editor holds one, GraphiQL makes it a button again.
		if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`(() => {
			const b = document.querySelector('.graphiql-execute-button');
			return !!b && !b.hasAttribute('aria-haspopup');
		})()`, chromedp.WithPollingTimeout(10*time.Second))); err != nil {
			t.Fatalf("browser: the execute button stays a menu of operations: %v", err)
		}
		if err := chromedp.Do(ctx,
			chromedp.Evaluate[chromedp.Void](`document.querySelectorAll('.result-window .CodeMirror')[0]?.CodeMirror.setValue('')`),
			chromedp.Click(`.graphiql-execute-button`),
		); err != nil {
			t.Fatalf("browser: run: %v", err)
		}
		// The result pane fills in once the response arrives; poll until it shows the data.
		got, err := chromedp.Run(ctx, chromedp.Poll[string](fmt.Sprintf(`(() => {
			const text = (document.querySelector('.result-window') || {}).innerText || '';
			return text.includes(%q) || text.includes('"errors"') ? text : false;
		})()`, want), chromedp.WithPollingTimeout(30*time.Second)))
		if err != nil {
			t.Fatalf("browser: %v (result pane: %q)", err, got)
		}
		return got
	}

	vars, _ := json.Marshal(map[string]string{"email": email, "password": password})
	err = chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+"/"),
		chromedp.WaitVisible(`.graphiql-execute-button`),
	)
	if err != nil {
		t.Fatalf("browser: open the playground: %v", err)
	}
	// A new tab starts with the playground's document: log-in, dashboard, live tail.
	first, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('.graphiql-query-editor .CodeMirror').CodeMirror.getValue()`))
	if err != nil || first != playground.DefaultQuery {
		t.Errorf("the query editor starts with %q (%v), want the playground's document", first, err)
	}
	err = chromedp.Do(ctx,
		set1(queryEditor, `mutation ($email: String!, $password: String!) { logIn(email: $email, password: $password) { token } }`),
		set1(variablesEditor, string(vars)),
	)
	if err != nil {
		t.Fatalf("browser: open the playground: %v", err)
	}
	login := run(`"token"`)
	token := regexp.MustCompile(`mdb_[A-Za-z0-9_-]+`).FindString(login)
	if token == "" {
		t.Fatalf("no token in the result pane: %s", login)
	}
	headers, _ := json.Marshal(map[string]string{"Authorization": "Bearer " + token})
	query := `{ users(first: 1, where: {email: "` + email + `"}) { edges { node { name events(first: 2) { totalCount } } } } }`
	if err := chromedp.Do(ctx, set1(queryEditor, query), set1(variablesEditor, ""), set1(headersEditor, string(headers))); err != nil {
		t.Fatalf("browser: edit: %v", err)
	}
	result := run(`"totalCount"`)
	// The user comes from the users database, the count of its events from analytics.
	for _, want := range []string{`"name": "` + name + `"`, fmt.Sprintf(`"totalCount": %d`, events)} {
		if !strings.Contains(result, want) {
			t.Errorf("result pane lacks %s:\n%s", want, result)
		}
	}

	// A subscription tails the admin's new events: they are written until one shows, as the
	// stream starts only once the browser's request reaches the server.
	if err := chromedp.Do(ctx, set1(queryEditor, `subscription { events { cursor node { name } } }`)); err != nil {
		t.Fatalf("browser: edit: %v", err)
	}
	stop := make(chan struct{})
	writer := make(chan struct{})
	go func() {
		defer close(writer)
		for {
			if err := set.Analytics.Event.Create().SetID(uuid.Must(uuid.NewV7())).SetUserID(admin.ID).SetName("browser.live").Exec(context.Background()); err != nil {
				t.Error(err)
				return
			}
			select {
			case <-stop:
				return
			case <-time.After(300 * time.Millisecond):
			}
		}
	}()
	live := run(`"browser.live"`)
	close(stop)
	<-writer
	// The execute button stops a running subscription, which ends its request.
	if err := chromedp.Do(ctx, chromedp.Click(`.graphiql-execute-button`)); err != nil {
		t.Fatalf("browser: stop: %v", err)
	}
	if !strings.Contains(live, `"cursor"`) {
		t.Errorf("the subscription's result lacks its cursor:\n%s", live)
	}

	stored, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href + '\n' + JSON.stringify(localStorage)`))
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{password, token, url.QueryEscape(password), "query=", "headers=", "variables=", "Bearer"} {
		if strings.Contains(stored, secret) {
			t.Errorf("the URL or localStorage holds %q after a log-in:\n%s", secret, stored)
		}
	}
	if !strings.HasPrefix(stored, srv.URL+"/\n") {
		t.Errorf("the URL changed: %s", stored)
	}
}
