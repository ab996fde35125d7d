package search

import (
	"github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"
	"github.com/blevesearch/bleve/v2/mapping"
	index "github.com/blevesearch/bleve_index_api"
)

// SchemaVersion is the version of the index layout below. Bump it whenever a
// field, analyzer or the document building in document.go changes in a way
// that old indexes would answer differently; Open then refuses the old index
// with a *SchemaError asking for `patchtrail reindex`.
//
// History: 1 the first layout; 2 stem terms (stem.go) beside the words of
// every text field, words split as Xapian splits them ("don't", "5.15"),
// sizes counted with CRLF line ends; 3 commits of registered repositories
// as documents of their own (kind, sha, repo, cve, link state) and the
// link fields of messages (kinds.go); 4 stems in fields of their own
// without positions (stemField), as Xapian keeps its Z terms, and word
// locations without character offsets (no highlighting reads them).
// Since 4, a stem equal to its word is left out of the stem field (the
// word's term stands for it; compile.go looks such a stem up in both):
// an index written before holds those stems as well, and answers the
// same, so the version did not change. 5 the order key as one term
// (orderTerm) instead of a number's sixteen: the date sort reads a
// sixteenth of the doc values per hit. Since 5, a number leaves out its
// terms below the precision that tells its value apart (number.go):
// ranges widen their bounds so that they ask for none of them, and an
// index written before holds them as well and answers the same, so the
// version did not change.
const SchemaVersion = 5

// Index field names. The bleve document id is the primary Message-ID.
//
// What is stored (returned with hits without a database round trip):
// subject, from (display form), date, list and thread id — the fields of
// [Hit]. Everything else is indexed only; full messages come from the store
// by Message-ID.
const (
	FieldMID        = "mid"        // keyword: every Message-ID, exact (mid:)
	FieldMIDWords   = "mid_words"  // words of every Message-ID (m:)
	FieldThreadID   = "tid"        // keyword, stored, doc values (thread collapsing)
	FieldList       = "list"       // keyword, stored: patchtrail's list name
	FieldListID     = "lid"        // keyword: List-Id without <>, lowercased (lid:)
	FieldListWords  = "lid_words"  // words of the List-Ids (l:)
	FieldSubject    = "subject"    // words, stored (s:)
	FieldFrom       = "from"       // words of names and addresses (f:)
	FieldTo         = "to"         // (t:)
	FieldCc         = "cc"         // (c:)
	FieldFromAddr   = "from_addr"  // keyword: lowercased addresses
	FieldToAddr     = "to_addr"    //
	FieldCcAddr     = "cc_addr"    //
	FieldFromShow   = "from_show"  // stored only: "Name <addr>" of the first From
	FieldDate       = "date"       // numeric unix seconds, stored
	FieldOrder      = "order"      // sort key date<<20 | 20 bits of the id hash as one number term (orderTerm), doc values
	FieldReceived   = "received"   // numeric unix seconds (rt:)
	FieldSize       = "size"       // numeric bytes (z:)
	FieldNonQuoted  = "nq"         // words: body outside quotes and diffs (nq:)
	FieldQuoted     = "quoted"     // words: quoted lines (q:)
	FieldAttachment = "attachment" // words of attachment file names (n:)
	FieldRefs       = "refs"       // keyword: referenced Message-IDs (references:)
	FieldDiffName   = "dfn"        // words of old and new paths
	FieldDiffRemove = "dfa"        // words of removed ("-") lines
	FieldDiffAdd    = "dfb"        // words of added ("+") lines
	FieldDiffHunk   = "dfhh"       // words of hunk header contexts
	FieldDiffCtx    = "dfctx"      // words of context lines
	FieldDiffPre    = "dfpre"      // keyword: lowercased pre-image blob ids
	FieldDiffPost   = "dfpost"     // keyword: lowercased post-image blob ids
	FieldPatchID    = "patchid"    // keyword: git patch-id --stable

	// Commits and links (kinds.go). A commit document uses the fields
	// above as a message does: subject, author as From, author date,
	// message body as non-quoted text, its diff, its patch-id.
	FieldKind  = "kind"  // keyword, stored: "message" or "commit"
	FieldSHA   = "sha"   // keyword, stored: a commit's id; of a message, the commits linked to it
	FieldRepo  = "repo"  // keyword, stored: repositories holding the commit(s)
	FieldCVE   = "cve"   // keyword: CVE ids (lowercased) of the commit(s)
	FieldState = "state" // keyword: link states (is:applied, is:unapplied, is:offlist, is:backport)
)

// fieldKind says how a field is indexed; schemaFields is the single source
// for both NewMapping and the documents built in document.go.
type fieldKind int

const (
	kindText    fieldKind = iota // words with positions (phrases)
	kindStem                     // stems of a kindText field's words, no positions
	kindKeyword                  // the whole value is one term
	kindNumber                   // bleve numeric
	kindStored                   // stored, not searchable
)

type fieldSpec struct {
	name string
	kind fieldKind
	opts index.FieldIndexingOptions
}

