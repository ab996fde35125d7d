package indexer

import (
	"encoding/json"
	"fmt"
	"time"

	"patchtrail/internal/message"
	"patchtrail/internal/patch"
	"patchtrail/internal/store"
	"patchtrail/mbox"
)

// Parsed is a message after the worker stage: parsed, compressed, and
// prepared by every hook.
type Parsed struct {
	Msg         *message.Message
	Raw         []byte // compressed
	Meta        []byte // encoded Meta
	NormSubject string
	ListIDs     []string
	Source      mbox.Message // where it was read (without its bytes)
	List        string       // the list it is being imported into (set by the writer)
	// Prepared holds what each hook prepared in the worker, by hook index.
	Prepared []any
}

// Meta is the parsed metadata kept beside each stored message: what
// listings need without parsing the raw message again.
type Meta struct {
	To          []message.Address `json:"to,omitempty"`
	Cc          []message.Address `json:"cc,omitempty"`
	ListIDs     []string          `json:"list_ids,omitempty"`
	DateSource  string            `json:"date_source,omitempty"`
	Attachments []AttachmentMeta  `json:"attachments,omitempty"`
	References  []string          `json:"references,omitempty"`
	Subject     *patch.Subject    `json:"subject_tags,omitempty"`
}

// AttachmentMeta describes an attachment without its bytes.
type AttachmentMeta struct {
	Name string `json:"name"`
	Type string `json:"type"`
	Size int    `json:"size"`
}

// DecodeMeta reads the metadata stored with a message.
func DecodeMeta(b []byte) (*Meta, error) {
	var m Meta
	if len(b) == 0 {
		return &m, nil
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("indexer: decode meta: %w", err)
	}
	return &m, nil
}

// Parse runs the worker stage for one raw message.
func Parse(in *mbox.Message, st *store.Store, hooks []Hook) (*Parsed, error) {
	m, err := message.Parse(in.Data, nil)
	if err != nil {
		return nil, err
	}
	subj := patch.ParseSubject(m.Subject)
	meta := Meta{
		To: m.To, Cc: m.Cc, ListIDs: m.ListIDs, DateSource: m.DateSource,
		References: m.References,
	}
	if subj.IsPatch || subj.Reply {
		meta.Subject = &subj
	}
	for _, a := range m.Attachments {
		meta.Attachments = append(meta.Attachments, AttachmentMeta{Name: a.Name, Type: a.Type, Size: a.Size})
	}
	mb, err := json.Marshal(&meta)
	if err != nil {
		return nil, fmt.Errorf("indexer: encode meta: %w", err)
	}
	p := &Parsed{
		Msg:         m,
		Raw:         st.Compress(in.Data),
		Meta:        mb,
		NormSubject: patch.NormalizeSubject(m.Subject),
		ListIDs:     m.ListIDs,
		Source:      *in,
	}
	p.Source.Data = nil
	for _, h := range hooks {
		var v any
		if pr, ok := h.(Preparer); ok {
			if v, err = pr.Prepare(p); err != nil {
				return nil, err
			}
		}
		p.Prepared = append(p.Prepared, v)
	}
	return p, nil
}

func (p *Parsed) storeMessage(list, source int64) *store.NewMessage {
	m := p.Msg
	nm := &store.NewMessage{
		IDs:         m.IDs,
		References:  m.References,
		ContentHash: m.ContentHash,
		Subject:     m.Subject,
		NormSubject: p.NormSubject,
		Date:        m.Date,
		Received:    p.received(),
		Size:        m.Size,
		Meta:        p.Meta,
		Raw:         p.Raw,
		Problems:    m.Problems,
		List:        list,
		Source:      source,
	}
	if len(m.From) > 0 {
		nm.FromName, nm.FromEmail = m.From[0].Name, m.From[0].Email
	}
	return nm
}

// received is when the archive received the message: the archive's own
// record (public-inbox commit time, Maildir file time), else the newest
// Received: header.
func (p *Parsed) received() time.Time {
	if !p.Source.Received.IsZero() {
		return p.Source.Received
	}
	return p.Msg.Received
}
