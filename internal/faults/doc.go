// Package faults holds the tests that break databases for real, through a TCP proxy in front of
// each PostgreSQL database, and check that the server keeps answering what it can, recovers by
// itself and loses no acknowledged write. Its load test runs with `make soak`.
package faults
