package indexer

import (
	"time"

	"patchtrail/internal/message"
	"patchtrail/internal/patch"
	"patchtrail/internal/store"
	"patchtrail/mbox"
	"patchtrail/search"
)

// Parsed is a message after the worker stage: parsed, compressed, and
// prepared by every hook.
type Parsed struct {
	Msg         *message.Message
	Raw         []byte // compressed
	Meta        []byte // encoded store.Meta
	NormSubject string
	ListIDs     []string
	Source      mbox.Message // where it was read (without its bytes)
	List        string       // the list it is being imported into (set by the writer)
	// Analysis is the message as a patch mail (patch.Analyze), made in
	// the worker for every message.
	Analysis *patch.Analysis
	// Doc is the message's search document, prepared by the search hook
	// (nil without one).
	Doc *search.Doc
	// Radar is the message's evidence for the security-fix radar,
	// prepared by the radar hook (nil without one).
	Radar []byte
}

// Parse runs the worker stage for one raw message.
func Parse(in *mbox.Message, st *store.Store, hooks []Hook) (*Parsed, error) {
	m, err := message.Parse(in.Data, nil)
	if err != nil {
		return nil, err
	}
	subj := patch.ParseSubject(m.Subject)
	meta := store.Meta{
		To: m.To, Cc: m.Cc, ListIDs: m.ListIDs, DateSource: m.DateSource,
		References: m.References,
	}
	if subj.IsPatch || subj.Reply {
		meta.Subject = &subj
	}
	for _, a := range m.Attachments {
		meta.Attachments = append(meta.Attachments, store.AttachmentMeta{Name: a.Name, Type: a.Type, Size: a.Size})
	}
	mb, err := store.EncodeMeta(&meta)
	if err != nil {
		return nil, err
	}
	p := &Parsed{
		Msg:         m,
		Raw:         st.Compress(in.Data),
		Meta:        mb,
		NormSubject: patch.NormalizeSubject(m.Subject),
		ListIDs:     m.ListIDs,
		Source:      *in,
		Analysis:    patch.Analyze(m),
	}
	p.Source.Data = nil
	for _, h := range hooks {
		if pr, ok := h.(Preparer); ok {
			if err = pr.Prepare(p); err != nil {
				return nil, err
			}
		}
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
