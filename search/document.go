package search

import (
	"errors"
	"fmt"
	"hash/fnv"
	"strings"
	"time"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/document"
	"github.com/blevesearch/bleve/v2/numeric"
)

// Address is one mailbox of a From, To or Cc header.
type Address struct {
	Name string // display name, decoded; may be empty
	Addr string // addr-spec, e.g. axboe@kernel.dk; may be empty for junk
}

// String returns "Name <addr>", or just the address when there is no name.
func (a Address) String() string {
	switch {
	case a.Name == "":
		return a.Addr
	case a.Addr == "":
		return a.Name
	}
	return a.Name + " <" + a.Addr + ">"
}

// Doc is what the index knows about one message. The indexer fills it; only
// MessageID is required. Text fields may be filled directly or, for message
// bodies, with AddBodyText, which applies public-inbox's split into
// non-quoted text, quoted text and diff pieces. There is no separate "whole
// body" field: b: searches the union of the body fields, so body text is
// indexed once.
type Doc struct {
	MessageID  string   // primary Message-ID without <>; the document id
	MessageIDs []string // every Message-ID of the message (MessageID is added if absent)
	ThreadID   string   // thread the message belongs to (for t=1 collapsing); "" = MessageID
	Lists      []string // patchtrail's names of the lists carrying it, e.g. "io-uring"
	ListIDs    []string // List-Id header values, with or without <>

	Subject    string
	From       []Address
	To         []Address
	Cc         []Address
	References []string // Message-IDs referenced (References + In-Reply-To)

	Date     time.Time // Date: header (after the fallbacks)
	Received time.Time // arrival time; zero = same as Date
	Size     int64     // message size in bytes with CRLF line ends (IMAP RFC822.SIZE, public-inbox's z:)

	NonQuoted       string   // body text outside quotes and diffs (nq:)
	Quoted          string   // quoted lines, "> " kept (q:)
	AttachmentNames []string // file names of attachments (n:)

	DiffFileNames   []string // old and new paths of every file in a diff (dfn:)
	DiffRemoved     string   // removed lines without the "-" (dfa:)
	DiffAdded       string   // added lines without the "+" (dfb:)
	DiffHunkHeaders string   // text after the second "@@" of hunk headers (dfhh:)
	DiffContext     string   // context lines (dfctx:)
	DiffPreBlobs    []string // pre-image blob ids from "index a..b" lines (dfpre:)
	DiffPostBlobs   []string // post-image blob ids (dfpost:)
	PatchIDs        []string // `git patch-id --stable` of the patch(es) in the message

	// Kind is KindMessage ("" means it) or KindCommit; a commit's
	// document id is CommitDocID(sha), set with NewCommitDoc.
	Kind string
	// SHAs is a commit's id; of a message, the commits linked to it
	// (commit:).
	SHAs []string
	// Repos are the repositories holding the commit(s) (repo:).
	Repos []string
	// CVEs are the CVE ids of the commit(s) (cve:).
	CVEs []string
	// States are link states: StateApplied, StateUnapplied,
	// StateOfflist, StateBackport (is:).
	States []string
}

// analysedKey names one value of a text field: the field and the value's
// array position (-1 for a single value).
type analysedKey struct {
	name string
	pos  int
}

func keyOf(name string, arrayPos []uint64) analysedKey {
	if len(arrayPos) == 0 {
		return analysedKey{name, -1}
	}
	return analysedKey{name, int(arrayPos[0])}
}

// Analysis is the analysed text of a document (Analyze).
type Analysis struct {
	fields map[analysedKey]*wordsField
}

