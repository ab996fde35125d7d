package api

import (
	"time"

	"patchtrail/internal/gap"
	"patchtrail/internal/store"
)

// The wire types of the JSON API, which the CLI also prints with --json
// (those of messages and threads are in view.go and patchview.go, of
// search hits in hits.go; convert.go builds them from the domain types of
// internal/trace and internal/series). Field names are snake_case;
// openapi.go derives the schemas from these types.

// SearchPage is the answer of GET /api/v1/search.
type SearchPage struct {
	Query   string `json:"query"`
	Total   uint64 `json:"total"` // matching messages, and commits when the query names them (before thread collapsing)
	Offset  int    `json:"offset"`
	Limit   int    `json:"limit"`
	Sort    string `json:"sort"`
	Threads bool   `json:"threads"`
	List    string `json:"list,omitempty"`
	Hits    []Hit  `json:"hits"`
	// Next is the URL of the next page, absent on the last page.
	Next string  `json:"next,omitempty"`
	Took Seconds `json:"took"`
	// NotIndexed counts stored messages the search index does not hold
	// yet (an interrupted reindex or import; serve finishes it in the
	// background): the hits may be incomplete. Absent when 0.
	NotIndexed int64 `json:"not_indexed,omitempty"`
	// TotalApprox says Total is an estimate (shown "~N"): a date-sorted
	// search counts the older part of a big index only up to a budget.
	TotalApprox bool `json:"total_approx,omitempty"`
}

// ListInfo is one mailing list.
type ListInfo struct {
	Name     string `json:"name"`
	ListID   string `json:"list_id"`
	Messages int64  `json:"messages"`
	URL      string `json:"url"` // the list's search page
}

// ListsPage is the answer of GET /api/v1/lists.
type ListsPage struct {
	Lists []ListInfo `json:"lists"`
}

// ReposPage is the answer of GET /api/v1/repos.
type ReposPage struct {
	Repos []RepoInfo `json:"repos"`
}

// StatsPage is the answer of GET /api/v1/stats.
type StatsPage struct {
	Store   *store.Stats       `json:"store"`
	Patches *store.PatchCounts `json:"patches"`
	// IndexDocuments counts the documents of the search index; it lags
	// the store while an import is indexing.
	IndexDocuments uint64 `json:"index_documents"`
	Search         bool   `json:"search"` // whether the search index is open
	// NotIndexed counts stored messages waiting to be (re)indexed: 0 when
	// the index is complete.
	NotIndexed int64 `json:"not_indexed"`
}

// TraceCVE is the CVE record a trace starts from or leads to.
type TraceCVE struct {
	ID             string     `json:"id"`
	Title          string     `json:"title"`
	Severity       string     `json:"severity,omitempty"`
	CVSS           float64    `json:"cvss,omitempty"`
	Vector         string     `json:"cvss_vector,omitempty"`
	Published      *time.Time `json:"published,omitempty"`
	Files          []string   `json:"files"`
	FixSHAs        []string   `json:"fix_commits"`
	IntroducedSHAs []string   `json:"introduced_by"`
	Description    string     `json:"description"`
}

// TracePosting is a posted version of the fix (or of another commit).
type TracePosting struct {
	MessageID string     `json:"message_id"`
	Subject   string     `json:"subject"`
	From      Address    `json:"from"`
	Date      time.Time  `json:"date"`
	Version   int        `json:"version"`
	SeriesID  int64      `json:"series_id,omitempty"`
	ThreadID  int64      `json:"thread_id"`
	Found     string     `json:"found_by"` // "link" (a commit link), "subject" (by subject, no commit), "message" (the query)
	Grade     string     `json:"grade,omitempty"`
	Score     float64    `json:"score,omitempty"`
	Evidence  []Evidence `json:"evidence,omitempty"`
}

// TraceFixes is a commit the fix repairs (a Fixes: trailer or the CVE's
// introducing commit) with its own posting.
type TraceFixes struct {
	Target  string        `json:"target"`
	Title   string        `json:"title,omitempty"`
	Commit  CommitRef     `json:"commit"`
	Posting *TracePosting `json:"posting,omitempty"`
}

