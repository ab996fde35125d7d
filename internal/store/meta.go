package store

import (
	"context"
	"encoding/json"
	"fmt"

	"patchtrail/internal/message"
	"patchtrail/internal/patch"
)

// Meta is the parsed metadata kept beside each stored message (the
// messages.meta column, JSON): what listings need without parsing the raw
// message again.
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

// EncodeMeta encodes the metadata stored with a message.
func EncodeMeta(m *Meta) ([]byte, error) {
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("store: encode meta: %w", err)
	}
	return b, nil
}

// DecodeMeta reads the metadata stored with a message.
func DecodeMeta(b []byte) (*Meta, error) {
	var m Meta
	if len(b) == 0 {
		return &m, nil
	}
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("store: decode meta: %w", err)
	}
	return &m, nil
}

// Parsed is a stored message read back whole: its row, the parse of its
// raw bytes and its stored metadata.
type Parsed struct {
	Row  *Message
	Msg  *message.Message
	Meta *Meta
}

// ParsedMessage reads the message named by mid and parses it again.
func (s *Store) ParsedMessage(ctx context.Context, mid string) (*Parsed, error) {
	sm, err := s.MessageByID(ctx, mid)
	if err != nil {
		return nil, err
	}
	raw, err := s.Raw(ctx, sm.ID)
	if err != nil {
		return nil, err
	}
	pm, err := message.Parse(raw, nil)
	if err != nil {
		return nil, fmt.Errorf("store: stored message %s no longer parses: %w", sm.MessageID, err)
	}
	meta, err := DecodeMeta(sm.Meta)
	if err != nil {
		return nil, err
	}
	return &Parsed{Row: sm, Msg: pm, Meta: meta}, nil
}
