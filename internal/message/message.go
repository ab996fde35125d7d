// Package message turns one raw mail message (RFC 5322 header and body, MIME
// per RFC 2045–2049, encoded words per RFC 2047, parameters per RFC 2231) into
// the domain value the rest of patchtrail works with: identity (Message-IDs,
// cleaned parent candidates, content hash for dedup, as public-inbox does),
// addresses, a normalised date, the decoded text split into quoted and
// non-quoted lines, and attachments.
//
// Parsing is tolerant, because real archives are not RFC-clean: line ends are
// LF or CRLF (mixed within one message), bodies hold NUL bytes and invalid
// UTF-8, charsets are unknown or lie (us-ascii bodies with 8-bit bytes),
// transfer encodings are broken (quoted-printable with control bytes, base64
// with junk), multiparts lack their closing boundary, Date headers use
// layouts no RFC ever allowed ("Mon, 3 Jan 2005 10:00 EST", two-digit years,
// "GMT+0100"), address lists do not parse and In-Reply-To holds "y" or an
// e-mail address. None of that is fatal: the message is kept and each
// deviation is recorded in Message.Problems. Parse fails only for bytes that
// are not a mail at all (ErrNotMail).
//
// The header block is split by this package, because it must survive
// malformed lines; values are unfolded only when read, as most of the
// header bytes of list mail are Received, DKIM and ARC fields nobody reads.
// github.com/emersion/go-message does the transfer and charset decoding of
// each MIME part (its charset package supplies the charsets; a part it
// cannot decode is decoded leniently here) and net/mail, with go-message's
// word decoder, parses address lists that are not plain "Name <a@b>" lists.
// The MIME tree is split in memory: a missing closing boundary or junk
// between parts loses nothing.
//
// Parse is safe for concurrent use; a Message is immutable once returned
// (callers must not modify its slices).
package message

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ErrNotMail reports bytes that are not a mail message: empty input, no
// header line at the start, binary garbage. Parse wraps it.
var ErrNotMail = errors.New("message: not a mail message")

// Date sources, the values of Message.DateSource.
const (
	DateFromHeader = "date"          // the Date header, RFC 5322 or an obsolete form net/mail accepts
	DateFallback   = "date-fallback" // the Date header, in a known bad layout
	DateReceived   = "received"      // the newest Received header with a date
	DateNone       = "none"          // no usable date; Message.Date is zero
)

// Address is one mailbox of an address header.
type Address struct {
	Name  string // display name, RFC 2047-decoded; may be empty
	Email string // addr-spec as written (case kept)
}

// Key is the compare form of the address: the e-mail lowercased.
func (a Address) Key() string { return strings.ToLower(a.Email) }

// String formats the address for display as `Name <email>` (no quoting).
func (a Address) String() string {
	if a.Name == "" {
		return a.Email
	}
	return a.Name + " <" + a.Email + ">"
}

// Attachment is a MIME part that is not part of the message text.
type Attachment struct {
	Name string // file name (Content-Disposition filename or Content-Type name), decoded
	Type string // media type, lowercased, e.g. "text/x-patch", "message/rfc822"
	Size int    // size of the decoded content in bytes
	// Data is the decoded content of patch attachments only (text/x-patch,
	// text/x-diff, and text/plain or application/octet-stream parts named
	// *.patch or *.diff): UTF-8, CRLF→LF. Nil for every other attachment.
	Data []byte
	// Text is the decoded content of the other attachments that are text,
	// as public-inbox indexes them for search: text/* but HTML, and
	// application/octet-stream holding only printable UTF-8. Valid
	// UTF-8, CRLF→LF; nil otherwise.
	Text []byte
}

