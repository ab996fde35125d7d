// Package link connects mailing-list discussions to the commits they
// produced, and commits to each other: stable backports, Fixes: targets,
// reverts and CVE records.
//
// A commit is linked to the message it was applied from on three rungs
// of evidence, each graded and stored with the link (store.LinkRow):
//
//  1. exact: a Link:, Closes: or Message-ID: trailer of the commit names
//     a stored message (REFERENCE §3 URL forms: lore.kernel.org/r/<id>,
//     lore.kernel.org/<list>/<id>/, patch.msgid.link/<id>, a bare id).
//  2. strong: the commit's `git patch-id --stable` equals the patch-id
//     of a posted patch.
//  3. fuzzy: a score over the normalised subject, the author (address,
//     then name), the files touched, the dates (posted before the commit
//     and within Options.Window; `git am` keeps the mail's Date as the
//     author date, so an equal author date marks the very posting that
//     was applied) and the similarity of the changed lines (a bottom-k
//     sketch of hashed +/- lines, whitespace removed, see Sketch).
//
// Candidates are the posted patches and the diffs posted in replies
// (store.reply_patches) with the commit's patch-id, its subject, or its
// author date as Date (git am), and the author's recent patches touching
// its files. Maintainers edit patches when they apply them, so patch-ids
// find only part of the applied patches; and v1..vN of a patch and its
// resends share a subject. All candidates of rungs 2 and 3 are scored
// the same way; among the plausible versions of the best one, the one
// the commit was applied from is picked by patch-id, the Date git am
// keeps, the subject kept, the changed lines, a patch mail over a reply,
// then the latest posting before the commit (appliedFrom). The other
// versions of it (same version chain or author, posted before) are
// stored with RoleEarlier.
//
// A commit git cannot read in full (gitrepo.Problem) is stored without
// its changes and its problem is recorded in the store's problems table
// (store.SourceProblems); the run goes on.
//
// Relations: a commit whose body says "commit <sha> upstream." or
// "[ Upstream commit <sha> ]" is a backport of that commit (and a posted
// patch saying so is a backport posting); Fixes: trailers are expanded to
// full ids with the repository (gitrepo.ResolveShort) and form a graph
// with reverts ("This reverts commit <sha>.").
//
// Linking is incremental: each repository's branch heads are stored
// after a run and the next run reads only commits not reachable from
// them (a force-pushed branch simply yields its rewritten commits).
// Commits left without a link are tried again once newer messages have
// been imported.
//
// CVE records (the kernel vulns repository, internal/cve) are imported
// incrementally by fingerprint. When a CVE's fix commit is in no
// registered repository, its posting is found by subject: the CVE title
// is the fix commit's subject; files touched and dates narrow the
// candidates, and stable backport postings (AUTOSEL, "[PATCH 6.1.y]",
// "commit <sha> upstream.") are set apart from the original posting.
package link
