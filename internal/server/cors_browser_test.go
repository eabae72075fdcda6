package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
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

// newBrowser starts headless Chromium for one test.
func newBrowser(t *testing.T) context.Context {
	t.Helper()
	bin := chromium(t)
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
	t.Cleanup(cancel)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(cancel)
	ctx, cancel = context.WithTimeout(ctx, 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// logIn returns a session token of a new admin of set.
func logIn(t *testing.T, api, email, password string) string {
	t.Helper()
	body, _ := json.Marshal(map[string]any{
		"query":     `mutation($email: String!, $password: String!) { logIn(email: $email, password: $password) { token } }`,
		"variables": map[string]any{"email": email, "password": password},
	})
	res, err := http.Post(api+"/graphql", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var login struct {
		Data struct{ LogIn struct{ Token string } }
	}
	if err := json.NewDecoder(res.Body).Decode(&login); err != nil || login.Data.LogIn.Token == "" {
		t.Fatalf("log in as %s: %v (status %s)", email, err, res.Status)
	}
	return login.Data.LogIn.Token
}

// crossOriginPage returns an unstarted server (its origin is known before it serves) of a
// page that posts a query to the API with a bearer token, which makes the browser send a
// preflight, and writes what it got into #out. *api and *token are read when it serves.
func crossOriginPage(api, token *string) *httptest.Server {
	return httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><html><body><pre id="out">pending</pre><script>
fetch(%q, {method: 'POST', headers: {'Content-Type': 'application/json', 'Authorization': 'Bearer ' + %q},
  body: JSON.stringify({query: '{ me { email } }'})})
  .then(r => r.text().then(t => { document.getElementById('out').textContent = 'ok ' + r.status + ' ' + r.headers.get('X-Request-ID') + ' ' + t; }))
  .catch(e => { document.getElementById('out').textContent = 'refused ' + e; });
</script></body></html>`, *api+"/graphql", *token)
	}))
}

// TestCrossOriginPageCallsTheAPI loads, in headless Chromium, a page from an origin listed in
// CORS and one from an origin that is not: the first reads its answer (through a preflight,
// since it sends Authorization), the second is refused by the browser.
func TestCrossOriginPageCallsTheAPI(t *testing.T) {
	ctx := newBrowser(t)
	set := testdb.OpenMigrated(t, config.SQLite)
	const email, password = "cors@example.com", "cors-test-password"
	hash, err := auth.HashPassword(password, auth.DefaultParams)
	if err != nil {
		t.Fatal(err)
	}
	if err := set.Users.User.Create().SetEmail(email).SetName("Cors").SetRole(user.RoleADMIN).SetPasswordHash(hash).Exec(context.Background()); err != nil {
		t.Fatal(err)
	}
	var apiURL, token string
	allowed, other := crossOriginPage(&apiURL, &token), crossOriginPage(&apiURL, &token)
	defer allowed.Close()
	defer other.Close()
	// 127.0.0.1 pages would pass the development localhost default: list one origin only.
	api := httptest.NewServer(server.New(server.Options{
		GraphQL:   graph.NewHandler(set),
		Readiness: func(context.Context) []server.DatabaseState { return nil },
		CORS:      server.CORS{Origins: []string{"http://" + allowed.Listener.Addr().String()}},
	}))
	defer api.Close()
	apiURL = api.URL
	token = logIn(t, api.URL, email, password)
	allowed.Start()
	other.Start()

	read := func(page string) string {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.Navigate(page)); err != nil {
			t.Fatalf("browser: open %s: %v", page, err)
		}
		got, err := chromedp.Run(ctx,
			chromedp.Poll[string](`(() => { const t = document.getElementById('out').textContent; return t === 'pending' ? false : t; })()`,
				chromedp.WithPollingTimeout(20*time.Second)),
		)
		if err != nil {
			t.Fatalf("browser on %s: %v", page, err)
		}
		return got
	}
	if got := read(allowed.URL); !strings.HasPrefix(got, "ok 200 ") || !strings.Contains(got, `"email":"`+email+`"`) {
		t.Errorf("the allowed origin's page got %q, want its own user", got)
	} else if strings.HasPrefix(got, "ok 200 null") {
		t.Errorf("X-Request-ID is not exposed to the page: %q", got)
	}
	if got := read(other.URL); !strings.HasPrefix(got, "refused TypeError") {
		t.Errorf("the other origin's page got %q, want the browser to refuse it", got)
	}
}
