package message

import (
	"bytes"
	"encoding/base64"
	"io"
	"mime"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	gomessage "github.com/emersion/go-message"
	"github.com/emersion/go-message/textproto"
)

// maxDepth bounds MIME nesting; deeper parts are skipped with a problem.
const maxDepth = 16

// partInfo is what the MIME walk needs from a part's header.
type partInfo struct {
	mediaType   string            // lowercased, e.g. "text/plain"
	params      map[string]string // Content-Type parameters, keys lowercased
	disposition string            // lowercased, "" when absent
	dparams     map[string]string // Content-Disposition parameters
	cte         string            // Content-Transfer-Encoding, lowercased and trimmed
}

func (pi *partInfo) charset() string {
	return strings.ToLower(strings.Trim(strings.TrimSpace(pi.params["charset"]), `"'`))
}

func (pi *partInfo) filename() string {
	if n := pi.dparams["filename"]; n != "" {
		return n
	}
	return pi.params["name"]
}

// walker collects the text and attachments of the MIME tree.
type walker struct {
	p     *parser
	plain []string // decoded text/plain parts (valid UTF-8, LF)
	html  []string // decoded text/html parts
}

// parseBody walks the MIME tree of the body and fills Text, NonQuoted,
// Quoted, HTML and Attachments.
func (p *parser) parseBody(body []byte) {
	w := &walker{p: p}
	w.entity(p.m.Header, body, "", 0, "text/plain")
	m := p.m
	texts := w.plain
	if len(texts) == 0 && len(w.html) > 0 {
		m.HTML = true
		texts = make([]string, len(w.html))
		for i, h := range w.html {
			texts[i] = htmlToText(h)
		}
	}
	m.Text = joinParts(texts)
	m.NonQuoted, m.Quoted = splitQuotes(m.Text)
}

// joinParts concatenates text parts, making sure each part starts on a new
// line.
func joinParts(parts []string) string {
	switch len(parts) {
	case 0:
		return ""
	case 1:
		return parts[0]
	}
	n := 0
	for _, s := range parts {
		n += len(s) + 1
	}
	var sb strings.Builder
	sb.Grow(n)
	for _, s := range parts {
		if sb.Len() > 0 && !strings.HasSuffix(sb.String(), "\n") {
			sb.WriteByte('\n')
		}
		sb.WriteString(s)
	}
	return sb.String()
}

// partName is the IMAP-style part number for problems: "1", "2.1".
func partName(path string) string {
	if path == "" {
		return "1"
	}
	return path
}

func childPath(parent string, i int) string {
	if parent == "" {
		return strconv.Itoa(i)
	}
	return parent + "." + strconv.Itoa(i)
}

func (w *walker) entity(h Header, body []byte, path string, depth int, defType string) {
	p := w.p
	pi := w.partInfo(h, defType, path)
	if !strings.HasPrefix(pi.mediaType, "multipart/") {
		w.leaf(&pi, body, path)
		return
	}
	boundary := pi.params["boundary"]
	if boundary == "" {
		p.problem("multipart without boundary: in part %s", partName(path))
		pi.mediaType, pi.params = "text/plain", nil
		w.leaf(&pi, body, path)
		return
	}
	parts, closed := splitMultipart(body, boundary)
	if parts == nil {
		p.problem("multipart without parts: in part %s", partName(path))
		pi.mediaType, pi.params = "text/plain", nil
		w.leaf(&pi, body, path)
		return
	}
	if !closed {
		p.problem("multipart without closing boundary: in part %s", partName(path))
	}
	if depth >= maxDepth {
		p.problem("MIME nesting too deep: in part %s", partName(path))
		return
	}
	childType := "text/plain"
	if pi.mediaType == "multipart/digest" {
		childType = "message/rfc822"
	}
	for i, part := range parts {
		pf, _, bodyOff, _ := splitHeader(part, false, p)
		w.entity(pf, part[bodyOff:], childPath(path, i+1), depth+1, childType)
	}
}

// partInfo reads Content-Type, Content-Disposition and
// Content-Transfer-Encoding tolerantly.
func (w *walker) partInfo(h Header, defType, path string) partInfo {
	var pi partInfo
	ct, cd := h.Get("Content-Type"), h.Get("Content-Disposition")
	pi.cte = strings.ToLower(strings.TrimSpace(h.Get("Content-Transfer-Encoding")))
	pi.mediaType, pi.params = defType, nil
	if strings.TrimSpace(ct) != "" {
		mt, params, ok := parseMediaType(ct)
		if !ok {
			w.p.problem("bad Content-Type: %s in part %s", quote(ct), partName(path))
		}
		if strings.IndexByte(mt, '/') > 0 {
			pi.mediaType, pi.params = mt, params
		} else if params != nil {
			pi.params = params // "text; charset=..." keeps its charset
		}
	}
	if strings.TrimSpace(cd) != "" {
		pi.disposition, pi.dparams, _ = parseMediaType(cd)
	}
	return pi
}

