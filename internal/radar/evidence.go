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

// slimRecord decodes stored evidence into Record without its text
// evidence (what Record.text reads): an update reads every patch
// posting's evidence only to slim it (mail.slim), and decoding the words
// and text evidence it drops was most of the decoding. Its members
// shadow Record's of the same json name and skip their values; every
// other member is Record's own (TestSlimRecordFields).
type slimRecord struct {
	*Record
	Reports  skipped `json:"reports"`
	Reviewer skipped `json:"reviewer"`
	Trailers skipped `json:"trailers"`
	Applied  skipped `json:"applied"`
	Nak      skipped `json:"nak"`
	Vuln     skipped `json:"vuln"`
	SubjVuln skipped `json:"subjvuln"`
	Baseline skipped `json:"baseline"`
	Reviewed skipped `json:"reviewed"`
	FixWord  skipped `json:"fixword"`
	Feature  skipped `json:"feature"`
	Cleanup  skipped `json:"cleanup"`
	Words    skipped `json:"words"`
}

// skipped is a member of stored evidence that slimRecord leaves out.
type skipped struct{}

func (*skipped) UnmarshalJSON([]byte) error { return nil }

// decodeSlimEvidence reads evidence written by Evidence without its
// text evidence (Record.text is empty), for a mail about to be slimmed.
func decodeSlimEvidence(id int64, b []byte) (*Record, error) {
	r := slimRecord{Record: &Record{}}
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("radar: evidence of message row %d: %w", id, err)
	}
	return r.Record, nil
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
