package main

import (
	"bytes"
	"fmt"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// msg is one mail as data. render turns it into RFC 5322 bytes with LF
// line ends; body and header values are written verbatim (8-bit allowed).
type msg struct {
	from, to, cc string
	subject      string
	date         time.Time
	rawDate      string // overrides date when set (bogus-date fixtures)
	id           string // without <>; "" means no Message-ID header
	irt          string
	refs         []string
	hdr          []string // extra "Name: value" lines, after the standard ones
	body         string
}

func (m *msg) render() []byte {
	var b strings.Builder
	put := func(name, v string) {
		if v != "" {
			fmt.Fprintf(&b, "%s: %s\n", name, v)
		}
	}
	put("From", m.from)
	put("To", m.to)
	put("Cc", m.cc)
	put("Subject", m.subject)
	switch m.rawDate {
	case omitDate:
	case emptyDate:
		b.WriteString("Date:\n")
	case "":
		put("Date", m.date.Format(time.RFC1123Z))
	default:
		put("Date", m.rawDate)
	}
	if m.id != "" {
		put("Message-ID", "<"+m.id+">")
	}
	if m.irt != "" {
		put("In-Reply-To", "<"+m.irt+">")
	}
	if len(m.refs) > 0 {
		put("References", "<"+strings.Join(m.refs, ">\n <")+">")
	}
	for _, h := range m.hdr {
		b.WriteString(h + "\n")
	}
	b.WriteString("\n" + m.body)
	if !strings.HasSuffix(m.body, "\n") {
		b.WriteString("\n")
	}
	return []byte(b.String())
}

// envelope is the mbox "From " separator line for m.
func (m *msg) envelope() string {
	addr := m.from
	if i, j := strings.LastIndex(addr, "<"), strings.LastIndex(addr, ">"); i >= 0 && j > i {
		addr = addr[i+1 : j]
	}
	if addr == "" {
		addr = "MAILER-DAEMON"
	}
	d := m.date
	if d.IsZero() {
		d = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	return "From " + addr + " " + d.UTC().Format(time.ANSIC)
}

type variant int

const (
	mboxrd  variant = iota // every ^>*From  line gains one '>'
	mboxo                  // only ^From  gains a '>' (ambiguous on read)
	mboxcl                 // mboxo quoting plus Content-Length
	mboxcl2                // Content-Length, no quoting at all
	mboxraw                // no quoting and no Content-Length: what careless writers produce
)

var (
	rdFrom = regexp.MustCompile(`(?m)^(>*From )`)
	oFrom  = regexp.MustCompile(`(?m)^From `)
)

// writeMbox serialises msgs in the given variant. Each message is followed
// by one blank separator line, which Content-Length does not count.
func writeMbox(v variant, msgs []*msg) []byte {
	var out bytes.Buffer
	for _, m := range msgs {
		raw := m.render()
		head, body, _ := bytes.Cut(raw, []byte("\n\n"))
		switch v {
		case mboxrd:
			body = rdFrom.ReplaceAll(body, []byte(">$1"))
		case mboxo, mboxcl:
			body = oFrom.ReplaceAll(body, []byte(">From "))
		}
		out.WriteString(m.envelope() + "\n")
		out.Write(head)
		if v == mboxcl || v == mboxcl2 {
			fmt.Fprintf(&out, "\nContent-Length: %d", len(body))
		}
		out.WriteString("\n\n")
		out.Write(body)
		out.WriteString("\n")
	}
	return out.Bytes()
}

// readMboxrd splits and unescapes an mboxrd file: the self-check's reader.
func readMboxrd(data []byte) [][]byte {
	var msgs [][]byte
	var cur *bytes.Buffer
	for _, line := range bytes.SplitAfter(data, []byte("\n")) {
		if bytes.HasPrefix(line, []byte("From ")) {
			if cur != nil {
				msgs = append(msgs, cur.Bytes())
			}
			cur = new(bytes.Buffer)
			continue
		}
		if cur == nil {
			continue
		}
		if bytes.HasPrefix(bytes.TrimLeft(line, ">"), []byte("From ")) && line[0] == '>' {
			line = line[1:]
		}
		cur.Write(line)
	}
	if cur != nil {
		msgs = append(msgs, cur.Bytes())
	}
	for i, m := range msgs { // drop the separator blank line
		msgs[i] = bytes.TrimSuffix(m, []byte("\n"))
	}
	return msgs
}

var clHeader = regexp.MustCompile(`(?m)^Content-Length: (\d+)\n\n`)

// countMboxcl walks a Content-Length mbox and returns its message count,
// failing if a length does not land on a separator.
func countMboxcl(data []byte) (int, error) {
	n := 0
	for len(data) > 0 {
		if !bytes.HasPrefix(data, []byte("From ")) {
			return n, fmt.Errorf("message %d: no From line at %q", n+1, head(data))
		}
		loc := clHeader.FindSubmatchIndex(data)
		if loc == nil {
			return n, fmt.Errorf("message %d: no Content-Length", n+1)
		}
		l, _ := strconv.Atoi(string(data[loc[2]:loc[3]]))
		data = data[loc[1]+l:]
		if !bytes.HasPrefix(data, []byte("\n")) {
			return n, fmt.Errorf("message %d: body not followed by blank line", n+1)
		}
		data, n = data[1:], n+1
	}
	return n, nil
}

func head(b []byte) []byte { return b[:min(len(b), 40)] }

// countSeparators counts lines starting with "From " (LF or CRLF files).
func countSeparators(data []byte) int {
	n := 0
	for _, line := range bytes.SplitAfter(data, []byte("\n")) {
		if bytes.HasPrefix(line, []byte("From ")) {
			n++
		}
	}
	return n
}

// maildirName is a deterministic Maildir file name; flags "" means new/.
func maildirName(m *msg, i int, flags string) string {
	name := fmt.Sprintf("%d.M%dP4242Q%d.patchtrail.example", m.date.Unix(), 100000+i, i+1)
	if flags == "" {
		return filepath.Join("new", name)
	}
	return filepath.Join("cur", name+":2,"+flags)
}