// TraceBackport is the fix on a stable branch.
type TraceBackport struct {
	Version string        `json:"version,omitempty"` // stable version that got it ("6.1.69")
	SHA     string        `json:"sha,omitempty"`
	Commit  *CommitRef    `json:"commit,omitempty"` // when a registered repository holds it
	Posting *TracePosting `json:"posting,omitempty"`
	Source  string        `json:"source"` // "cve" (.dyad), "commit" (upstream line of a commit), "posting" (a stable posting)
}

// Trace is the whole story of a fix.
type Trace struct {
	Query      string          `json:"query"`
	CVE        *TraceCVE       `json:"cve,omitempty"`
	FixCommits []CommitRef     `json:"fix_commits"`
	Posting    *TracePosting   `json:"posting"` // the final posting, nil when none was found
	Thread     *Thread         `json:"thread,omitempty"`
	Series     *Series         `json:"series,omitempty"`
	Earlier    []TracePosting  `json:"earlier_versions"`
	People     []TracePerson   `json:"people"`
	Reviews    []TraceReview   `json:"reviews"`
	Fixes      []TraceFixes    `json:"fixes"`
	Backports  []TraceBackport `json:"backports"`
	Timeline   []TimelineEvent `json:"timeline"`
	// Branches: the CVE on each line of the kernel (one per .dyad line).
	Branches []CVEBranch `json:"branches"`
	// Gap is the CVE's patch gap, as `patchtrail gap --json` reports it
	// per CVE; absent without a CVE or a posting.
	Gap *gap.CVE `json:"gap,omitempty"`
	// Discussion: threads naming the CVE id; BugReports: reports
	// against the Fixes: targets. Each is the first matching message of
	// its thread.
	Discussion []TraceMention `json:"discussion"`
	BugReports []TraceMention `json:"bug_reports"`
	Notes      []string       `json:"notes"` // what could not be found, and how things were found
}

// TraceMention is a thread of the list discussion around a fix: its
// first message naming the CVE, or reporting a bug in a Fixes: target.
type TraceMention struct {
	MessageID string    `json:"message_id"`
	Subject   string    `json:"subject"`
	From      Address   `json:"from"`
	Date      time.Time `json:"date"`
	ThreadID  int64     `json:"thread_id"`
	Messages  int       `json:"messages"`         // matching messages in the thread
	Target    string    `json:"target,omitempty"` // the Fixes: target a report is against
	Found     string    `json:"found"`            // "cve", "subject" ([bug report] titled after the target) or "commit" (names it)
}

// TracePerson is someone who took part in a fix, with the message where
// they did.
type TracePerson struct {
	Role      string    `json:"role"` // reported, suggested, reviewed, acked, tested, co-developed, nacked
	Name      string    `json:"name,omitempty"`
	Email     string    `json:"email"`
	MessageID string    `json:"given_in"`
	Date      time.Time `json:"date"`    // of the message it was given in
	Kind      string    `json:"kind"`    // "patch": in the posting; "reply": a follow-up; "cover": on the cover letter
	Version   int       `json:"version"` // version of the posting it was given for
}

// TraceReview is a reply to a version of the fix, sent before the next
// version (or, for the final version, before it was applied).
type TraceReview struct {
	MessageID  string    `json:"message_id"`
	Subject    string    `json:"subject"`
	From       Address   `json:"from"`
	Date       time.Time `json:"date"`
	Version    int       `json:"version"`      // the version it replies to
	NextPosted string    `json:"next_version"` // Message-ID of the version that followed, "" after the final one
}

// TimelineEvent is one dated step of a fix.
type TimelineEvent struct {
	Event     string     `json:"event"` // first_posted, version_posted, last_version_posted, applied, committed, backport, cve_published
	Date      *time.Time `json:"date"`  // nil when unknown
	Detail    string     `json:"detail"`
	MessageID string     `json:"message_id,omitempty"`
	SHA       string     `json:"sha,omitempty"`
	// DaysSincePrevious is the gap to the previous dated event.
	DaysSincePrevious *float64 `json:"days_since_previous,omitempty"`
	// DaysSinceFix is the gap from the fix landing (committed, else
	// applied, else last posted) to a backport or the CVE: the patch gap.
	DaysSinceFix *float64 `json:"days_since_fix,omitempty"`
}

