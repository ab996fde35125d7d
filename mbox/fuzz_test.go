package mbox

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// FuzzMboxReader reads arbitrary bytes as an mbox. It must never panic
// or hang; an item without Err has non-empty Data; checkpoints advance;
// and, where no Content-Length can change the framing, resuming at any
// checkpoint yields exactly the items that followed it.
func FuzzMboxReader(f *testing.F) {
	for _, seed := range [][]byte{
		writeRD([]string{msgPlain, msgFrom, msgNoNL, msgBlank}),
		writeO([]string{msgOnlyF}),
		writeCL([]string{msgPlain, msgFrom}, false),
		writeCL([]string{msgOnlyF}, true),
		[]byte("junk\nFrom x Thu Jan  1 00:00:00 1970\r\nSubject: a\r\n\r\n>From b\r\n\r\n"),
		[]byte(postmark + "Content-Length: 30\n\nbody\n\n" + postmark + "Subject: b\n\nc\x00\n"),
		[]byte(postmark + postmark + "Content-Length: 0\n\n\nFrom"),
		compressors["gzip"](f, writeRD([]string{msgPlain, msgFrom})),
		compressors["zstd"](f, writeRD([]string{msgPlain})),
		compressors["xz"](f, writeRD([]string{msgFrom})),
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		items, err := fuzzRead(data, nil)
		if err != nil {
			return // a broken compressed stream
		}
		plain := sniffCompression(bufio.NewReader(bytes.NewReader(data))) == compressNone
		last := int64(-1)
		for i, m := range items {
			if m.Err == nil && len(m.Data) == 0 {
				t.Fatalf("item %d: no Err and no Data", i)
			}
			off, _, err := parseCheckpoint(m.Checkpoint)
			if err != nil {
				t.Fatalf("item %d: %v", i, err)
			}
			// The problem ending a broken compressed stream may share
			// the checkpoint of the message before it.
			brokenEnd := !plain && i == len(items)-1 && m.Err != nil && off == last
			if off <= last && !brokenEnd || plain && off > int64(len(data)) {
				t.Fatalf("item %d: checkpoint offset %d after %d (input %d bytes)", i, off, last, len(data))
			}
			last = off
		}
		if !plain || bytes.Contains(bytes.ToLower(data), []byte("content-length")) {
			return
		}
		for _, k := range []int{0, len(items) / 2, len(items) - 1} {
			if k < 0 || k >= len(items) {
				continue
			}
			rest, err := fuzzRead(data, resumeAt("", items[k].Checkpoint))
			if err != nil {
				t.Fatalf("resume at item %d (%s): %v", k, items[k].Checkpoint, err)
			}
			if diff := cmp.Diff(fuzzSummary(items[k+1:]), fuzzSummary(rest)); diff != "" {
				t.Fatalf("resume at item %d (%s) (-want +got):\n%s", k, items[k].Checkpoint, diff)
			}
		}
	})
}

func fuzzRead(data []byte, o *Options) ([]*Message, error) {
	r, err := newMboxReader(context.Background(), "fuzz", bytes.NewReader(data), nil, withDefaults(o))
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var items []*Message
	for {
		m, err := r.Next()
		if err == io.EOF {
			return items, nil
		}
		if err != nil {
			return nil, err
		}
		items = append(items, m)
	}
}

func fuzzSummary(ms []*Message) []string {
	out := []string{}
	for _, m := range ms {
		s := m.Checkpoint + " " + m.Where + " "
		if m.Err != nil {
			s += "ERR"
		} else {
			s += string(m.Data)
		}
		out = append(out, s)
	}
	return out
}
