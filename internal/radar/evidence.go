package radar

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"

	"patchtrail/internal/message"
	"patchtrail/internal/patch"
	"patchtrail/internal/store"
)

// Rules names the evidence rules (every lexicon and diff pattern):
// evidence stored with other rules is read again from the message.
func Rules() string { return rulesVersion }

// Evidence reads a parsed message's evidence, encoded to be stored with
// the message (store.Tx.PutRadarEvidence). a is the message's patch
// analysis (patch.Analyze; nil: made here): its diffs and trailers are
// read, not parsed again. What the store already keeps of the message
// (Message-ID, thread, date, sender, parent, subject) is not repeated:
// it is joined back when the evidence is read.
func Evidence(pm *message.Message, a *patch.Analysis) []byte {
	if a == nil {
		a = patch.Analyze(pm)
	}
	m := newMail()
	analyze(m, pm, a)
	r := m.record()
	b, err := json.Marshal(&r)
	if err != nil {
		panic("radar: evidence does not encode: " + err.Error()) // plain data: cannot happen
	}
	return b
}

// fromStored joins a stored message's header to its decoded evidence.
func fromStored(h *store.RadarHeader, ev *Record) *mail {
	r := *ev
	r.ID, r.MID, r.Thread, r.Date, r.From, r.Parent, r.Subject = h.ID, h.MessageID, h.Thread, h.Date, h.From, h.Parent, h.Subject
	m := r.mail()
	m.from = strings.ToLower(m.from)
	return m
}

// decodeEvidence reads evidence written by Evidence.
func decodeEvidence(id int64, b []byte) (*Record, error) {
	var r Record
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("radar: evidence of message row %d: %w", id, err)
	}
	return &r, nil
}

// slimRecord holds the members of stored evidence that a slim mail keeps
// (mail.slim, Record.mail without Record.text): an update reads every
// patch posting's evidence only to slim it, and decoding the words and
// text evidence it drops was most of the decoding. The json names are
// Record's (TestSlimRecordFields).
type slimRecord struct {
	Key       string      `json:"key,omitempty"`
	Kind      uint8       `json:"kind,omitempty"`
	Version   int         `json:"version,omitempty"`
	RFC       bool        `json:"rfc,omitempty"`
	PatchTag  bool        `json:"patchtag,omitempty"`
	Tree      int8        `json:"tree,omitempty"`
	Fixes     [][2]string `json:"fixes,omitempty"`
	CcStable  bool        `json:"ccstable,omitempty"`
	Reporters []string    `json:"reporters,omitempty"`
	Links     []string    `json:"links,omitempty"`
	Closes    bool        `json:"closes,omitempty"`
	Shape     Shape       `json:"shape,omitempty"`
	PatchID   string      `json:"patchid,omitempty"`
}

// decodeSlimEvidence reads evidence written by Evidence without its
// text evidence (Record.text is empty), for a mail about to be slimmed.
func decodeSlimEvidence(id int64, b []byte) (*Record, error) {
	var r slimRecord
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("radar: evidence of message row %d: %w", id, err)
	}
	return &Record{Key: r.Key, Kind: r.Kind, Version: r.Version, RFC: r.RFC, PatchTag: r.PatchTag, Tree: r.Tree,
		Fixes: r.Fixes, CcStable: r.CcStable, Reporters: r.Reporters, Links: r.Links, Closes: r.Closes,
		Shape: r.Shape, PatchID: r.PatchID}, nil
}

// kindField is how Record's kind starts in stored evidence.
var kindField = []byte(`"kind":`)

// storedKind reads the kind of stored evidence without decoding the rest
// (kindOther when it has none, or when the evidence does not decode: a
// decoded record reads it the same). Inside a JSON string a quote is
// escaped, so the first `"kind":` of the text is the member.
func storedKind(b []byte) kind {
	i := bytes.Index(b, kindField)
	if i < 0 {
		return kindOther
	}
	n, rest := 0, b[i+len(kindField):]
	for len(rest) > 0 && rest[0] >= '0' && rest[0] <= '9' && n < 256 {
		n = n*10 + int(rest[0]-'0')
		rest = rest[1:]
	}
	return kind(n)
}
