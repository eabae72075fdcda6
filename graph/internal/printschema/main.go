// Command printschema writes the schema clients see to the file named by its argument; go
// generate runs it after gqlgen, so that a change of the graph shows in review as a change
// of graph/testdata/schema.graphql.
package main

import (
	"log"
	"os"

	"github.com/multidb/multidb/graph"
)

func main() {
	if len(os.Args) != 2 {
		log.Fatal("usage: printschema FILE")
	}
	if err := os.WriteFile(os.Args[1], []byte(graph.PrintSchema()), 0o644); err != nil {
		log.Fatal(err)
	}
}