// RepoInfo is a registered code repository.
type RepoInfo struct {
	Name     string            `json:"name"`
	Path     string            `json:"path"`
	Commits  int64             `json:"commits"`
	Heads    map[string]string `json:"heads"`
	LastLink *time.Time        `json:"last_link,omitempty"`
}

// Evidence is one reason for a link.
type Evidence struct {
	Kind   string  `json:"kind"` // link-trailer, patch-id, subject, author, files, diff, date, version, stable
	Detail string  `json:"detail"`
	Weight float64 `json:"weight"`
}

// CommitLink is a message linked to a commit.
type CommitLink struct {
	MessageID string     `json:"message_id"`
	Subject   string     `json:"subject"`
	From      Address    `json:"from"`
	Date      time.Time  `json:"date"`
	ThreadID  int64      `json:"thread_id"`
	SeriesID  int64      `json:"series_id,omitempty"`
	Version   int        `json:"version,omitempty"`
	Role      string     `json:"role"`  // "applied": made into the commit; "earlier": an earlier version of it
	Grade     string     `json:"grade"` // "exact" (Link: trailer), "strong" (patch-id), "fuzzy" (scored)
	Score     float64    `json:"score"`
	Evidence  []Evidence `json:"evidence"`
}

// CommitRef names a commit; Known is false for a commit that is in no
// registered repository (only its id is known).
type CommitRef struct {
	SHA        string     `json:"sha"`
	Known      bool       `json:"known"`
	Subject    string     `json:"subject,omitempty"`
	Author     *Address   `json:"author,omitempty"`
	CommitDate *time.Time `json:"commit_date,omitempty"`
	Repos      []string   `json:"repos,omitempty"`
}

// CommitFix is a Fixes: trailer of a commit.
type CommitFix struct {
	Target string     `json:"target"` // as written
	Title  string     `json:"title"`
	Commit *CommitRef `json:"commit,omitempty"` // when the repository knows it
}

// Commit is the view of one commit: its links to messages (best first,
// earlier versions after the applied postings) and its relations.
type Commit struct {
	CommitRef
	Committer  Address           `json:"committer"`
	AuthorDate time.Time         `json:"author_date"`
	Body       string            `json:"body"`
	PatchID    string            `json:"patch_id,omitempty"`
	Merge      bool              `json:"merge,omitempty"`
	Files      []string          `json:"files"`
	Trailers   []Trailer         `json:"trailers"`
	Links      []CommitLink      `json:"links"`
	Fixes      []CommitFix       `json:"fixes"`
	FixedBy    []CommitRef       `json:"fixed_by"`
	Reverts    *CommitRef        `json:"reverts,omitempty"`
	RevertedBy []CommitRef       `json:"reverted_by"`
	Upstream   *CommitRef        `json:"backport_of,omitempty"`
	Backports  []CommitRef       `json:"backports"`
	CVEs       map[string]string `json:"cves"` // CVE id → "fix", "introduced" or "backport"
}

// MessageCommit is a commit a message became (or of which it was an
// earlier version).
type MessageCommit struct {
	CommitRef
	Role     string     `json:"role"`
	Grade    string     `json:"grade"`
	Score    float64    `json:"score"`
	Evidence []Evidence `json:"evidence"`
}

// GivenTrailer is a trailer with who gave it, where.
type GivenTrailer struct {
	Key       string `json:"key"`
	Value     string `json:"value"`
	Name      string `json:"name,omitempty"`
	Email     string `json:"email,omitempty"`
	MessageID string `json:"given_in"`
	Kind      string `json:"kind"` // "patch": in the patch itself; "reply": a follow-up; "cover": on the cover letter
}

// SeriesPart is one patch (or the cover letter) of a series.
type SeriesPart struct {
	Counter   int            `json:"counter"`
	MessageID string         `json:"message_id"`
	Subject   string         `json:"subject"`
	From      Address        `json:"from"`
	Date      time.Time      `json:"date"`
	Cover     bool           `json:"cover,omitempty"`
	PatchIDs  []string       `json:"patch_ids"`
	Files     []string       `json:"files"`
	Trailers  []GivenTrailer `json:"trailers"`
	// Commits are the commits this part became, best link first.
	Commits []MessageCommit `json:"commits"`
	// CVEs are the CVEs this part fixes.
	CVEs []CVERef `json:"cves"`
}

