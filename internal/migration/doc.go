// Package migration plans, applies, reverts and reports versioned migrations, one database at a time.
package migration