// Analyze analyses the words and stems of d's text fields now, the
// dearest part of indexing a document after the index's own segment
// building, so that it can run off the path that indexes d:
// Batch.IndexAnalysed then reuses each analysed field whose value has not
// changed since (and analyses again one that has), for d or for any
// other document made from it. The other fields (keywords, numbers) are
// cheap and built when the document is indexed. The analysis is only
// read once made, so several documents may be indexed with it.
func Analyze(d *Doc) (*Analysis, error) {
	doc, err := toDocument(d, nil)
	if err != nil {
		return nil, err
	}
	m := make(map[analysedKey]*wordsField, len(doc.Fields))
	for _, f := range doc.Fields {
		w, ok := f.(*wordsField)
		if !ok || specByName[w.name].kind != kindText {
			continue // a stem field is analysed with its words field
		}
		w.Analyze()
		m[keyOf(w.name, w.arrayPositions)] = w
	}
	return &Analysis{fields: m}, nil
}

// analysedField returns the analysed words field of name at arrayPos if
// a holds one with this value.
func (a *Analysis) analysedField(name string, arrayPos []uint64, value string) *wordsField {
	if a == nil {
		return nil
	}
	w := a.fields[keyOf(name, arrayPos)]
	if w == nil || string(w.value) != value {
		return nil
	}
	return w
}

// ErrNoMessageID is returned when a Doc without MessageID is indexed.
var ErrNoMessageID = errors.New("search: document has no Message-ID")

// Limits on what one message puts into the index. Analysed, a term costs
// bleve 100-200 bytes while the document is built and batched, so a
// message with a 10 MB Cc line would take 2 GB; beyond these limits the
// rest of the message is not indexed (it is still stored and shown).
// Real mail stays far below them: the largest io-uring message indexes
// under 1 MiB of text.
const (
	// MaxDocBytes bounds the text bytes indexed per message, over all
	// fields.
	MaxDocBytes = 2 << 20
	// MaxDocTerms bounds the words indexed per message, over all fields.
	MaxDocTerms = 200_000
	// MaxDocValues bounds the values of each many-valued field (To and
	// Cc addresses, References, file names, ...) per message.
	MaxDocValues = 2000
)

// Limit cuts d down to the per-message limits (MaxDocBytes, MaxDocTerms,
// MaxDocValues), keeping fields in index order (Message-IDs, headers,
// then body and diff fields) and cutting text at a word boundary. It
// returns a problem describing what was left out ("index limit: ..."),
// "" when nothing was. Indexing applies it too; callers call it first to
// record the problem.
func (d *Doc) Limit() string {
	b := docBudget{bytes: MaxDocBytes, terms: MaxDocTerms}
	b.list("Message-IDs", &d.MessageIDs)
	b.list("List-Ids", &d.ListIDs)
	b.text("Subject", &d.Subject)
	b.addrs("From", &d.From)
	b.addrs("To", &d.To)
	b.addrs("Cc", &d.Cc)
	b.list("References", &d.References)
	b.text("body", &d.NonQuoted)
	b.text("quoted text", &d.Quoted)
	b.list("attachment names", &d.AttachmentNames)
	b.list("diff file names", &d.DiffFileNames)
	b.text("removed lines", &d.DiffRemoved)
	b.text("added lines", &d.DiffAdded)
	b.text("hunk headers", &d.DiffHunkHeaders)
	b.text("diff context", &d.DiffContext)
	b.list("pre-image blobs", &d.DiffPreBlobs)
	b.list("post-image blobs", &d.DiffPostBlobs)
	b.list("patch-ids", &d.PatchIDs)
	if len(b.cut) == 0 {
		return ""
	}
	return fmt.Sprintf("index limit: indexed %d bytes and %d words (limits %d bytes, %d words, %d values per field); left out %s",
		MaxDocBytes-b.bytes, MaxDocTerms-b.terms, MaxDocBytes, MaxDocTerms, MaxDocValues, strings.Join(b.cut, ", "))
}

// docBudget is what is left of the per-message limits while Limit walks
// the fields; cut names what was left out.
type docBudget struct {
	bytes, terms int
	cut          []string
}

// measure returns the length of the longest prefix of s within the
// budget that does not end inside a word, and the words in it.
func (b *docBudget) measure(s string) (n, words int) {
	start, inWord := 0, false
	for i := 0; i < len(s); i++ {
		alnum := wordByte(s[i])
		if alnum && !inWord {
			if words == b.terms {
				return i, words
			}
			words++
			start = i
		}
		inWord = alnum
		if i >= b.bytes {
			if inWord {
				return start, words - 1
			}
			return i, words
		}
	}
	return len(s), words
}

