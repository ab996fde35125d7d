package patch

import (
	"strings"

	"patchtrail/internal/message"
)

// Analysis is what a message says as a patch mail: its subject tags, the
// patches of its body and attachments, and its trailers.
type Analysis struct {
	Subject       Subject
	Patches       []Patch
	Trailers      []Trailer // of the commit message (patch mails, covers)
	ReplyTrailers []Trailer // given in a reply
	ChangeID      string
	IsPatchMail   bool // a cover letter or a mail carrying a patch
	// ReplyDiff says a reply carries a diff of its own (Patches): a
	// candidate for linking commits, outside any series.
	ReplyDiff bool
}

// Analyze finds the patches and trailers of a parsed message.
func Analyze(m *message.Message) *Analysis {
	a := &Analysis{Subject: ParseSubject(m.Subject)}
	if a.Subject.Forward {
		return a
	}
	ps, _ := ParsePatches(m.Text)
	for _, att := range m.Attachments {
		if len(att.Data) > 0 {
			more, _ := ParsePatches(string(att.Data))
			ps = append(ps, more...)
		}
	}
	if a.Subject.Reply {
		// A diff in a reply (not quoted: "> " lines are no diff) is a
		// patch whatever the subject says: "how about this instead".
		a.Patches, a.ReplyDiff = ps, len(ps) > 0
	} else {
		a.Patches = ps
		a.IsPatchMail = len(ps) > 0 || (a.Subject.IsPatch && a.Subject.IsCover)
		if a.IsPatchMail || a.Subject.IsPatch {
			a.Trailers = ParseBodyTrailers(m.Text)
			for _, t := range a.Trailers {
				if t.Is("change-id") {
					a.ChangeID = strings.TrimSpace(t.Value)
				}
			}
			if a.ChangeID == "" {
				a.ChangeID = findChangeID(m.NonQuoted)
			}
		}
	}
	if !a.IsPatchMail && len(m.References) > 0 {
		a.ReplyTrailers = FindReplyTrailers(m.NonQuoted)
	}
	return a
}

// findChangeID finds b4's "change-id:" line anywhere in a cover letter
// (b4 puts it after the "---" below the message, others among the text).
func findChangeID(text string) string {
	for len(text) > 0 {
		line := text
		if i := strings.IndexByte(text, '\n'); i >= 0 {
			line, text = text[:i], text[i+1:]
		} else {
			text = ""
		}
		if len(line) > 10 && strings.EqualFold(line[:10], "change-id:") {
			return strings.TrimSpace(line[10:])
		}
	}
	return ""
}

// Files lists the paths the analysis' patches touch, without repeats.
func (a *Analysis) Files() []string { return FilePaths(a.Patches) }

// PatchIDs lists the patch-ids of the analysis' patches.
func (a *Analysis) PatchIDs() []string {
	var out []string
	for _, p := range a.Patches {
		if p.PatchID != "" {
			out = append(out, p.PatchID)
		}
	}
	return out
}
