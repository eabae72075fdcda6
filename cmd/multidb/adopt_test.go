package main

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/multidb/multidb/internal/config"
	"github.com/multidb/multidb/internal/testdb"
)

// legacySchema is a shop's database that multidb did not write: UUID keys with a database
// default, a foreign key, an owner column, an index, a column type ent maps approximately
// (numeric), a text primary key, an integer id, a composite key and a view.
var legacySchema = map[string][]string{
	config.Postgres: {
		`CREATE TABLE authors (id uuid PRIMARY KEY DEFAULT gen_random_uuid(), email varchar(200) NOT NULL UNIQUE, name text NOT NULL, created_at timestamptz NOT NULL DEFAULT now())`,
		`CREATE TABLE articles (id uuid PRIMARY KEY, author_id uuid NOT NULL REFERENCES authors (id) ON DELETE CASCADE, user_id uuid, title text NOT NULL, price numeric(10,2), published boolean NOT NULL DEFAULT false, meta jsonb, address inet)`,
		`CREATE INDEX articles_title_idx ON articles (title)`,
		`CREATE TABLE countries (code char(2) PRIMARY KEY, name text NOT NULL)`,
		`CREATE TABLE counters (id serial PRIMARY KEY, hits bigint NOT NULL DEFAULT 0)`,
		`CREATE TABLE article_tags (article_id uuid NOT NULL REFERENCES articles (id), tag text NOT NULL, PRIMARY KEY (article_id, tag))`,
		`CREATE VIEW published_articles AS SELECT id, title FROM articles WHERE published`,
	},
	config.SQLite: {
		`CREATE TABLE authors (id uuid PRIMARY KEY, email varchar(200) NOT NULL UNIQUE, name text NOT NULL, created_at datetime NOT NULL DEFAULT CURRENT_TIMESTAMP)`,
		`CREATE TABLE articles (id uuid PRIMARY KEY, author_id uuid NOT NULL REFERENCES authors (id) ON DELETE CASCADE, user_id uuid, title text NOT NULL, price decimal(10,2), published boolean NOT NULL DEFAULT false, meta json)`,
		`CREATE INDEX articles_title_idx ON articles (title)`,
		`CREATE TABLE countries (code char(2) PRIMARY KEY, name text NOT NULL)`,
		`CREATE TABLE counters (id integer PRIMARY KEY AUTOINCREMENT, hits bigint NOT NULL DEFAULT 0)`,
		`CREATE TABLE article_tags (article_id uuid NOT NULL REFERENCES articles (id), tag text NOT NULL, PRIMARY KEY (article_id, tag))`,
		`CREATE VIEW published_articles AS SELECT id, title FROM articles WHERE published`,
	},
}

// copyFiles copies the files adopt edits from the repository into the working directory.
func copyRepoFiles(t *testing.T, root string, names ...string) {
	t.Helper()
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join(root, n))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(n, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestAdoptALegacyDatabase(t *testing.T) {
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	for _, dialect := range testdb.Dialects(t) {
		t.Run(dialect, func(t *testing.T) {
			url := testdb.URL(t, dialect, "legacy")
			legacy := rawDB(t, url)
			exec(t, legacy, legacySchema[dialect]...)
			inDir(t, nil)
			copyRepoFiles(t, root, ".env.example", "docker-compose.yml", "compose.env")
			if dialect == config.Postgres {
				os.Setenv("MIGRATION_DEV_URL", testdb.ServerURL())
				t.Cleanup(func() { os.Unsetenv("MIGRATION_DEV_URL") })
			}

			if _, err := runCLI(t, "adopt", "--db", "users", "--url", url); exitCode(err) != 2 {
				t.Errorf("adopt under a taken name: got %v, want a usage error", err)
			}
			out, err := runCLI(t, "adopt", "--db", "shop", "--url", url)
			if err != nil {
				t.Fatalf("adopt: %v\n%s", err, out)
			}
			read := func(p string) string {
				t.Helper()
				b, err := os.ReadFile(p)
				if err != nil {
					t.Fatalf("%v\n%s", err, out)
				}
				return string(b)
			}
			fset := token.NewFileSet()
			for _, f := range []string{"doc.go", "author.go", "article.go"} {
				if _, err := parser.ParseFile(fset, filepath.Join("schema", "shop", f), nil, 0); err != nil {
					t.Errorf("schema/shop/%s: %v", f, err)
				}
			}
			for _, f := range []string{"country.go", "counter.go", "article_tag.go", "published_article.go"} {
				if _, err := os.Stat(filepath.Join("schema", "shop", f)); err == nil {
					t.Errorf("schema/shop/%s was written for a table ent cannot serve", f)
				}
			}
			article, author := read("schema/shop/article.go"), read("schema/shop/author.go")
			for _, want := range []string{`xdb.Policy(xdb.OwnedBy("user_id"))`, `xdb.Ref("users.User")`, `edge.From("author", Author.Type)`,
				`Field("author_id")`, `StorageKey("articles_title_idx")`, "// Approximate:", `entsql.Annotation{Table: "articles"}`,
				`field.String("title")`, `field.Bool("published")`, "Optional().\n\t\t\tNillable()"} {
				if !strings.Contains(article, want) {
					t.Errorf("article.go lacks %q:\n%s", want, article)
				}
			}
			for _, want := range []string{`xdb.Policy(xdb.AdminOnly())`, `edge.To("articles", Article.Type)`, `field.String("email")`} {
				if !strings.Contains(author, want) {
					t.Errorf("author.go lacks %q:\n%s", want, author)
				}
			}
			unmapped := read("migrate/shop/unmapped.txt")
			for table, reason := range map[string]string{"countries": "not a UUID", "counters": "not a UUID", "article_tags": "composite primary key", "published_articles": "a view"} {
				line := ""
				for _, l := range strings.Split(unmapped, "\n") {
					if strings.HasPrefix(l, table+"\t") {
						line = l
					}
				}
				if !strings.Contains(line, reason) || !strings.Contains(out, "not mapped: "+table+": ") {
					t.Errorf("%s is not listed as not mapped (%s):\n%s\n%s", table, reason, unmapped, out)
				}
			}
			files, _ := filepath.Glob(filepath.Join("migrate", "shop", dirOf(dialect), "*_init.sql"))
			if len(files) != 1 {
				t.Fatalf("init migration: got %v", files)
			}
			initSQL := read(files[0])
			for _, table := range []string{"authors", "articles", "countries", "counters", "article_tags"} {
				if !strings.Contains(initSQL, table) {
					t.Errorf("the init migration does not create %s:\n%s", table, initSQL)
				}
			}
			if !strings.Contains(read(".env.example"), "SHOP_DATABASE_URL") || !strings.Contains(read("docker-compose.yml"), "shop-db:") {
				t.Error("adopt did not add the database to .env.example and docker-compose.yml")
			}
			// The baseline is recorded in the live database, and its data is untouched.
			var kind int
			if err := legacy.QueryRow(`SELECT type FROM multidb_revisions WHERE db_name = 'shop'`).Scan(&kind); err != nil || kind != 1 {
				t.Errorf("baseline revision: type %d, %v; want one baseline (1)", kind, err)
			}
			if !strings.Contains(out, "baseline at") {
				t.Errorf("adopt does not say it baselined:\n%s", out)
			}
		})
	}
}

func dirOf(dialect string) string {
	if dialect == config.Postgres {
		return "postgres"
	}
	return "sqlite"
}
