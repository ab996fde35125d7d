// Package api serves patchtrail over HTTP with echo: the JSON API under
// /api/v1, the lore-compatible endpoints b4 and lei use, and the HTML
// pages. This file holds the wire types and the functions that assemble
// them from the store; the CLI prints the same views with --json.
package api

import (
	"context"
	"time"

	"patchtrail/internal/message"
	"patchtrail/internal/store"
	"patchtrail/internal/thread"
	"patchtrail/internal/trace"
)

// Address is a mail address on the wire.
type Address struct {
	Name  string `json:"name,omitempty"`
	Email string `json:"email"`
}

// Message is the parsed view of one message.
type Message struct {
	MessageID   string                 `json:"message_id"`
	IDs         []string               `json:"message_ids"`
	Subject     string                 `json:"subject"`
	From        Address                `json:"from"`
	To          []Address              `json:"to"`
	Cc          []Address              `json:"cc"`
	Date        time.Time              `json:"date"`
	DateSource  string                 `json:"date_source"`
	Received    *time.Time             `json:"received,omitempty"`
	Lists       []string               `json:"lists"`
	ListIDs     []string               `json:"list_ids"`
	ThreadID    int64                  `json:"thread_id"`
	Parent      string                 `json:"in_reply_to,omitempty"`
	References  []string               `json:"references"`
	Size        int                    `json:"size"`
	Deleted     bool                   `json:"deleted,omitempty"`
	Attachments []store.AttachmentMeta `json:"attachments"`
	Problems    []string               `json:"problems"`
	Body        string                 `json:"body"`
	RawURL      string                 `json:"raw_url"`
}

func addr(a message.Address) Address { return Address{Name: a.Name, Email: a.Email} }

func addrs(as []message.Address) []Address {
	out := make([]Address, 0, len(as))
	for _, a := range as {
		out = append(out, addr(a))
	}
	return out
}

// LoadMessage assembles the view of the message named by mid.
func LoadMessage(ctx context.Context, st *store.Store, mid string) (*Message, *message.Message, error) {
	p, err := st.ParsedMessage(ctx, mid)
	if err != nil {
		return nil, nil, err
	}
	sm, pm, meta := p.Row, p.Msg, p.Meta
	v := &Message{
		MessageID:   sm.MessageID,
		IDs:         sm.IDs,
		Subject:     sm.Subject,
		From:        Address{Name: sm.FromName, Email: sm.FromEmail},
		To:          addrs(pm.To),
		Cc:          addrs(pm.Cc),
		Date:        sm.Date,
		DateSource:  meta.DateSource,
		Lists:       nonNil(sm.Lists),
		ListIDs:     nonNil(pm.ListIDs),
		ThreadID:    sm.Thread,
		Parent:      sm.Parent,
		References:  nonNil(pm.References),
		Size:        sm.Size,
		Deleted:     sm.Deleted,
		Attachments: meta.Attachments,
		Problems:    nonNil(sm.Problems),
		Body:        pm.Text,
		RawURL:      rawURL(sm),
	}
	if v.Attachments == nil {
		v.Attachments = []store.AttachmentMeta{}
	}
	if !sm.Received.IsZero() {
		r := sm.Received
		v.Received = &r
	}
	return v, pm, nil
}

func rawURL(sm *store.Message) string {
	list := "all"
	if len(sm.Lists) > 0 {
		list = sm.Lists[0]
	}
	return "/" + list + "/" + escapeMID(sm.MessageID) + "/raw"
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// ThreadNode is one message (or ghost) of a thread tree. The tree is a
// flat list in reading order (depth first, every message after the one
// it replies to) with parent references rather than nested children, so
// a 5,000-reply chain is a list of 5,000, not 5,000 levels of JSON that
// parsers with a nesting limit refuse.
type ThreadNode struct {
	MessageID string `json:"message_id"`
	// Parent is the Message-ID of the message (or ghost) this one
	// replies to; absent for a root.
	Parent string `json:"parent,omitempty"`
	// Depth is 0 for a root, the parent's depth + 1 otherwise.
	Depth   int        `json:"depth"`
	Ghost   bool       `json:"ghost,omitempty"`
	Subject string     `json:"subject,omitempty"`
	From    *Address   `json:"from,omitempty"`
	Date    *time.Time `json:"date,omitempty"`
}

// ThreadSummary is a message listed outside the tree.
type ThreadSummary struct {
	MessageID string    `json:"message_id"`
	Subject   string    `json:"subject"`
	From      Address   `json:"from"`
	Date      time.Time `json:"date"`
	ThreadID  int64     `json:"thread_id"`
}

// Thread is the strict reply tree of a thread, and apart from it the
// messages with the same normalised subject.
type Thread struct {
	ThreadID int64 `json:"thread_id"`
	Messages int   `json:"messages"`
	// Nodes is the tree in reading order (see ThreadNode).
	Nodes       []ThreadNode    `json:"nodes"`
	SameSubject []ThreadSummary `json:"same_subject"`
}

// LoadThread assembles the thread of the message named by mid.
func LoadThread(ctx context.Context, st *store.Store, mid string) (*Thread, *thread.View, error) {
	m, err := st.MessageRowByID(ctx, mid)
	if err != nil {
		return nil, nil, err
	}
	tv, err := thread.Load(ctx, st, m, sameSubjectLimit)
	if err != nil {
		return nil, nil, err
	}
	return threadOf(tv), tv, nil
}

// sameSubjectLimit caps the same-subject messages outside a thread shown
// with it.
const sameSubjectLimit = trace.SameSubjectLimit

// WireThread is the wire form of a loaded thread.
func WireThread(tv *thread.View) *Thread { return threadOf(tv) }

// threadOf is the wire form of a loaded thread.
func threadOf(tv *thread.View) *Thread {
	v := &Thread{ThreadID: tv.ID, Messages: len(tv.Messages), Nodes: []ThreadNode{}, SameSubject: []ThreadSummary{}}
	// An explicit stack: a reply chain may be thousands deep.
	type item struct {
		n      *thread.Node
		parent string
		depth  int
	}
	stack := make([]item, 0, len(tv.Roots))
	for i := len(tv.Roots) - 1; i >= 0; i-- {
		stack = append(stack, item{n: tv.Roots[i]})
	}
	for len(stack) > 0 {
		it := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		n := it.n
		tn := ThreadNode{MessageID: n.MessageID, Parent: it.parent, Depth: it.depth, Ghost: n.Ghost}
		if m, ok := n.Value.(*store.Message); ok {
			d := m.Date
			tn.Subject, tn.From, tn.Date = m.Subject, &Address{Name: m.FromName, Email: m.FromEmail}, &d
		}
		v.Nodes = append(v.Nodes, tn)
		for i := len(n.Children) - 1; i >= 0; i-- {
			stack = append(stack, item{n: n.Children[i], parent: n.MessageID, depth: it.depth + 1})
		}
	}
	for _, m := range tv.SameSubject {
		v.SameSubject = append(v.SameSubject, ThreadSummary{MessageID: m.MessageID, Subject: m.Subject,
			From: Address{Name: m.FromName, Email: m.FromEmail}, Date: m.Date, ThreadID: m.Thread})
	}
	return v
}