func (b *docBudget) charge(n, words int) {
	b.bytes -= n
	b.terms -= words
}

func (b *docBudget) text(name string, s *string) {
	n, words := b.measure(*s)
	b.charge(n, words)
	if n < len(*s) {
		b.cut = append(b.cut, fmt.Sprintf("%d of %d bytes of the %s", len(*s)-n, len(*s), name))
		*s = (*s)[:n]
	}
}

// whole charges the values if all fit whole, and reports whether they did.
func (b *docBudget) whole(vs ...string) bool {
	saved := *b
	for _, v := range vs {
		n, words := b.measure(v)
		if n < len(v) {
			*b = saved
			return false
		}
		b.charge(n, words)
	}
	return true
}

func (b *docBudget) list(name string, vs *[]string) {
	keep := len(*vs)
	for i, v := range *vs {
		if i == MaxDocValues || !b.whole(v) {
			keep = i
			break
		}
	}
	if keep < len(*vs) {
		b.cut = append(b.cut, fmt.Sprintf("%d of %d %s", len(*vs)-keep, len(*vs), name))
		*vs = (*vs)[:keep:keep]
	}
}

func (b *docBudget) addrs(name string, as *[]Address) {
	keep := len(*as)
	for i, a := range *as {
		if i == MaxDocValues || !b.whole(a.Name, a.Addr) {
			keep = i
			break
		}
	}
	if keep < len(*as) {
		b.cut = append(b.cut, fmt.Sprintf("%d of %d %s addresses", len(*as)-keep, len(*as), name))
		*as = (*as)[:keep:keep]
	}
}

// toDocument builds the bleve document for d, within the per-message
// limits (see Limit). Field options come from schemaFields, so this stays
// in step with NewMapping. kw is the analyzer of keyword fields; a text
// field is a wordsField pair (field.go): its words and, in its stem field,
// their stems.
func toDocument(d *Doc, kw analysis.Analyzer) (*document.Document, error) {
	return toDocumentWith(d, kw, nil)
}