// Became is what a patch mail became: the commits and the CVEs it fixes
// (pages of messages and threads).
type Became struct {
	MessageID string          `json:"message_id"`
	Subject   string          `json:"subject"`
	Commits   []MessageCommit `json:"commits"`
	CVEs      []CVERef        `json:"cves"`
}

// CVERef is a CVE a patch fixes, how that is known ("commit": a commit
// it became is the fix; "title": the CVE's title is its subject), and
// the trace page of the CVE.
type CVERef struct {
	ID    string `json:"id"`
	How   string `json:"how"`
	Trace string `json:"trace"`
}

// SeriesVersion summarises one version of a series in its chain.
type SeriesVersion struct {
	SeriesID  int64     `json:"series_id"`
	Version   int       `json:"version"`
	Subject   string    `json:"subject"`
	MessageID string    `json:"message_id"` // cover letter, or first patch
	Date      time.Time `json:"date"`
	Parts     int       `json:"parts"`
	Total     int       `json:"total"`
	Complete  bool      `json:"complete"`
	Files     []string  `json:"files"`
	// Changes from the previous version.
	FilesAdded     []string `json:"files_added,omitempty"`
	FilesRemoved   []string `json:"files_removed,omitempty"`
	PatchesSame    int      `json:"patches_same"`    // patch-ids found in the previous version
	PatchesChanged int      `json:"patches_changed"` // patch-ids not in it
}

// Series is a posted series with all its versions.
type Series struct {
	SeriesID int64           `json:"series_id"`
	Version  int             `json:"version"`
	Subject  string          `json:"subject"`
	Author   string          `json:"author"`
	Total    int             `json:"total"`
	Complete bool            `json:"complete"`
	Missing  []int           `json:"missing"`
	ChangeID string          `json:"change_id,omitempty"`
	Parts    []SeriesPart    `json:"parts"`
	Files    []string        `json:"files"`
	Versions []SeriesVersion `json:"versions"`
}

// CVEPage is one page of the CVE index (/api/v1/cves).
type CVEPage struct {
	Total  int        `json:"total"` // CVEs that pass the filters
	Offset int        `json:"offset"`
	Limit  int        `json:"limit"`
	Sort   string     `json:"sort,omitempty"`
	CVEs   []CVEEntry `json:"cves"`
	// Next is the URL of the next page, absent on the last page.
	Next string `json:"next,omitempty"`
}

// CVEEntry is one CVE of the index.
type CVEEntry struct {
	ID         string      `json:"id"`
	Title      string      `json:"title"`
	Severity   string      `json:"severity,omitempty"`
	CVSS       float64     `json:"cvss,omitempty"`
	Published  *time.Time  `json:"published,omitempty"`
	Files      []string    `json:"files"`
	FixCommits []string    `json:"fix_commits"`
	Branches   []CVEBranch `json:"branches"`
	// FixedBy is the commit that fixed it in the fixed_in release.
	FixedBy string `json:"fixed_by,omitempty"`
	// Posting is the final posting of the fix, when looked up and found.
	Posting *CVEPosting `json:"posting,omitempty"`
	Trace   string      `json:"trace"` // the trace page
}

// CVEBranch is the state of a CVE on one line of the kernel (a stable
// branch or "mainline"): introduced in, fixed in, or still vulnerable.
type CVEBranch struct {
	Branch            string `json:"branch"`
	IntroducedVersion string `json:"introduced_version,omitempty"`
	IntroducedSHA     string `json:"introduced_sha,omitempty"`
	FixedVersion      string `json:"fixed_version,omitempty"`
	FixedSHA          string `json:"fixed_sha,omitempty"`
	Vulnerable        bool   `json:"vulnerable"`
}

// CVEPosting is the final posting of a CVE's fix in the archive.
type CVEPosting struct {
	MessageID string    `json:"message_id"`
	Subject   string    `json:"subject"`
	Date      time.Time `json:"date"`
	Lists     []string  `json:"lists"`
	Found     string    `json:"found"` // "link" or "subject"
}
