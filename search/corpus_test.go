package search

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"io/fs"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// corpusGit returns the io-uring epoch named by PATCHTRAIL_CORPUS or skips.
func corpusGit(tb testing.TB) string {
	tb.Helper()
	root := os.Getenv("PATCHTRAIL_CORPUS")
	if root == "" {
		tb.Skip("corpus absent: set PATCHTRAIL_CORPUS to a directory containing io-uring/git/0.git")
	}
	dir := filepath.Join(root, "io-uring", "git", "0.git")
	if _, err := os.Stat(dir); err != nil {
		tb.Skipf("corpus absent: %v (PATCHTRAIL_CORPUS must contain io-uring/git/0.git)", err)
	}
	return dir
}

// readCorpus streams up to limit raw messages (0 = all) of a public-inbox
// epoch with one `git cat-file --batch`.
func readCorpus(tb testing.TB, gitDir string, limit int, fn func(raw []byte)) {
	tb.Helper()
	out, err := exec.Command("git", "--git-dir", gitDir, "log", "--reverse", "--format=%H").Output()
	if err != nil {
		tb.Fatalf("git log: %v", err)
	}
	commits := strings.Fields(string(out))
	if limit > 0 && len(commits) > limit {
		commits = commits[:limit]
	}
	cmd := exec.Command("git", "--git-dir", gitDir, "cat-file", "--batch")
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	go func() {
		w := bufio.NewWriter(stdin)
		for _, c := range commits {
			fmt.Fprintf(w, "%s:m\n", c)
		}
		w.Flush()
		stdin.Close()
	}()
	r := bufio.NewReaderSize(stdout, 1<<20)
	for range commits {
		hdr, err := r.ReadString('\n')
		if err != nil {
			tb.Fatalf("cat-file: %v", err)
		}
		f := strings.Fields(hdr)
		if len(f) != 3 || f[1] != "blob" {
			continue // "<rev> missing": a deletion or a missing blob
		}
		n, _ := strconv.Atoi(f[2])
		raw := make([]byte, n+1)
		if _, err := io.ReadFull(r, raw); err != nil {
			tb.Fatalf("cat-file: %v", err)
		}
		fn(raw[:n])
	}
	cmd.Wait()
}

var reMsgID = regexp.MustCompile(`<([^<>\s]+)>`)

// corpusDoc is a crude stand-in for the real message parser: enough to
// measure indexing of real mail.
func corpusDoc(raw []byte) *Doc {
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return nil
	}
	h := m.Header
	var dec mime.WordDecoder
	decode := func(s string) string {
		if d, err := dec.DecodeHeader(s); err == nil {
			return d
		}
		return s
	}
	ids := func(s string) []string {
		var out []string
		for _, m := range reMsgID.FindAllStringSubmatch(s, -1) {
			out = append(out, m[1])
		}
		return out
	}
	mid := ids(h.Get("Message-Id"))
	if len(mid) == 0 {
		return nil
	}
	d := &Doc{MessageID: mid[0], List: "io-uring", Subject: decode(h.Get("Subject")), Size: int64(len(raw))}
	d.References = append(ids(h.Get("References")), ids(h.Get("In-Reply-To"))...)
	d.ThreadID = mid[0]
	if len(d.References) > 0 {
		d.ThreadID = d.References[0]
	}
	if l := h.Get("List-Id"); l != "" {
		d.ListIDs = []string{l}
	}
	addrs := func(key string) []Address {
		list, err := h.AddressList(key)
		if err != nil {
			if v := h.Get(key); v != "" {
				return []Address{{Name: decode(v)}}
			}
			return nil
		}
		var out []Address
		for _, a := range list {
			out = append(out, Address{Name: a.Name, Addr: a.Address})
		}
		return out
	}
	d.From, d.To, d.Cc = addrs("From"), addrs("To"), addrs("Cc")
	d.Date, _ = h.Date()
	addPart(d, h.Get("Content-Type"), h.Get("Content-Transfer-Encoding"), "", m.Body, 0)
	return d
}