// parseMediaType is mime.ParseMediaType with a fallback for the broken
// values seen in real mail (unquoted spaces, unterminated quotes, duplicate
// parameters): type and ;-separated key=value pairs. ok is false when the
// fallback was needed.
func parseMediaType(v string) (mt string, params map[string]string, ok bool) {
	mt, params, err := mime.ParseMediaType(v)
	if err == nil {
		return mt, params, true
	}
	pieces := strings.Split(v, ";")
	mt = strings.ToLower(strings.TrimSpace(pieces[0]))
	params = make(map[string]string)
	for _, piece := range pieces[1:] {
		k, val, found := strings.Cut(piece, "=")
		if !found {
			continue
		}
		k = strings.ToLower(strings.TrimSpace(k))
		k = strings.TrimSuffix(k, "*")
		val = strings.Trim(strings.TrimSpace(val), `"'`)
		if _, dup := params[k]; !dup && k != "" {
			params[k] = val
		}
	}
	return mt, params, false
}

// isPatchAttachment tells which attachments keep their Data.
func isPatchAttachment(pi *partInfo) bool {
	switch pi.mediaType {
	case "text/x-patch", "text/x-diff", "text/patch", "text/diff", "application/x-patch", "application/x-diff":
		return true
	case "text/plain", "application/octet-stream":
		n := strings.ToLower(pi.filename())
		return strings.HasSuffix(n, ".patch") || strings.HasSuffix(n, ".diff")
	}
	return false
}

func (w *walker) leaf(pi *partInfo, raw []byte, path string) {
	p := w.p
	isAttachment := pi.disposition == "attachment"
	switch {
	case isPatchAttachment(pi) && (path != "" || isAttachment || pi.filename() != ""):
		data, unknown := w.decode(pi, raw, path)
		text := []byte(p.toText(data, unknown, path))
		w.attachment(pi, text, text)
	case path == "" && strings.HasPrefix(pi.mediaType, "text/") && pi.mediaType != "text/html" && !isAttachment,
		pi.mediaType == "text/plain" && !isAttachment:
		data, unknown := w.decode(pi, raw, path)
		w.plain = append(w.plain, p.toText(data, unknown, path))
	case pi.mediaType == "text/html" && !isAttachment:
		data, unknown := w.decode(pi, raw, path)
		w.html = append(w.html, p.toText(data, unknown, path))
	default:
		data, _ := w.decode(pi, raw, path)
		w.attachment(pi, data, nil)
		if t := searchableText(pi.mediaType, data); t != nil {
			p.m.Attachments[len(p.m.Attachments)-1].Text = t
		}
	}
}

// searchableText is the text of an attachment that public-inbox indexes
// (PublicInbox::MsgIter::msg_part_text): text/* other than HTML, and
// application/octet-stream when it is printable UTF-8; nil otherwise.
func searchableText(mediaType string, data []byte) []byte {
	switch {
	case mediaType == "text/html" || mediaType == "text/xhtml":
		return nil
	case strings.HasPrefix(mediaType, "text/"):
	case mediaType == "application/octet-stream":
		if !utf8.Valid(data) {
			return nil
		}
		for _, r := range string(data) {
			if !unicode.IsPrint(r) && !unicode.IsSpace(r) {
				return nil
			}
		}
	default:
		return nil
	}
	if bytes.IndexByte(data, '\r') >= 0 {
		data = dropCRs(data)
	}
	return bytes.ToValidUTF8(data, []byte("\uFFFD"))
}

// attachment records an attachment of the given decoded content, keeping
// data (nil or the content) in Attachment.Data, and the content's digest
// for the content hash.
func (w *walker) attachment(pi *partInfo, content, data []byte) {
	p := w.p
	name := pi.filename()
	if name != "" {
		name = p.decodeText("attachment name", name)
	}
	p.m.Attachments = append(p.m.Attachments, Attachment{Name: name, Type: pi.mediaType, Size: len(content), Data: data})
	p.attDigs = append(p.attDigs, contentDigest(content))
}

// isIdentity reports the transfer encodings that need no decoding; odd
// spellings seen in the wild count as identity.
func isIdentity(cte string) bool {
	switch cte {
	case "", "7bit", "8bit", "binary", "7-bit", "8-bit", "8bits", "7bits", "none":
		return true
	}
	return false
}

