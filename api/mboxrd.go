package api

import (
	"bufio"
	"bytes"
	"io"
	"strings"
)

// mboxrdFrom is the separator line public-inbox writes before each message.
const mboxrdFrom = "From mboxrd@z Thu Jan  1 00:00:00 1970\n"

// dropHeaders are not written into mboxrd output, as public-inbox does.
var dropHeaders = map[string]bool{"from ": true, "lines": true, "bytes": true, "content-length": true, "status": true}

// WriteMboxrd writes raw as one mboxrd message the way public-inbox does:
// the "From mboxrd@z" line, the headers without From_/Lines/Bytes/
// Content-Length/Status, a blank line, the body with every line matching
// ^>*From  given one more '>', and one extra newline.
func WriteMboxrd(w io.Writer, raw []byte) error {
	bw := bufio.NewWriter(w)
	bw.WriteString(mboxrdFrom)
	raw = bytes.ReplaceAll(raw, []byte("\r\n"), []byte("\n"))
	hdr, body := raw, []byte(nil)
	if i := bytes.Index(raw, []byte("\n\n")); i >= 0 {
		hdr, body = raw[:i+1], raw[i+2:]
	} else if bytes.HasPrefix(raw, []byte("\n")) {
		hdr, body = nil, raw[1:]
	}
	skip := false
	for _, line := range bytes.SplitAfter(hdr, []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		if line[0] == ' ' || line[0] == '\t' {
			if !skip {
				bw.Write(line)
			}
			continue
		}
		name := strings.ToLower(string(line[:min(len(line), 5)]))
		skip = name == "from "
		if !skip {
			if i := bytes.IndexByte(line, ':'); i > 0 {
				skip = dropHeaders[strings.ToLower(string(bytes.TrimSpace(line[:i])))]
			}
		}
		if !skip {
			bw.Write(line)
			if line[len(line)-1] != '\n' {
				bw.WriteByte('\n')
			}
		}
	}
	bw.WriteByte('\n')
	for _, line := range bytes.SplitAfter(body, []byte("\n")) {
		if len(line) == 0 {
			continue
		}
		if isFromLine(line) {
			bw.WriteByte('>')
		}
		bw.Write(line)
	}
	if len(body) > 0 && body[len(body)-1] != '\n' {
		bw.WriteByte('\n')
	}
	bw.WriteByte('\n')
	return bw.Flush()
}

// isFromLine reports whether line matches ^>*From .
func isFromLine(line []byte) bool {
	i := 0
	for i < len(line) && line[i] == '>' {
		i++
	}
	return bytes.HasPrefix(line[i:], []byte("From "))
}
