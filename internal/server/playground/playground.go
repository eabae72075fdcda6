// Package playground serves GraphiQL from files embedded in the binary, so that the playground
// works without reaching a CDN (offline machines, locked-down networks).
package playground

import (
	"embed"
	"html/template"
	"io/fs"
	"net/http"
)

// The files are graphiql@4.1.2 and react/react-dom@18.2.0 from npm, byte for byte the versions
// gqlgen's playground names, so the subresource-integrity hashes in page.html hold.
//
//go:embed assets
var assets embed.FS

//go:embed page.html
var pageHTML string

var page = template.Must(template.New("graphiql").Parse(pageHTML))

// DashboardQuery is the dashboard of the playground's first document, over the events of the
// development seed: counts and unique users per day and name, and its funnel.
const DashboardQuery = `query Dashboard {
  perDay: eventStats(from: "2026-11-01T00:00:00Z", to: "2026-11-08T00:00:00Z", bucket: DAY, groupBy: [{by: NAME}]) {
    start keys count uniqueUsers
  }
  checkout: funnel(steps: ["signup", "cart:add", "checkout"], within: "24h", from: "2026-11-01T00:00:00Z", to: "2026-11-03T00:00:00Z") {
    name users conversion
  }
}`

// DefaultQuery is the playground's document until the tab has one of its own: how to log in,
// the dashboard, and the log's live tail. The password goes in the Variables tab, never in
// the document.
const DefaultQuery = `# Run LogIn with {"email": "admin@example.com", "password": "admin-demo-password"}
# in Variables (development's demo admin), then put {"Authorization": "Bearer <token>"}
# in Headers and run Dashboard or TailLog (a subscription: new log entries as they come).
mutation LogIn($email: String!, $password: String!) {
  logIn(email: $email, password: $password) { token expiresAt }
}

` + DashboardQuery + `

subscription TailLog {
  logEntries { node { createdAt level message user { name } } cursor }
}
`

// Handler serves the GraphiQL page for endpoint; its scripts are loaded from assetsPath, where
// Assets must be mounted. The page is multidb's own rather than gqlgen's, whose GraphiQL
// mirrors the query, variables and headers into the URL and keeps headers in localStorage.
func Handler(title, endpoint, assetsPath string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		// The page's own secrets (the token in its headers editor) stay off other sites.
		w.Header().Set("Referrer-Policy", "no-referrer")
		_ = page.Execute(w, map[string]any{
			"Title": title, "Endpoint": endpoint, "Assets": assetsPath, "StoragePrefix": "multidb:",
			"DefaultQuery": DefaultQuery,
		})
	}
}

// Assets serves the embedded scripts and styles, cached for a day.
func Assets() http.Handler {
	sub, _ := fs.Sub(assets, "assets")
	files := http.FileServerFS(sub)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=86400")
		files.ServeHTTP(w, r)
	})
}
