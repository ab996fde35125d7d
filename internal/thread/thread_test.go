package thread

import (
	"strings"
	"testing"
	"time"
)

func render(roots []*Node) string {
	var b strings.Builder
	Walk(roots, func(n *Node, d int) {
		b.WriteString(strings.Repeat(" ", d))
		if n.Ghost {
			b.WriteString("?")
		}
		b.WriteString(n.MessageID + "\n")
	})
	return b.String()
}

func TestBuild(t *testing.T) {
	day := func(d int) time.Time { return time.Date(2024, 1, d, 0, 0, 0, 0, time.UTC) }
	tests := []struct {
		name  string
		items []Item
		want  string
	}{
		{"simple", []Item{
			{MessageID: "a", Date: day(1)},
			{MessageID: "b", Refs: []string{"a"}, Date: day(2)},
			{MessageID: "c", Refs: []string{"a", "b"}, Date: day(3)},
			{MessageID: "d", Refs: []string{"a"}, Date: day(4)},
		}, "a\n b\n  c\n d\n"},
		{"ghost joins replies", []Item{
			{MessageID: "b", Refs: []string{"a"}, Date: day(2)},
			{MessageID: "c", Refs: []string{"a"}, Date: day(3)},
		}, "?a\n b\n c\n"},
		{"ghost in the middle of a chain", []Item{
			{MessageID: "a", Date: day(1)},
			{MessageID: "c", Refs: []string{"a", "b"}, Date: day(3)},
		}, "a\n ?b\n  c\n"},
		{"cyclic references", []Item{
			{MessageID: "a", Refs: []string{"b"}, Date: day(1)},
			{MessageID: "b", Refs: []string{"a"}, Date: day(2)},
		}, "b\n a\n"},
		{"dangling ghost leaf is dropped", []Item{
			{MessageID: "a", Date: day(1)},
			{MessageID: "b", Refs: []string{"a"}, Date: day(2)},
		}, "a\n b\n"},
	}
	for _, tt := range tests {
		if got := render(Build(tt.items)); got != tt.want {
			t.Errorf("%s: Build =\n%s\nwant\n%s", tt.name, got, tt.want)
		}
	}
}
