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
