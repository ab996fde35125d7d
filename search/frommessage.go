package search

import (
	"patchtrail/internal/message"
	"patchtrail/internal/patch"
)

// NewDoc makes the search document of a parsed message. The caller sets
// what the store decides: the primary MessageID (when it differs from the
// message's first), ThreadID, List and Received.
//
// Every decoded text part (the body, each attached patch and each other
// text attachment) goes through
// AddBodyText, and, like public-inbox, contributes the `git patch-id
// --stable` of its first patch. A message beyond the per-message index
// limits (see Doc.Limit) is cut down, and the cut recorded in m.Problems.
func NewDoc(m *message.Message) *Doc {
	d := &Doc{
		MessageIDs: m.IDs,
		ListIDs:    m.ListIDs,
		Subject:    m.Subject,
		From:       addresses(m.From),
		To:         addresses(m.To),
		Cc:         addresses(m.Cc),
		References: m.References,
		Date:       m.Date,
		Received:   m.Received,
		Size:       int64(m.Size + m.BareLFs), // with CRLF line ends, as public-inbox counts it
	}
	if len(m.IDs) > 0 {
		d.MessageID = m.IDs[0]
	}
	addPart := func(text string) {
		d.AddBodyText(text)
		if id, err := patch.PatchID(text); err == nil {
			d.PatchIDs = append(d.PatchIDs, id)
		}
	}
	addPart(m.Text)
	for _, att := range m.Attachments {
		if att.Name != "" {
			d.AttachmentNames = append(d.AttachmentNames, att.Name)
		}
		if len(att.Data) > 0 {
			addPart(string(att.Data))
		}
		if len(att.Text) > 0 {
			// A text attachment (a log, a config, a reproducer) is body
			// text to public-inbox's b: and default search.
			addPart(string(att.Text))
		}
	}
	if p := d.Limit(); p != "" {
		m.Problems = append(m.Problems, p)
	}
	return d
}

func addresses(as []message.Address) []Address {
	out := make([]Address, 0, len(as))
	for _, a := range as {
		out = append(out, Address{Name: a.Name, Addr: a.Email})
	}
	return out
}
