// Package model holds the Go types of the graph that no ent client provides.
package model

// Node is an object with a global ID. Every ent entity of every client implements it
// (entgql generates IsNode for each), so node(id:) can return any of them.
type Node interface {
	IsNode()
}