// Message is one parsed mail.
type Message struct {
	// IDs are the Message-IDs, without <>, in header order, deduplicated;
	// ids longer than 244 bytes are dropped. Usually one; empty when the
	// message has none.
	IDs []string
	// References are the parent candidates, oldest first, the direct
	// parent last: References then In-Reply-To, deduplicated keeping the
	// last position, minus the message's own ids, minus ids equal to an
	// address in From/To/Cc, minus junk (no '@', "y", "n") and ids longer
	// than 244 bytes.
	References []string

	Subject string // RFC 2047-decoded, unfolded, valid UTF-8
	From    []Address
	Sender  []Address
	To      []Address
	Cc      []Address

	// Date is the message date in UTC; DateSource tells where it came from
	// (DateFromHeader, DateFallback, DateReceived, DateNone).
	Date       time.Time
	DateSource string
	// Received is the date of the newest Received header that has one, in
	// UTC; zero when there is none.
	Received time.Time

	// ListIDs are the List-Id values: the id inside <>, e.g.
	// "io-uring.vger.kernel.org".
	ListIDs []string

	// Text is the decoded text of the message: every text/plain part that
	// is not an attachment, in order, as valid UTF-8 with LF line ends.
	Text string
	// NonQuoted is Text without quoted lines (starting with '>') and
	// without the attribution line ("On ... wrote:") before a quote.
	NonQuoted string
	// Quoted holds the quoted lines of Text.
	Quoted string
	// HTML is set when the message had no text/plain part but text/html:
	// Text is then a tag-stripped rendering of the HTML.
	HTML bool

	Attachments []Attachment

	// Header gives access to all header fields (unfolded, not decoded).
	Header Header
	// RawHeader is a copy of the header block as it was, line ends
	// included, without the blank line that ends it. Header reads its
	// values from it: do not modify.
	RawHeader []byte

	Size int // length of the raw message in bytes
	// BareLFs counts the line feeds of the raw message not preceded by a
	// carriage return: Size + BareLFs is its size with CRLF line ends,
	// IMAP's RFC822.SIZE, which public-inbox's z: searches.
	BareLFs int
	// ContentHash identifies the content for deduplication; see hash.go
	// for the exact byte encoding.
	ContentHash [32]byte

	// Problems describes each deviation found, as "kind: detail" (or just
	// "kind"); see ProblemKind. Never fatal.
	Problems []string
}

// Get returns the first value of the named header field (case-insensitive),
// unfolded but not decoded; "" when absent.
func (m *Message) Get(name string) string { return m.Header.Get(name) }

// Options tunes Parse. A nil *Options means defaults.
type Options struct {
	// Now is the reference time for the "Date in the future" check; zero
	// means time.Now().
	Now time.Time
}

func (o *Options) withDefaults() Options {
	var out Options
	if o != nil {
		out = *o
	}
	if out.Now.IsZero() {
		out.Now = time.Now()
	}
	return out
}

// maxProblems bounds Message.Problems for pathological input.
const maxProblems = 64

// ProblemKind returns the kind of a problem string: the text before ": ",
// e.g. "unknown charset" for `unknown charset: "x-foo" in part 2`.
func ProblemKind(p string) string {
	if i := strings.Index(p, ": "); i >= 0 {
		return p[:i]
	}
	return p
}

// Parse parses one raw message. The result does not reference raw, which
// the caller may reuse. The error is non-nil (and wraps ErrNotMail) only
// when raw is not a mail at all; every other defect yields a Message with
// Problems.
func Parse(raw []byte, opts *Options) (*Message, error) {
	p := &parser{opts: opts.withDefaults(), m: &Message{Size: len(raw), BareLFs: bytes.Count(raw, lf) - bytes.Count(raw, crlf)}}
	if err := p.parse(raw); err != nil {
		return nil, err
	}
	return p.m, nil
}

var lf, crlf = []byte("\n"), []byte("\r\n")

// parser holds the state of one Parse call.
type parser struct {
	opts Options
	m    *Message

	dateRaw string     // Date header value, for the content hash
	dateOK  bool       // Date came from the Date header
	attDigs [][32]byte // digest of each attachment's content, for the content hash
}

func (p *parser) problem(format string, args ...any) {
	switch n := len(p.m.Problems); {
	case n < maxProblems:
		p.m.Problems = append(p.m.Problems, fmt.Sprintf(format, args...))
	case n == maxProblems:
		p.m.Problems = append(p.m.Problems, "too many problems")
	}
}

func (p *parser) parse(raw []byte) error {
	start := skipMboxFrom(raw)
	h, hdrEnd, bodyOff, err := splitHeader(raw[start:], true, p)
	if err != nil {
		return err
	}
	h.raw = append([]byte(nil), raw[start:start+hdrEnd]...)
	p.m.RawHeader = h.raw
	p.m.Header = h

	p.parseAddresses()
	p.parseIdentity()
	p.parseSubject()
	p.parseDate()
	p.parseBody(raw[start+bodyOff:])
	p.m.ContentHash = p.contentHash()
	return nil
}

// skipMboxFrom returns the offset after a leading mbox "From " line, if any.
func skipMboxFrom(raw []byte) int {
	if len(raw) < 5 || string(raw[:5]) != "From " {
		return 0
	}
	for i, c := range raw {
		if c == '\n' {
			return i + 1
		}
	}
	return len(raw)
}

// quote formats a value for a problem message: Go-quoted (so problems are
// valid UTF-8) and truncated to 80 bytes.
func quote(s string) string {
	const max = 80
	if len(s) > max {
		return strconv.Quote(s[:max]) + "…"
	}
	return strconv.Quote(s)
}
