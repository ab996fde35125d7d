package message

import (
	"crypto/sha256"
	"encoding/binary"
	"hash"
	"strings"
	"sync"
	"time"
)

// ContentHashVersion names the encoding of Message.ContentHash; it is the
// first record hashed and changes whenever the encoding does, so a store
// can tell stale hashes.
const ContentHashVersion = "patchtrail-content-v1"

// contentHash computes Message.ContentHash, the dedup key of public-inbox
// semantics (same Message-ID + same hash = the same message). It is SHA-256
// over a sequence of records, each
//
//	tag 0x00 uvarint(len(value)) value
//
// in this order:
//
//	"v"       ContentHashVersion
//	"from"    each From address: lowercased e-mail 0x00 name (whitespace collapsed)
//	"sender"  each Sender address, same form
//	"subject" the decoded Subject, whitespace collapsed
//	"date"    the Date header's instant as UTC "2006-01-02T15:04:05Z" when it parsed
//	          (DateFromHeader, DateFallback), else the raw Date value with
//	          whitespace collapsed ("" when absent); never a Received date
//	"ref"     each entry of Message.References (References + In-Reply-To,
//	          own ids removed), in order
//	"to"      each To address
//	"cc"      each Cc address
//	"html"    "1", only when Text is a rendering of HTML
//	"text"    SHA-256 of Text normalised: LF line ends, trailing whitespace
//	          stripped from every line, trailing blank lines dropped
//	"att"     each attachment: type 0x00 name 0x00 SHA-256 of its decoded
//	          content normalised like Text
//
// Message-IDs, List-Id, Received and all other header fields are left out,
// so the copy of a message delivered through another list or relay, or
// stored with CRLF instead of LF line ends, hashes the same.
func (p *parser) contentHash() [32]byte {
	m := p.m
	w := newHashWriter()
	defer hashWriters.Put(w)
	addrs := func(tag string, l []Address) {
		for _, a := range l {
			name := collapseSpace(a.Name)
			w.header(tag, len(a.Email)+1+len(name))
			w.write(strings.ToLower(a.Email))
			w.write("\x00")
			w.write(name)
		}
	}

	w.record("v", ContentHashVersion)
	addrs("from", m.From)
	addrs("sender", m.Sender)
	w.record("subject", collapseSpace(m.Subject))
	if p.dateOK {
		w.record("date", m.Date.UTC().Format(time.RFC3339))
	} else {
		w.record("date", collapseSpace(p.dateRaw))
	}
	for _, r := range m.References {
		w.record("ref", r)
	}
	addrs("to", m.To)
	addrs("cc", m.Cc)
	if m.HTML {
		w.record("html", "1")
	}
	text := contentDigest(m.Text)
	w.header("text", len(text))
	w.writeBytes(text[:])
	for i, a := range m.Attachments {
		w.header("att", len(a.Type)+1+len(a.Name)+1+sha256.Size)
		w.write(a.Type)
		w.write("\x00")
		w.write(a.Name)
		w.write("\x00")
		w.writeBytes(p.attDigs[i][:])
	}
	return w.sum()
}

// contentDigest is the SHA-256 of content in its normalised text form.
func contentDigest[T string | []byte](content T) [32]byte {
	w := newHashWriter()
	defer hashWriters.Put(w)
	writeNormalized(w, content)
	return w.sum()
}

// hashWriter buffers small writes (pieces of lines, record headers) in
// front of a hash, so strings need no conversion to []byte.
type hashWriter struct {
	h   hash.Hash
	n   int
	buf [8192]byte
}

var hashWriters = sync.Pool{New: func() any { return &hashWriter{h: sha256.New()} }}

// newHashWriter returns a reset hashWriter from the pool.
func newHashWriter() *hashWriter {
	w := hashWriters.Get().(*hashWriter)
	w.h.Reset()
	w.n = 0
	return w
}

// write appends s to the buffer, flushing to the hash when full.
func (w *hashWriter) write(s string) {
	for len(s) > 0 {
		if w.n == len(w.buf) {
			w.flush()
		}
		k := copy(w.buf[w.n:], s)
		w.n += k
		s = s[k:]
	}
}

func (w *hashWriter) writeBytes(b []byte) {
	if len(b) >= len(w.buf) {
		w.flush()
		w.h.Write(b)
		return
	}
	for len(b) > 0 {
		if w.n == len(w.buf) {
			w.flush()
		}
		k := copy(w.buf[w.n:], b)
		w.n += k
		b = b[k:]
	}
}

const nlRun = "\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n\n"

func (w *hashWriter) newlines(k int) {
	for k > 0 {
		c := min(k, len(nlRun))
		w.write(nlRun[:c])
		k -= c
	}
}

// header writes a record header: tag 0x00 uvarint(size).
func (w *hashWriter) header(tag string, size int) {
	if len(w.buf)-w.n < len(tag)+1+binary.MaxVarintLen64 {
		w.flush()
	}
	w.n += copy(w.buf[w.n:], tag)
	w.buf[w.n] = 0
	w.n++
	w.n += binary.PutUvarint(w.buf[w.n:], uint64(size))
}

// record writes a whole record with a string value.
func (w *hashWriter) record(tag, value string) {
	w.header(tag, len(value))
	w.write(value)
}

func (w *hashWriter) flush() {
	w.h.Write(w.buf[:w.n])
	w.n = 0
}

func (w *hashWriter) sum() (out [32]byte) {
	w.flush()
	w.h.Sum(out[:0])
	return out
}

// collapseSpace trims s and turns every whitespace run into one space.
func collapseSpace(s string) string {
	clean := true
	prevSpace := true
	for i := 0; i < len(s); i++ {
		sp := isSpaceByte(s[i]) || s[i] == '\v'
		if sp && (prevSpace || s[i] != ' ') {
			clean = false
			break
		}
		prevSpace = sp
	}
	if clean && !prevSpace {
		return s
	}
	return strings.Join(strings.Fields(s), " ")
}
