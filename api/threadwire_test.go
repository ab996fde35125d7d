package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os/exec"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"patchtrail/internal/store"
	"patchtrail/internal/thread"
)

func chainView(n int) *thread.View {
	base := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	var root, prev *thread.Node
	tv := &thread.View{ID: 7}
	for i := 0; i <= n; i++ {
		m := &store.Message{MessageID: fmt.Sprintf("r%d@example.org", i), Subject: "Re: long", Date: base.Add(time.Duration(i) * time.Minute)}
		nd := &thread.Node{MessageID: m.MessageID, Date: m.Date, Value: m, Parent: prev}
		if prev == nil {
			root = nd
		} else {
			prev.Children = append(prev.Children, nd)
		}
		tv.Messages = append(tv.Messages, m)
		prev = nd
	}
	tv.Roots = []*thread.Node{root}
	return tv
}

// TestThreadJSONLongChain: a 5,000-reply chain is parsed by
// encoding/json (which refuses more than 10,000 levels) and by jq.
func TestThreadJSONLongChain(t *testing.T) {
	b, err := json.Marshal(WireThread(chainView(5000)))
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("encoding/json cannot parse the thread of a 5,000-reply chain: %v", err)
	}
	var th Thread
	if err := json.Unmarshal(b, &th); err != nil {
		t.Fatal(err)
	}
	if len(th.Nodes) != 5001 || th.Nodes[5000].Depth != 5000 || th.Nodes[5000].Parent != "r4999@example.org" {
		last := th.Nodes[len(th.Nodes)-1]
		t.Errorf("chain: %d nodes, last %s depth %d parent %s; want 5001, depth 5000, parent r4999", len(th.Nodes), last.MessageID, last.Depth, last.Parent)
	}
	jq, err := exec.LookPath("jq")
	if err != nil {
		t.Skip("jq not installed (Debian package jq)")
	}
	cmd := exec.Command(jq, "-r", ".nodes[-1] | \"\\(.depth) \\(.parent)\"")
	cmd.Stdin = bytes.NewReader(b)
	out, err := cmd.CombinedOutput()
	if err != nil || string(out) != "5000 r4999@example.org\n" {
		t.Errorf("jq on the thread of a 5,000-reply chain: %q, %v", out, err)
	}
}

// TestThreadJSONOrder: nodes come depth first, children by date, each
// with its parent and depth; ghosts keep their place.
func TestThreadJSONOrder(t *testing.T) {
	msg := func(id string, min int) *thread.Node {
		d := time.Date(2024, 1, 1, 0, min, 0, 0, time.UTC)
		return &thread.Node{MessageID: id, Date: d, Value: &store.Message{MessageID: id, Subject: id, Date: d}}
	}
	a, b, c, d, e := msg("a", 0), msg("b", 1), msg("c", 2), msg("d", 3), msg("e", 4)
	g := &thread.Node{MessageID: "ghost", Ghost: true}
	a.Children = []*thread.Node{b, d}
	b.Children = []*thread.Node{c}
	g.Children = []*thread.Node{e}
	th := WireThread(&thread.View{Roots: []*thread.Node{a, g}})
	type row struct {
		ID, Parent string
		Depth      int
		Ghost      bool
	}
	var got []row
	for _, n := range th.Nodes {
		got = append(got, row{n.MessageID, n.Parent, n.Depth, n.Ghost})
	}
	want := []row{{"a", "", 0, false}, {"b", "a", 1, false}, {"c", "b", 2, false}, {"d", "a", 1, false}, {"ghost", "", 0, true}, {"e", "ghost", 1, false}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("thread nodes (-want +got):\n%s", diff)
	}
}