// toDocumentWith is toDocument taking from an (Analyze) the words fields
// whose values are still d's.
func toDocumentWith(d *Doc, kw analysis.Analyzer, an *Analysis) (*document.Document, error) {
	id := trimID(d.MessageID)
	if id == "" {
		return nil, ErrNoMessageID
	}
	if d.limitNeeded() {
		c := *d
		c.Limit()
		d = &c
	}
	doc := document.NewDocument(id)
	add := func(name, value string, arrayPos []uint64) {
		if value == "" {
			return
		}
		spec := specByName[name]
		if spec.kind == kindText {
			if w := an.analysedField(name, arrayPos, value); w != nil {
				doc.AddField(w)
				if w.stems != nil {
					doc.AddField(w.stems)
				}
				return
			}
			var stems *fieldSpec
			if s, ok := specByName[stemField(name)]; ok {
				stems = &s
			}
			w, s := newWordsFields(name, arrayPos, []byte(value), stems)
			doc.AddField(w)
			if s != nil {
				doc.AddField(s)
			}
			return
		}
		doc.AddField(document.NewTextFieldCustom(name, arrayPos, []byte(value), spec.opts, kw))
	}
	addAll := func(name string, values []string, norm func(string) string) {
		n := 0
		for _, v := range values {
			if norm != nil {
				v = norm(v)
			}
			if v == "" {
				continue
			}
			add(name, v, []uint64{uint64(n)})
			n++
		}
	}
	addNum := func(name string, v float64) {
		doc.AddField(newNumberField(name, v, specByName[name].opts))
	}

	mids := append([]string{id}, d.MessageIDs...)
	mids = uniq(mids, trimID)
	addAll(FieldMID, mids, nil)
	addAll(FieldMIDWords, mids, nil)
	tid := d.ThreadID
	if tid == "" {
		tid = id // a message without a thread is its own thread
	}
	add(FieldThreadID, tid, nil)
	addAll(FieldList, uniq(d.Lists, nil), nil)
	addAll(FieldListID, d.ListIDs, normListID)
	addAll(FieldListWords, d.ListIDs, normListID)
	add(FieldSubject, d.Subject, nil)
	for _, h := range []struct {
		words, addrs string
		list         []Address
	}{
		{FieldFrom, FieldFromAddr, d.From},
		{FieldTo, FieldToAddr, d.To},
		{FieldCc, FieldCcAddr, d.Cc},
	} {
		var text, addrs []string
		for _, a := range h.list {
			text = append(text, a.String())
			addrs = append(addrs, a.Addr)
		}
		addAll(h.words, text, nil)
		addAll(h.addrs, addrs, normAddr)
	}
	if len(d.From) > 0 {
		add(FieldFromShow, d.From[0].String(), nil)
	}
	addNum(FieldDate, float64(unix(d.Date)))
	add(FieldOrder, orderTerm(orderKey(d.Date, id)), nil)
	if d.Kind != KindCommit {
		// A commit has no arrival time or mail size: rt: and z: reach
		// messages only, and a commit is spared their 32 numeric terms.
		rt := d.Received
		if rt.IsZero() {
			rt = d.Date
		}
		addNum(FieldReceived, float64(unix(rt)))
		addNum(FieldSize, float64(d.Size))
	}
	add(FieldNonQuoted, d.NonQuoted, nil)
	add(FieldQuoted, d.Quoted, nil)
	addAll(FieldAttachment, d.AttachmentNames, nil)
	addAll(FieldRefs, uniq(d.References, trimID), nil)
	addAll(FieldDiffName, uniq(d.DiffFileNames, nil), nil)
	add(FieldDiffRemove, d.DiffRemoved, nil)
	add(FieldDiffAdd, d.DiffAdded, nil)
	add(FieldDiffHunk, d.DiffHunkHeaders, nil)
	add(FieldDiffCtx, d.DiffContext, nil)
	addAll(FieldDiffPre, uniq(d.DiffPreBlobs, strings.ToLower), nil)
	addAll(FieldDiffPost, uniq(d.DiffPostBlobs, strings.ToLower), nil)
	addAll(FieldPatchID, uniq(d.PatchIDs, strings.ToLower), nil)
	kind := d.Kind
	if kind == "" {
		kind = KindMessage
	}
	add(FieldKind, kind, nil)
	addAll(FieldSHA, uniq(d.SHAs, strings.ToLower), nil)
	addAll(FieldRepo, uniq(d.Repos, nil), nil)
	addAll(FieldCVE, uniq(d.CVEs, strings.ToLower), nil)
	addAll(FieldState, uniq(d.States, nil), nil)
	return doc, nil
}

