package search

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the generated part of doc/query_syntax.md")

// endGenerated ends the part of doc/query_syntax.md that HelpMarkdown
// writes; what follows it (the parity report) is written by hand.
const endGenerated = "<!-- end of generated part -->\n"

// TestQuerySyntaxDoc keeps doc/query_syntax.md generated from the same
// table as `patchtrail help search`: after changing the table run
// go test ./search -run QuerySyntaxDoc -update
func TestQuerySyntaxDoc(t *testing.T) {
	path := filepath.Join("..", "doc", "query_syntax.md")
	cur, err := os.ReadFile(path)
	if err != nil && !*update {
		t.Fatal(err)
	}
	_, rest, _ := strings.Cut(string(cur), endGenerated)
	want := HelpMarkdown() + "\n" + endGenerated + rest
	if *update {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if string(cur) != want {
		t.Errorf("%s is out of date: run go test ./search -run QuerySyntaxDoc -update", path)
	}
}
