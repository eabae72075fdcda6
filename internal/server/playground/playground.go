// Package playground serves GraphiQL from files embedded in the binary, so that the playground
// works without reaching a CDN (offline machines, locked-down networks).
package playground

import (
	"embed"
	"io/fs"
	"net/http"

	gqlplayground "github.com/99designs/gqlgen/graphql/playground"
)

// The files are graphiql@4.1.2 and react/react-dom@18.2.0 from npm, byte for byte the versions
// gqlgen's playground names, so its subresource-integrity hashes below still hold.
//
//go:embed assets
var assets embed.FS

// Handler serves the GraphiQL page for endpoint; its scripts are loaded from assetsPath, where
// Assets must be mounted.
func Handler(title, endpoint, assetsPath string) http.HandlerFunc {
	return gqlplayground.Handler(title, endpoint,
		gqlplayground.WithGraphiqlVersion(
			assetsPath+"graphiql.min.js", assetsPath+"graphiql.min.css",
			"sha256-hnImuor1znlJkD/FOTL3jayfS/xsyNoP04abi8bFJWs=",
			"sha256-MEh+B2NdMSpj9kexQNN3QKc8UzMrCXW/Sx/phcpuyIU=",
		),
		gqlplayground.WithGraphiqlReactVersion(
			assetsPath+"react.production.min.js", assetsPath+"react-dom.production.min.js",
			"sha256-S0lp+k7zWUMk2ixteM6HZvu8L9Eh//OVrt+ZfbCpmgY=",
			"sha256-IXWO0ITNDjfnNXIu5POVfqlgYoop36bDzhodR6LW5Pc=",
		),
		gqlplayground.WithStoragePrefix("multidb:"),
		// Queries live in the URL, so a link shares a query.
		gqlplayground.WithGraphiqlPersistStateInURL(true),
	)
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
