package patch

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"patchtrail/internal/testcorpus"
	"sort"
	"strings"
	"sync"
	"testing"

	_ "github.com/emersion/go-message/charset"
	"github.com/emersion/go-message/mail"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// The corpus tests read the io-uring public-inbox epoch named by
// PATCHTRAIL_CORPUS (a directory holding io-uring/git/0.git).

var (
	corpusOnce sync.Once
	corpusMsgs []string
)

// corpusMessages returns every raw message of the epoch in archive order,
// read once per test binary.
func corpusMessages(tb testing.TB) []string {
	tb.Helper()
	testcorpus.Epoch(tb)
	corpusOnce.Do(func() {
		testcorpus.Messages(tb, func(_ int, _ string, raw []byte) { corpusMsgs = append(corpusMsgs, string(raw)) })
	})
	return corpusMsgs
}

// gitPatchIDs runs `git patch-id --stable` once over input and returns
// its output lines.
func gitPatchIDs(tb testing.TB, input string) []string {
	tb.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		tb.Skip("git not installed")
	}
	cmd := exec.Command("git", "patch-id", "--stable")
	cmd.Dir = tb.TempDir()
	cmd.Env = append(os.Environ(), "GIT_CONFIG_NOSYSTEM=1", "GIT_CONFIG_GLOBAL=/dev/null", "HOME="+cmd.Dir)
	cmd.Stdin = strings.NewReader(input)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		tb.Fatalf("git patch-id: %v: %s", err, stderr.String())
	}
	return strings.Split(strings.TrimSuffix(string(out), "\n"), "\n")
}

func fakeCommit(i int) string { return fmt.Sprintf("%040x", i+1) }

// TestPatchIDCorpus compares PatchIDs with `git patch-id --stable` over
// every raw message that holds a "diff " line, and over every decoded
// text part that does (what ParsePatches sees in the pipeline).
func TestPatchIDCorpus(t *testing.T) {
	t.Run("raw", func(t *testing.T) { comparePatchIDs(t, corpusMessages(t)) })
	t.Run("decoded", func(t *testing.T) {
		var parts []string
		for _, m := range corpusDecoded(t) {
			parts = append(parts, m.Parts...)
		}
		comparePatchIDs(t, parts)
	})
}

// comparePatchIDs runs git once over all texts holding a "diff " line:
// each text is preceded by a "commit <fake id>" line, which ends the
// previous patch and names the next, so every output line can be paired
// with its text (and we read the same bytes in one pass).
func comparePatchIDs(t *testing.T, texts []string) {
	var selected []int
	size := 0
	for i, m := range texts {
		if strings.HasPrefix(m, "diff ") || strings.Contains(m, "\ndiff ") {
			selected = append(selected, i)
			size += len(m) + 50
		}
	}
	if len(selected) < 1000 {
		t.Fatalf("only %d texts with diffs in the corpus, want >= 1000", len(selected))
	}
	var input strings.Builder
	input.Grow(size)
	offsets := make([]int, len(selected)) // where each text starts in input
	for k, i := range selected {
		offsets[k] = input.Len()
		input.WriteString("commit " + fakeCommit(i) + "\n")
		input.WriteString(texts[i])
		if !strings.HasSuffix(texts[i], "\n") {
			input.WriteByte('\n')
		}
	}
	text := input.String()

	ours := PatchIDs(text)
	got := gitPatchIDs(t, text)
	if len(got) == 1 && got[0] == "" {
		got = nil
	}
	owner := func(off int) int { // text index of an input offset
		k := sort.SearchInts(offsets, off+1) - 1
		return selected[max(k, 0)]
	}
	agree, bad := 0, 0
	perText := map[int]bool{} // text index -> all its ids agree
	for i := 0; i < len(ours) && i < len(got); i++ {
		m := owner(ours[i].Start)
		if _, seen := perText[m]; !seen {
			perText[m] = true
		}
		if w := ours[i].PatchID + " " + ours[i].Commit; w == got[i] {
			agree++
			continue
		}
		perText[m] = false
		if bad++; bad <= 5 {
			t.Errorf("id %d (text %d): git printed %s, we computed %s %s", i, m, got[i], ours[i].PatchID, ours[i].Commit)
		}
	}
	if len(got) != len(ours) {
		t.Errorf("git printed %d ids, we computed %d", len(got), len(ours))
	}
	okTexts := 0
	for _, ok := range perText {
		if ok {
			okTexts++
		}
	}
	t.Logf("%d texts with a \"diff \" line; %d give patch ids, all agreeing in %d; %d of %d ids agree",
		len(selected), len(perText), okTexts, agree, len(got))
}

