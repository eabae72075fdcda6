// Package graph serves one GraphQL API over every database: the connections entgql generates
// per ent client, node lookups across them, and the fields that join them.
package graph

//go:generate go run gqlgen.go
//go:generate go run ./internal/printschema testdata/schema.graphql