// decode undoes the transfer encoding and, for text parts, converts the
// charset to UTF-8, through go-message. unknownCharset reports a charset
// that could not be converted: the data is then in that charset still.
// The result may alias raw.
func (w *walker) decode(pi *partInfo, raw []byte, path string) (data []byte, unknownCharset bool) {
	p := w.p
	isText := strings.HasPrefix(pi.mediaType, "text/")
	cs := ""
	if isText {
		cs = pi.charset()
		switch cs {
		case "utf-8", "us-ascii", "utf8", "ascii", "":
			cs = ""
		}
	}
	cte := pi.cte
	if !isIdentity(cte) && cte != "quoted-printable" && cte != "base64" {
		p.problem("unknown transfer encoding: %s in part %s", quote(cte), partName(path))
		cte = ""
	}
	if cs == "utf-7" || cs == "unicode-1-1-utf-7" || cs == "csunicode11utf7" {
		// Outlook still sends UTF-7, which golang.org/x/text lacks.
		data, unknownCharset = w.decode(&partInfo{mediaType: "application/octet-stream", cte: pi.cte}, raw, path)
		return utf7ToUTF8(data), unknownCharset
	}
	if isIdentity(cte) && cs == "" {
		return raw, false
	}
	var th textproto.Header
	if !isIdentity(cte) {
		th.Add("Content-Transfer-Encoding", cte)
	}
	if cs != "" {
		if ct := mime.FormatMediaType("text/plain", map[string]string{"charset": cs}); ct != "" {
			th.Add("Content-Type", ct)
		} else {
			unknownCharset = true
		}
	}
	ent, err := gomessage.New(gomessage.Header{Header: th}, bytes.NewReader(raw))
	if gomessage.IsUnknownCharset(err) {
		unknownCharset = true
	}
	if unknownCharset {
		p.problem("unknown charset: %s in part %s", quote(cs), partName(path))
	}
	var buf bytes.Buffer
	buf.Grow(len(raw) + 512)
	_, err = buf.ReadFrom(ent.Body)
	if err == nil {
		return buf.Bytes(), unknownCharset
	}
	// go-message's decoders stop at the first defect (quoted-printable
	// control bytes or over-long lines, base64 junk): decode leniently.
	p.problem("bad transfer encoding: %s in part %s: %v", cte, partName(path), err)
	data = lenientDecode(cte, raw)
	if cs != "" && !unknownCharset {
		if r, err := charsetReader(cs, bytes.NewReader(data)); err == nil {
			if conv, err := io.ReadAll(r); err == nil {
				data = conv
			}
		}
	}
	return data, unknownCharset
}

// toText turns decoded part data into valid UTF-8 with LF line ends: data in
// an unknown charset is taken as UTF-8 when valid, else as ISO-8859-1;
// remaining invalid UTF-8 becomes U+FFFD (with a problem).
func (p *parser) toText(data []byte, unknownCharset bool, path string) string {
	if unknownCharset && !utf8.Valid(data) {
		data = latin1ToUTF8(data)
	}
	if bytes.IndexByte(data, '\r') >= 0 {
		data = dropCRs(data)
	}
	if !utf8.Valid(data) {
		p.problem("invalid UTF-8: in part %s", partName(path))
		return strings.ToValidUTF8(string(data), "\uFFFD")
	}
	return string(data)
}

// dropCRs removes the CRs before each LF ("\r\n", "\r\r\n") and at the end
// (where it would pair with the LF of a joined part). Other CRs stay.
func dropCRs(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); {
		j := bytes.IndexByte(b[i:], '\r')
		if j < 0 {
			out = append(out, b[i:]...)
			break
		}
		out = append(out, b[i:i+j]...)
		i += j
		k := i
		for k < len(b) && b[k] == '\r' {
			k++
		}
		if k < len(b) && b[k] != '\n' {
			out = append(out, b[i:k]...)
		}
		i = k
	}
	return out
}

func latin1ToUTF8(b []byte) []byte {
	out := make([]byte, 0, len(b)+len(b)/4)
	for _, c := range b {
		out = utf8.AppendRune(out, rune(c))
	}
	return out
}

