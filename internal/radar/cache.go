package radar

import (
	"bufio"
	"crypto/sha256"
	"encoding/gob"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// Record is the evidence of one message as it can be kept: what the
// radar reads from a message, without the message. A corpus is its
// records plus indexes, so the evidence can be computed once (when the
// message arrives) and the radar answer from records alone.
type Record struct {
	ID        int64       `json:"-"`
	MID       string      `json:"-"`
	Thread    int64       `json:"-"`
	Date      time.Time   `json:"-"`
	From      string      `json:"-"`
	Parent    string      `json:"-"`
	Subject   string      `json:"-"`
	Key       string      `json:"key,omitempty"`
	Kind      uint8       `json:"kind,omitempty"`
	Version   int         `json:"version,omitempty"`
	RFC       bool        `json:"rfc,omitempty"`
	PatchTag  bool        `json:"patchtag,omitempty"`
	Reports   []string    `json:"reports,omitempty"`
	Reviewer  []string    `json:"reviewer,omitempty"`
	Trailers  int         `json:"trailers,omitempty"`
	Applied   bool        `json:"applied,omitempty"`
	Nak       bool        `json:"nak,omitempty"`
	Tree      int8        `json:"tree,omitempty"`
	Vuln      []string    `json:"vuln,omitempty"`
	SubjVuln  []string    `json:"subjvuln,omitempty"`
	Baseline  int         `json:"baseline,omitempty"`
	Fixes     [][2]string `json:"fixes,omitempty"`
	CcStable  bool        `json:"ccstable,omitempty"`
	Reporters []string    `json:"reporters,omitempty"`
	Links     []string    `json:"links,omitempty"`
	Closes    bool        `json:"closes,omitempty"`
	Reviewed  int         `json:"reviewed,omitempty"`
	Shape     Shape       `json:"shape,omitempty"`
	PatchID   string      `json:"patchid,omitempty"`
	FixWord   bool        `json:"fixword,omitempty"`
	Feature   bool        `json:"feature,omitempty"`
	Cleanup   bool        `json:"cleanup,omitempty"`
	Words     []string    `json:"words,omitempty"`
	Pulls     []string    `json:"pulls,omitempty"`
}

func (m *mail) record() Record {
	r := Record{ID: m.id, MID: m.mid, Thread: m.thread, Date: m.date, From: m.from, Parent: m.parent, Subject: m.subject,
		Key: m.key, Kind: uint8(m.kind), Version: m.version, RFC: m.isRFC, PatchTag: m.patchTag, Reports: m.reports,
		Reviewer: m.reviewer, Trailers: m.trailers, Applied: m.applied, Nak: m.nak, Tree: m.tree, Vuln: m.vuln, SubjVuln: m.subjVuln, Baseline: m.baseline,
		CcStable: m.ccStable, Reporters: m.reporters, Links: m.links, Closes: m.closes, Reviewed: m.reviewed,
		Shape: m.shape, PatchID: m.facts.patchID, FixWord: m.fixWord, Feature: m.feature, Cleanup: m.cleanup, Words: m.words, Pulls: m.pulls}
	r.Shape.Paths = m.paths
	for _, f := range m.fixes {
		r.Fixes = append(r.Fixes, [2]string{f.sha, f.title})
	}
	return r
}

func (r *Record) mail() *mail {
	m := &mail{id: r.ID, mid: r.MID, thread: r.Thread, date: r.Date, from: r.From,
		key: r.Key, kind: kind(r.Kind), version: r.Version, isRFC: r.RFC, patchTag: r.PatchTag, tree: r.Tree,
		ccStable: r.CcStable, links: r.Links, paths: r.Shape.Paths, closes: r.Closes, patchID: patchHash(r.PatchID),
		facts: r.facts(r.Parent, r.Subject), textEvidence: r.text()}
	return m
}

// facts are the record's facts, with the message's parent and subject
// (its paths are not: mail.paths).
func (r *Record) facts(parent, subject string) *facts {
	f := &facts{parent: parent, subject: subject, fixes: r.fixRefs(), reporters: r.Reporters, shape: r.Shape, patchID: r.PatchID, pulls: r.Pulls}
	f.shape.Paths = nil
	return f
}

// fixRefs are the record's Fixes: targets (nil when none).
func (r *Record) fixRefs() []fixRef {
	var out []fixRef
	for _, f := range r.Fixes {
		out = append(out, fixRef{sha: f[0], title: f[1]})
	}
	return out
}

// text is the record's evidence of the message's own text.
func (r *Record) text() *textEvidence {
	return &textEvidence{reports: r.Reports, reviewer: r.Reviewer, trailers: r.Trailers, applied: r.Applied, nak: r.Nak,
		vuln: r.Vuln, subjVuln: r.SubjVuln, baseline: r.Baseline, reviewed: r.Reviewed,
		fixWord: r.FixWord, feature: r.Feature, cleanup: r.Cleanup, words: r.Words}
}

// cacheMagic names the record format: change it when Record or the
// evidence rules change in code (pattern changes are caught by
// rulesVersion).
const cacheMagic = "patchtrail-radar-records-5"

// ErrStaleRecords is returned by ReadRecords for records written by
// another version of the evidence rules: they must be read again from
// the store.
var ErrStaleRecords = errors.New("radar: records were written by other evidence rules")

// rulesVersion identifies the evidence rules: a hash of every pattern
// and anchor, so records read with other rules are never reused.
var rulesVersion = func() string {
	h := sha256.New()
	for _, lex := range [][]term{memorySanitizers, otherReports, fuzzers, vulnClasses, reviewerWords} {
		for _, t := range lex {
			fmt.Fprintf(h, "%s\x00%s\x00%s\n", t.name, strings.Join(anchorNames(t.anchors), "|"), t.re)
		}
	}
	for _, p := range []pat{ifPat, nullPat, errExitPat, overflowPat, lockPat, freePat, nospecPat, zeroPat, refPat, userCopyPat, inputPat} {
		fmt.Fprintf(h, "%s\x00%s\n", strings.Join(p.anchors, "|"), p.re)
	}
	for _, re := range []fmt.Stringer{cmpRE, lengthRE, hunkFuncRE, fixWordRE, featureWordRE, cleanupWordRE, baselineWordRE, cveIDRE, wordRE, hexWordRE, trailerLineRE, upstreamRE, stableWordRE, versionWordRE, appliedRE, nakRE, fixTreeRE, nextTreeRE, pullMarkRE, shortlogAuthorRE, diffstatRE, pullDateRE} {
		fmt.Fprintf(h, "%s\n", re)
	}
	return cacheMagic + ":" + hex.EncodeToString(h.Sum(nil))[:16]
}()

// WriteRecords writes the corpus' records (gob), for ReadRecords.
func (c *Corpus) WriteRecords(w io.Writer) error {
	bw := bufio.NewWriter(w)
	enc := gob.NewEncoder(bw)
	if err := enc.Encode(rulesVersion); err != nil {
		return err
	}
	recs := make([]Record, len(c.mails))
	for i, m := range c.mails {
		recs[i] = m.record()
	}
	if err := enc.Encode(recs); err != nil {
		return err
	}
	if err := enc.Encode(c.commitDate); err != nil {
		return err
	}
	return bw.Flush()
}

// ReadRecords reads records written by WriteRecords into a corpus.
func ReadRecords(r io.Reader) (*Corpus, error) {
	dec := gob.NewDecoder(bufio.NewReader(r))
	var magic string
	if err := dec.Decode(&magic); err != nil || !strings.HasPrefix(magic, cacheMagic+":") {
		return nil, fmt.Errorf("radar: not a record file of this version (%q, %v)", magic, err)
	}
	if magic != rulesVersion {
		return nil, ErrStaleRecords
	}
	var recs []Record
	if err := dec.Decode(&recs); err != nil {
		return nil, fmt.Errorf("radar: records: %w", err)
	}
	var commits map[string]time.Time
	if err := dec.Decode(&commits); err != nil {
		return nil, fmt.Errorf("radar: records: %w", err)
	}
	mails := make([]*mail, len(recs))
	for i := range recs {
		mails[i] = recs[i].mail()
	}
	c := index(mails)
	for k, v := range commits {
		c.commitDate[k] = v
	}
	return c, nil
}

// LoadRecordFile reads a record file.
func LoadRecordFile(path string) (*Corpus, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("radar: %w", err)
	}
	defer f.Close()
	c, err := ReadRecords(f)
	if err != nil {
		return nil, fmt.Errorf("%w (%s)", err, path)
	}
	return c, nil
}