// TestParseBodyTrailersCorpus compares ParseBodyTrailers with `git
// interpret-trailers --parse` (on "title", a blank line and the body,
// as git am builds the commit) for a sample of patch mails.
func TestParseBodyTrailersCorpus(t *testing.T) {
	needGit(t)
	msgs := corpusDecoded(t)
	dir := t.TempDir()
	checked, withTrailers := 0, 0
	for i := 0; i < len(msgs) && checked < 200; i += 37 {
		m := msgs[i]
		if len(m.Parts) == 0 || !strings.Contains(m.Parts[0], "Signed-off-by") {
			continue
		}
		body := m.Parts[0]
		if strings.Contains(body, "\r") {
			continue // git keeps \r in values
		}
		checked++
		out := runGit(t, dir, "title\n\n"+body, "interpret-trailers", "--parse")
		var want []string
		for _, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
			if l != "" {
				want = append(want, l)
			}
		}
		var got []string
		for _, tr := range ParseBodyTrailers(body) {
			switch tr.KeyLower() {
			case "base-commit", "change-id", "prerequisite-patch-id", "prerequisite-change-id":
				if strings.Index(body, tr.Key+": ") > patchStart(body) {
					continue // found after the "---", where git does not look
				}
			}
			got = append(got, tr.Key+": "+tr.Value)
		}
		if len(want) > 0 {
			withTrailers++
		}
		if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("message %d (%q): ParseBodyTrailers differs from git (-git +ours):\n%s", i, m.Subject, diff)
		}
	}
	t.Logf("%d bodies compared with git interpret-trailers, %d with trailers", checked, withTrailers)
}

// TestParsePatchesCorpus parses every decoded text part and checks
// invariants: counts add up, ranges are in bounds and start at a diff,
// and the patch ids are those of PatchIDs.
func TestParsePatchesCorpus(t *testing.T) {
	msgs := corpusDecoded(t)
	var patches, files, damaged, withErr, traditional, subjects, covers int
	for i, m := range msgs {
		if s := ParseSubject(m.Subject); s.IsPatch {
			subjects++
			if s.IsCover {
				covers++
			}
		}
		for _, part := range m.Parts {
			ps, err := ParsePatches(part)
			if err != nil {
				withErr++
			}
			text := normalizeNewlines(part)
			for _, p := range ps {
				patches++
				if p.PatchID == "" {
					traditional++
				}
				if p.Start < 0 || p.End > len(text) || p.Start >= p.End {
					t.Fatalf("message %d: range %d..%d out of %d", i, p.Start, p.End, len(text))
				}
				if p.PatchID != "" && !strings.HasPrefix(text[p.Start:], "diff ") {
					t.Errorf("message %d: patch starts with %.20q", i, text[p.Start:])
				}
				added, removed := 0, 0
				for _, f := range p.Files {
					files++
					if f.Damaged {
						damaged++
					}
					fa, fr := 0, 0
					for _, h := range f.Hunks {
						fa += len(h.Added)
						fr += len(h.Removed)
					}
					if fa != f.Added || fr != f.Removed {
						t.Errorf("message %d: file %s counts %d/%d, hunks hold %d/%d", i, f.Path(), f.Added, f.Removed, fa, fr)
					}
					added += f.Added
					removed += f.Removed
				}
				if added != p.Added || removed != p.Removed {
					t.Errorf("message %d: patch counts %d/%d, files hold %d/%d", i, p.Added, p.Removed, added, removed)
				}
			}
		}
	}
	if patches < 1000 {
		t.Errorf("found %d patches, want >= 1000", patches)
	}
	t.Logf("%d messages: %d patch subjects (%d cover letters); %d patches (%d plain diffs without patch id), %d files (%d damaged), %d parts with parse errors",
		len(msgs), subjects, covers, patches, traditional, files, damaged, withErr)
}

// corpusMail is a corpus message decoded: its subject and text parts.
type corpusMail struct {
	Subject string
	Parts   []string // decoded text/* parts and patch attachments
}

// decodeMail decodes a raw message with go-message the way the ingest
// pipeline does (charset and transfer decoding, every text part).
func decodeMail(raw string) corpusMail {
	var cm corpusMail
	// An unknown charset is reported as an error with a usable reader.
	mr, _ := mail.CreateReader(strings.NewReader(raw))
	if mr == nil {
		// Unreadable header: treat the whole text as the body.
		cm.Parts = []string{raw}
		return cm
	}
	defer mr.Close()
	cm.Subject, _ = mr.Header.Subject()
	for {
		p, err := mr.NextPart()
		if err != nil {
			break
		}
		var ct string
		if h, ok := p.Header.(interface {
			ContentType() (string, map[string]string, error)
		}); ok {
			ct, _, _ = h.ContentType()
		}
		if ct != "" && !strings.HasPrefix(ct, "text/") && !strings.Contains(ct, "patch") && !strings.Contains(ct, "diff") {
			continue
		}
		b, _ := io.ReadAll(p.Body)
		cm.Parts = append(cm.Parts, string(b))
	}
	return cm
}

var (
	decodedOnce sync.Once
	decodedMsgs []corpusMail
)

func corpusDecoded(tb testing.TB) []corpusMail {
	msgs := corpusMessages(tb)
	decodedOnce.Do(func() {
		decodedMsgs = make([]corpusMail, len(msgs))
		for i, m := range msgs {
			decodedMsgs[i] = decodeMail(m)
		}
	})
	return decodedMsgs
}
