// Package ent holds the generated ent clients, one package per database.
package ent

//go:generate go run -mod=mod ./entc.go