func addPart(d *Doc, ctype, cte, disp string, body io.Reader, depth int) {
	mt, params, err := mime.ParseMediaType(ctype)
	if err != nil || ctype == "" {
		mt = "text/plain"
	}
	if _, dp, err := mime.ParseMediaType(disp); err == nil && dp["filename"] != "" {
		d.AttachmentNames = append(d.AttachmentNames, dp["filename"])
	} else if params["name"] != "" {
		d.AttachmentNames = append(d.AttachmentNames, params["name"])
	}
	if strings.HasPrefix(mt, "multipart/") && depth < 5 {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err != nil {
				return
			}
			addPart(d, p.Header.Get("Content-Type"), p.Header.Get("Content-Transfer-Encoding"), p.Header.Get("Content-Disposition"), p, depth+1)
		}
	}
	if !strings.HasPrefix(mt, "text/") {
		return
	}
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, body)
	}
	b, _ := io.ReadAll(io.LimitReader(body, 8<<20))
	d.AddBodyText(string(b))
}

func dirSize(dir string) int64 {
	var n int64
	filepath.WalkDir(dir, func(_ string, e fs.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			if fi, err := e.Info(); err == nil {
				n += fi.Size()
			}
		}
		return nil
	})
	return n
}

// TestCorpusSmoke indexes the first 1,000 real messages and checks that
// every one is findable by mid: and that typical queries find something.
func TestCorpusSmoke(t *testing.T) {
	git := corpusGit(t)
	var docs []*Doc
	readCorpus(t, git, 1000, func(raw []byte) {
		if d := corpusDoc(raw); d != nil {
			docs = append(docs, d)
		}
	})
	ix, err := Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	indexAll(t, ix, docs, 1000)
	ctx := context.Background()
	for i := 0; i < len(docs); i += len(docs)/50 + 1 {
		r, err := ix.Search(ctx, "mid:"+docs[i].MessageID, nil)
		if err != nil || r.Total == 0 {
			t.Errorf("mid:%s: %v, %v", docs[i].MessageID, r, err)
		}
	}
	for _, q := range []string{"s:io_uring", "f:axboe@kernel.dk", "dfn:fs/io_uring.c", "dfb:io_req*", "lid:io-uring.vger.kernel.org", "d:20191201..20200301", "Reviewed-by"} {
		r, err := ix.Search(ctx, q, nil)
		if err != nil || r.Total == 0 {
			t.Errorf("Search(%q) = %v, %v; want hits", q, r, err)
		}
	}
}

// BenchmarkCorpus indexes the whole io-uring epoch (or
// PATCHTRAIL_CORPUS_LIMIT messages) once, logs throughput and index size,
// then measures query latency:
//
//	PATCHTRAIL_CORPUS=/tmp/corpus go test -run XXX -bench Corpus -benchtime 20x ./search
func BenchmarkCorpus(b *testing.B) {
	git := corpusGit(b)
	limit, _ := strconv.Atoi(os.Getenv("PATCHTRAIL_CORPUS_LIMIT"))
	var docs []*Doc
	var bytes int64
	start := time.Now()
	readCorpus(b, git, limit, func(raw []byte) {
		if d := corpusDoc(raw); d != nil {
			docs = append(docs, d)
			bytes += int64(len(raw))
		}
	})
	b.Logf("read and parsed %d messages (%.0f MB) in %v", len(docs), float64(bytes)/1e6, time.Since(start).Round(time.Millisecond))
	dir := filepath.Join(b.TempDir(), "ix")
	ix, err := Open(dir, nil)
	if err != nil {
		b.Fatal(err)
	}
	cpu0 := cpuTime()
	start = time.Now()
	indexAll(b, ix, docs, 2000)
	ix.Close()
	el, cpu := time.Since(start), cpuTime()-cpu0
	b.Logf("indexed %d messages in %v (%.0f docs/s, %.1f MB/s; %.0f docs per CPU-second) into %d shards, %.0f MB on disk",
		len(docs), el.Round(time.Millisecond), float64(len(docs))/el.Seconds(), float64(bytes)/1e6/el.Seconds(),
		float64(len(docs))/cpu.Seconds(), ix.Shards(), float64(dirSize(dir))/1e6)
	if ix, err = Open(dir, &Options{ReadOnly: true}); err != nil {
		b.Fatal(err)
	}
	defer ix.Close()
	ctx := context.Background()
	for _, q := range []string{
		"io_uring", "s:io_uring", "f:axboe@kernel.dk", "dfn:fs/io_uring.c", `"use after free"`,
		"sqpoll OR iopoll", "io_uring -s:re", "dfb:io_req*", "d:20200101..20200201", "nq:Reviewed-by",
	} {
		for _, threads := range []bool{false, true} {
			name := q
			if threads {
				name += "/threads"
			}
			b.Run(name, func(b *testing.B) {
				for b.Loop() {
					if _, err := ix.Search(ctx, q, &SearchOptions{Threads: threads}); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