const (
	optText    = index.IndexField | index.IncludeTermVectors
	optStem    = index.IndexField
	optKeyword = index.IndexField | index.SkipFreqNorm
	optNumber  = index.IndexField
)

var schemaFields = withStemFields([]fieldSpec{
	{FieldMID, kindKeyword, optKeyword},
	{FieldMIDWords, kindText, optText},
	{FieldThreadID, kindKeyword, optKeyword | index.StoreField | index.DocValues},
	{FieldList, kindKeyword, optKeyword | index.StoreField},
	{FieldListID, kindKeyword, optKeyword},
	{FieldListWords, kindText, optText},
	{FieldSubject, kindText, optText | index.StoreField},
	{FieldFrom, kindText, optText},
	{FieldTo, kindText, optText},
	{FieldCc, kindText, optText},
	{FieldFromAddr, kindKeyword, optKeyword},
	{FieldToAddr, kindKeyword, optKeyword},
	{FieldCcAddr, kindKeyword, optKeyword},
	{FieldFromShow, kindStored, index.StoreField},
	{FieldDate, kindNumber, optNumber | index.StoreField},
	{FieldOrder, kindKeyword, optKeyword | index.DocValues},
	{FieldReceived, kindNumber, optNumber},
	{FieldSize, kindNumber, optNumber},
	{FieldNonQuoted, kindText, optText},
	{FieldQuoted, kindText, optText},
	{FieldAttachment, kindText, optText},
	{FieldRefs, kindKeyword, optKeyword},
	{FieldDiffName, kindText, optText},
	{FieldDiffRemove, kindText, optText},
	{FieldDiffAdd, kindText, optText},
	{FieldDiffHunk, kindText, optText},
	{FieldDiffCtx, kindText, optText},
	{FieldDiffPre, kindKeyword, optKeyword},
	{FieldDiffPost, kindKeyword, optKeyword},
	{FieldPatchID, kindKeyword, optKeyword},
	{FieldKind, kindKeyword, optKeyword | index.StoreField},
	{FieldSHA, kindKeyword, optKeyword | index.StoreField},
	{FieldRepo, kindKeyword, optKeyword | index.StoreField},
	{FieldCVE, kindKeyword, optKeyword},
	{FieldState, kindKeyword, optKeyword},
})

// stemFieldSuffix names the stem field of a text field: subject's
// stems are in subject_z (Xapian's "Z" prefix, as a field).
const stemFieldSuffix = "_z"

// stemField returns the field holding the stems of text field name.
//
// Stems are indexed as Xapian's TermGenerator indexes its Z terms (with
// add_term, not add_posting): counted, without positions. Phrases are
// matched on the words (Xapian's QueryParser never stems a phrase word),
// and a stemmed query word is one term lookup (compile.go), so the stems
// need no positions; keeping them apart from the words is what lets the
// words keep theirs without paying for the stems' (doc/scaling.md).
func stemField(name string) string { return name + stemFieldSuffix }

// withStemFields adds the stem field of every text field, right after it.
func withStemFields(fields []fieldSpec) []fieldSpec {
	out := make([]fieldSpec, 0, 2*len(fields))
	for _, f := range fields {
		out = append(out, f)
		if f.kind == kindText {
			out = append(out, fieldSpec{stemField(f.name), kindStem, optStem})
		}
	}
	return out
}

var specByName = func() map[string]fieldSpec {
	m := make(map[string]fieldSpec, len(schemaFields))
	for _, f := range schemaFields {
		m[f.name] = f
	}
	return m
}()

// NewMapping returns the bleve mapping of the index: dynamic mapping off,
// no _all field, every field declared with its analyzer and options.
// Documents are built directly from [Doc] (bleve's IndexAdvanced) with the
// same options; the mapping is what bleve records on disk and what query
// analysis consults.
func NewMapping() mapping.IndexMapping {
	dm := mapping.NewDocumentStaticMapping()
	for _, f := range schemaFields {
		fm := &mapping.FieldMapping{
			Name:               f.name,
			Store:              f.opts.IsStored(),
			Index:              f.opts.IsIndexed(),
			IncludeTermVectors: f.opts.IncludeTermVectors(),
			DocValues:          f.opts.IncludeDocValues(),
			SkipFreqNorm:       f.opts.SkipFreqNorm(),
		}
		switch f.kind {
		case kindText, kindStored:
			fm.Type = "text"
			fm.Analyzer = AnalyzerName
		case kindStem:
			fm.Type = "text"
			fm.Analyzer = StemAnalyzerName
		case kindKeyword:
			fm.Type = "text"
			fm.Analyzer = keyword.Name
		case kindNumber:
			fm.Type = "number"
		}
		dm.AddFieldMappingsAt(f.name, fm)
	}
	im := mapping.NewIndexMapping()
	im.DefaultMapping = dm
	im.DefaultAnalyzer = AnalyzerName
	im.DefaultField = FieldNonQuoted
	im.IndexDynamic = false
	im.StoreDynamic = false
	im.DocValuesDynamic = false
	im.TypeField = "_patchtrail_type" // never present: every document uses DefaultMapping
	return im
}
