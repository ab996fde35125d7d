// Package search implements patchtrail's full-text search: the lore /
// public-inbox query language (the `?q=` of https://lore.kernel.org, see
// public-inbox's PublicInbox::Search and Xapian's QueryParser) parsed to a
// small syntax tree, compiled to bleve v2 queries and run over a sharded
// bleve (scorch) index.
//
// The pieces:
//
//   - schema.go, document.go, bodytext.go: the index schema as code
//     ([SchemaVersion], field names, [Doc], [NewMapping]) and the
//     public-inbox rules that split a message body into non-quoted text,
//     quoted text and diff pieces (dfn:, dfa:, dfb:, dfhh:, dfctx:, blob ids).
//   - analyzer.go, stem.go: the one text analyzer: words are runs of
//     letters, digits and '_' (so io_uring_enter and IORING_OP_READV stay
//     whole) joined by Xapian's infixes ("don't", "AT&T", "5.15"), lowercased, no stop words, each word starting with a letter
//     also giving its English Snowball stem, in the field's stem field
//     without a position, as Xapian's TermGenerator adds its "Z" terms
//     with STEM_SOME; a query word that
//     splits into several words (fs/io_uring.c, axboe@kernel.dk) becomes a
//     phrase, as in Xapian, and a lower-case query word is looked up by
//     its stem (stem.go has the rules).
//   - index.go, batch.go: N scorch shards behind a bleve IndexAlias, a meta
//     file holding the schema version, and a batch that routes documents to
//     shards by a hash of the Message-ID and executes the shard batches
//     concurrently.
//   - query.go, parse.go, ranges.go, approxidate.go: the query language
//     ([Parse], with Xapian's operator precedence) into [Node]s, d:/dt:/rt:/z: ranges and git's "approxidate"
//     date parser ([Approxidate]).
//   - compile.go, searcher.go: the syntax tree → bleve queries, sorting,
//     paging and thread collapsing ([Index.Search], [Index.Iterate]).
//   - syntax.go: the prefix table behind `patchtrail help search` and
//     doc/query_syntax.md.
//
// Known differences from public-inbox/Xapian, all deliberate:
//
//   - A query consisting only of negated terms (NOT a, -a) is a parse error;
//     Xapian (without FLAG_PURE_NOT, as public-inbox runs it) rejects it too
//     and then silently reparses it as plain words.
//   - Parse errors are reported instead of Xapian's silent fallback to
//     "all operators are words".
//   - dfpre:/dfpost:/dfblob: also match when the indexed (abbreviated) blob id
//     is a prefix of the query, so a full 40-hex id finds a 12-hex "index" line.
//   - Approxidates are evaluated in UTC, never in the server's local zone.
//   - z: accepts k/m/g suffixes (powers of 1024).
//   - f:, t:, c:, tc:, a: with a whole address (a@b.c) match the address
//     exactly (case-insensitively) instead of as a phrase of its words.
//   - Each Han, Hiragana, Katakana or Hangul character is a word of its
//     own (Xapian 1.4 keeps a run of them whole), and "C++", "C#" and
//     dotted acronyms ("P.T.O.") are split where Xapian keeps them whole.
package search