// splitMultipart splits a multipart body at its boundary delimiter lines
// (RFC 2046 section 5.1.1): "--boundary" at the start of a line, followed
// by optional whitespace and the line end; "--boundary--" closes. The line
// break before a delimiter belongs to the delimiter. Tolerated: LF or CRLF,
// trailing junk after the closing delimiter, a missing closing delimiter
// (closed is false; the last part runs to the end). parts is nil when no
// delimiter was found.
func splitMultipart(body []byte, boundary string) (parts [][]byte, closed bool) {
	delim := "--" + boundary
	pos, start := 0, -1
	for pos < len(body) {
		i := bytes.Index(body[pos:], []byte(delim))
		if i < 0 {
			break
		}
		i += pos
		if i > 0 && body[i-1] != '\n' {
			pos = i + 1
			continue
		}
		lineEnd := len(body)
		next := len(body)
		if j := bytes.IndexByte(body[i:], '\n'); j >= 0 {
			lineEnd, next = i+j, i+j+1
		}
		rest := bytes.TrimRight(body[i+len(delim):lineEnd], " \t\r")
		isClose := bytes.HasPrefix(rest, []byte("--"))
		if len(rest) > 0 && !isClose {
			pos = i + 1 // a longer boundary that starts with this one
			continue
		}
		if start >= 0 {
			end := i
			if end > start && body[end-1] == '\n' {
				end--
			}
			if end > start && body[end-1] == '\r' {
				end--
			}
			parts = append(parts, body[start:end])
		}
		if isClose {
			if parts == nil {
				parts = [][]byte{}
			}
			return parts, true
		}
		start, pos = next, next
	}
	if start >= 0 {
		parts = append(parts, body[start:])
	}
	return parts, false
}

// lenientDecode decodes quoted-printable or base64 without ever failing:
// bad escapes stay literal, non-alphabet bytes in base64 are skipped.
func lenientDecode(cte string, raw []byte) []byte {
	switch cte {
	case "quoted-printable":
		out := make([]byte, 0, len(raw))
		for i := 0; i < len(raw); i++ {
			c := raw[i]
			if c != '=' {
				out = append(out, c)
				continue
			}
			// soft line break: "=" [whitespace] ("\r\n" | "\n")
			j := i + 1
			for j < len(raw) && (raw[j] == ' ' || raw[j] == '\t') {
				j++
			}
			if j < len(raw) && raw[j] == '\n' {
				i = j
				continue
			}
			if j+1 < len(raw) && raw[j] == '\r' && raw[j+1] == '\n' {
				i = j + 1
				continue
			}
			if i+2 < len(raw) {
				if h, ok := unhex(raw[i+1], raw[i+2]); ok {
					out = append(out, h)
					i += 2
					continue
				}
			}
			out = append(out, c)
		}
		return out
	case "base64":
		clean := make([]byte, 0, len(raw))
		for _, c := range raw {
			if isBase64Byte(c) {
				clean = append(clean, c)
			}
		}
		if len(clean)%4 == 1 {
			clean = clean[:len(clean)-1] // a lone trailing sextet carries no byte
		}
		out := make([]byte, base64.RawStdEncoding.DecodedLen(len(clean)))
		n, _ := base64.RawStdEncoding.Decode(out, clean)
		return out[:n]
	}
	return raw
}

func unhex(a, b byte) (byte, bool) {
	x, ok1 := hexVal(a)
	y, ok2 := hexVal(b)
	return x<<4 | y, ok1 && ok2
}

func hexVal(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}

// utf7ToUTF8 decodes UTF-7 (RFC 2152): "+" starts a run of modified
// base64 (no padding) of UTF-16BE ended by "-" (consumed) or any
// non-base64 byte; "+-" is "+". Malformed runs are kept as written.
func utf7ToUTF8(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c != '+' {
			out = append(out, c)
			continue
		}
		j := i + 1
		for j < len(b) && isBase64Byte(b[j]) {
			j++
		}
		if j == i+1 {
			out = append(out, '+')
			if j < len(b) && b[j] == '-' {
				i = j
			}
			continue
		}
		run := b[i+1 : j]
		if len(run)%4 == 1 {
			run = run[:len(run)-1] // a lone trailing sextet carries no byte
		}
		buf := make([]byte, base64.RawStdEncoding.DecodedLen(len(run)))
		n, err := base64.RawStdEncoding.Decode(buf, run)
		if err != nil {
			out = append(out, b[i:j]...)
			i = j - 1
			continue
		}
		buf = buf[:n]
		for k := 0; k+1 < len(buf); k += 2 {
			r := rune(buf[k])<<8 | rune(buf[k+1])
			if utf16.IsSurrogate(r) && k+3 < len(buf) {
				r2 := rune(buf[k+2])<<8 | rune(buf[k+3])
				if d := utf16.DecodeRune(r, r2); d != utf8.RuneError {
					r = d
					k += 2
				}
			}
			out = utf8.AppendRune(out, r)
		}
		if j < len(b) && b[j] == '-' {
			j++
		}
		i = j - 1
	}
	return out
}

func isBase64Byte(c byte) bool {
	return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/'
}