// unix is t in unix seconds, 0 for the zero time.
func unix(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

// orderKey is the sort key of a message: its date in seconds with 20 bits
// of a hash of its Message-ID below, so that newest-first order is total
// (search_after paging needs that) without sorting on the document id,
// which would load the id of every match. Exact in a float64 until 2242.
func orderKey(date time.Time, id string) int64 {
	h := fnv.New32a()
	h.Write([]byte(id))
	sec := min(max(unix(date), 0), 1<<33-1)
	return sec<<20 | int64(h.Sum32()&(1<<20-1))
}

// orderTerm is the order key k as the one term of FieldOrder: the term
// a numeric field holds for k at full precision, which a sort by number
// reads (bleve's SortFieldAsNumber keeps a field's full-precision terms
// and decodes them), without the fifteen lower-precision terms a numeric
// field adds for range queries. Nothing asks the order for a range; the
// doc values the sort reads per hit are a sixteenth of a number's.
func orderTerm(k int64) string {
	return string(numeric.MustNewPrefixCodedInt64(numeric.Float64ToInt64(float64(k)), 0))
}

// trimID strips blanks and one pair of angle brackets from a Message-ID.
func trimID(s string) string {
	s = strings.TrimSpace(s)
	if len(s) >= 2 && s[0] == '<' && s[len(s)-1] == '>' {
		s = strings.TrimSpace(s[1 : len(s)-1])
	}
	return s
}

// normListID reduces a List-Id header value to the id inside <>,
// lowercased, as public-inbox does ("io-uring.vger.kernel.org").
func normListID(s string) string {
	if i := strings.LastIndexByte(s, '<'); i >= 0 {
		if j := strings.IndexByte(s[i:], '>'); j > 0 {
			s = s[i+1 : i+j]
		}
	}
	return strings.ToLower(strings.TrimSpace(s))
}

func normAddr(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// uniq normalises values with norm (if not nil) and drops empty strings and
// duplicates, keeping the first occurrence.
func uniq(values []string, norm func(string) string) []string {
	if len(values) == 0 {
		return nil
	}
	seen := make(map[string]bool, len(values))
	out := make([]string, 0, len(values))
	for _, v := range values {
		if norm != nil {
			v = norm(v)
		}
		if v == "" || seen[v] {
			continue
		}
		seen[v] = true
		out = append(out, v)
	}
	return out
}

// limitNeeded reports cheaply whether d could exceed a per-message limit.
func (d *Doc) limitNeeded() bool {
	n := len(d.Subject) + len(d.NonQuoted) + len(d.Quoted) + len(d.DiffRemoved) +
		len(d.DiffAdded) + len(d.DiffHunkHeaders) + len(d.DiffContext)
	lists := [][]string{d.MessageIDs, d.ListIDs, d.References, d.AttachmentNames,
		d.DiffFileNames, d.DiffPreBlobs, d.DiffPostBlobs, d.PatchIDs}
	for _, l := range lists {
		if len(l) > MaxDocValues {
			return true
		}
		for _, v := range l {
			n += len(v)
		}
	}
	for _, as := range [][]Address{d.From, d.To, d.Cc} {
		if len(as) > MaxDocValues {
			return true
		}
		for _, a := range as {
			n += len(a.Name) + len(a.Addr)
		}
	}
	// A word takes at least two bytes (one and a separator) but for the
	// last, so fewer than 2*MaxDocTerms-1 bytes hold fewer words.
	return n > MaxDocBytes || n >= 2*MaxDocTerms-1
}

// Words counts the words of d's text (runs of letters and digits, as
// Limit counts them) up to MaxDocTerms: about the tokens indexing d
// analyses, which the memory of its analysis and of its part of an
// in-memory segment follows far more closely than the size of the mail
// (a patch of generated tables or a log dump holds many times the words
// per byte of a discussion). Imports bound their batches by it.
func (d *Doc) Words() int {
	n := countWords(d.Subject) + countWords(d.NonQuoted) + countWords(d.Quoted) +
		countWords(d.DiffRemoved) + countWords(d.DiffAdded) + countWords(d.DiffHunkHeaders) +
		countWords(d.DiffContext)
	for _, l := range [][]string{d.MessageIDs, d.ListIDs, d.References, d.AttachmentNames,
		d.DiffFileNames, d.DiffPreBlobs, d.DiffPostBlobs, d.PatchIDs} {
		for _, v := range l {
			n += countWords(v)
		}
	}
	for _, as := range [][]Address{d.From, d.To, d.Cc} {
		for _, a := range as {
			n += countWords(a.Name) + countWords(a.Addr)
		}
	}
	return min(n, MaxDocTerms)
}

// countWords counts the runs of letters and digits of s (wordByte).
func countWords(s string) int {
	n, inWord := 0, false
	for i := 0; i < len(s); i++ {
		alnum := wordByte(s[i])
		if alnum && !inWord {
			n++
		}
		inWord = alnum
	}
	return n
}

// wordByte reports whether c belongs to a word as the per-message
// limits count words: a letter, a digit or any byte of a multi-byte
// character.
func wordByte(c byte) bool {
	return c >= 0x80 || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}
