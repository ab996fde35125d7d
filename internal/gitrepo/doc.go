// Package gitrepo reads the commits of a local git repository (bare or
// with a work tree) as a stream, for linking mailing-list patches to the
// commits they became.
//
// Log runs exactly one `git log -p` process per read and parses its
// output incrementally; it never starts a process per commit. The output
// format is private to this package: every commit starts with a NUL byte,
// then the commit and parent ids, author and committer identities with
// raw dates ("<unix seconds> <±hhmm>"), the raw message (%B) and a
// closing NUL; the patch follows. Because commit messages never contain
// NUL and every diff line starts with a diff prefix, the commit boundary
// is unambiguous even when a message contains lines such as
// "commit <sha> upstream." or "diff --git".
//
// The patch-id of each commit is computed in-process from the same
// stream with the algorithm of `git patch-id --stable` (git 2.39+: lines
// hashed without whitespace, "index" lines skipped, binary files hashed
// by their blob ids, one SHA-1 per file summed with carry so file order
// does not matter). The diff options are pinned (-M, myers, -U3, a/ and
// b/ prefixes, quoted paths, no textconv or external diff) so the result
// equals `git show <sha> | git patch-id --stable` under git's defaults,
// whatever the user's configuration. Merge commits get no diff
// (--diff-merges=off): their Files are empty and their PatchID is "".
//
// Incremental reads: LogOptions.Since lists the heads stored after the
// previous read; they are passed to git as ^excludes, so only commits not
// reachable from any old head are returned. A force-pushed branch works
// without special care: its rewritten commits are new objects that no
// old head reaches, so they are returned; commits dropped by the rewrite
// are simply not seen again. An old head whose object no longer exists
// (pruned by gc after a force-push) cannot be excluded: it is dropped
// from Since with a warning (LogReader.Dropped lists it), and the commits
// it used to exclude are read again, so imports must be idempotent.
//
// Unreadable commits: when git dies part way ("unable to read <blob>" in
// a partial clone), the commits not returned yet are listed with
// `git rev-list` and read on with --no-walk; the commit git failed on is
// read alone once more and, failing again, returned with its metadata
// only and Commit.Problem set (or, when not even that can be read,
// listed by LogReader.Problems and skipped). Shallow boundaries (the
// shallow file) and replaced or grafted commits (refs/replace,
// info/grafts) are returned without changes likewise: git would show a
// diff that is not theirs. Lazy fetches from a promisor remote are
// turned off while reading.
//
// Quirks: author and committer names are not mailmapped; messages are
// re-encoded to UTF-8 by git when they carry an encoding header and are
// passed through byte for byte otherwise; file type changes appear as a
// deletion plus an addition, as in `git show`.
package gitrepo
