package trace

import (
	"context"
	"errors"
	"strings"
	"time"

	"patchtrail/internal/message"
	"patchtrail/internal/patch"
	"patchtrail/internal/store"
)

// Mention is a thread of the list discussion around a fix that is not
// the posting of the fix: one naming the CVE, or a report against a
// commit the fix repairs (pull requests left out). It is the first matching message of its
// thread.
type Mention struct {
	MessageID string
	Subject   string
	From      message.Address
	Date      time.Time
	ThreadID  int64
	Messages  int    // matching messages in the thread
	Target    string // a bug report: the Fixes: target it is against
	// Found says how: "cve" (names the CVE id), "subject" (a bug report
	// titled after the target), "commit" (names the target commit).
	Found string
}

// bugReportForms are the subjects, normalised, of reports against a
// commit titled t: "[bug report] t" (static checker and test reports),
// "bug report about patch "t"".
func bugReportForms(t string) []string {
	t = patch.NormalizeSubject(t)
	return []string{"[bug report] " + t, "[bug] " + t, "[report] " + t, "[regression] " + t, `bug report about patch "` + t + `"`}
}

// mentions fills the discussion of the CVE (messages naming its id) and
// the bug reports against the Fixes: targets (reports titled after the
// target, and messages naming the target commit that are not patches),
// leaving out the thread of the fix's own posting for the reports.
func (tr *trace) mentions(ctx context.Context, rec *store.CVERow) error {
	if rec != nil {
		ms, err := tr.st.MessagesMentioning(ctx, rec.ID)
		if err != nil {
			return err
		}
		tr.t.Discussion = byThread(tr.t.Discussion, ms, "", "cve", 0)
	}
	var own int64
	if tr.t.Posting != nil {
		own = tr.t.Posting.ThreadID
	}
	for _, f := range tr.t.Fixes {
		if f.Title != "" {
			ms, err := tr.st.MessagesBySubject(ctx, bugReportForms(f.Title))
			if err != nil {
				return err
			}
			tr.t.BugReports = byThread(tr.t.BugReports, ms, f.Commit.SHA, "subject", own)
		}
		if len(f.Commit.SHA) < 12 {
			continue
		}
		ms, err := tr.st.MessagesMentioning(ctx, f.Commit.SHA)
		if err != nil {
			return err
		}
		var reports []*store.Message
		for _, m := range ms {
			if strings.Contains(strings.ToUpper(m.Subject), "[GIT PULL]") {
				continue // a pull request lists commits, it reports nothing
			}
			p, err := tr.st.PatchOf(ctx, m.ID)
			if err == nil && !p.Cover {
				continue // a patch naming the target: another fix, not a report
			}
			if err != nil && !errors.Is(err, store.ErrNotFound) {
				return err
			}
			reports = append(reports, m)
		}
		tr.t.BugReports = byThread(tr.t.BugReports, reports, f.Commit.SHA, "commit", own)
	}
	return nil
}

// byThread adds to out the first of ms in each thread not yet listed
// (and not thread skip), counting the others.
func byThread(out []Mention, ms []*store.Message, target, found string, skip int64) []Mention {
	for _, m := range ms {
		if skip != 0 && m.Thread == skip {
			continue
		}
		dup := false
		for i := range out {
			if out[i].ThreadID == m.Thread && out[i].Target == target {
				out[i].Messages++
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, Mention{MessageID: m.MessageID, Subject: m.Subject, From: message.Address{Name: m.FromName, Email: m.FromEmail},
				Date: m.Date, ThreadID: m.Thread, Messages: 1, Target: target, Found: found})
		}
	}
	return out
}
