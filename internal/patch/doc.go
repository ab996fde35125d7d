// Package patch understands the patch side of a mailing-list message,
// as pure functions over strings: the tags of a subject, the trailers
// of a commit message or review, the diffs in a body, and their patch
// ids.
//
// Formats and their references:
//
//   - Subjects follow the kernel conventions that git format-patch, b4
//     and Patchwork write and parse: "[PATCH net-next v3 2/7]", "[RFC
//     PATCH]", "[PATCHv3]", "[GIT PULL]", list tags such as "[LTP]"
//     before the patch bracket, reply prefixes in many languages ("Re:",
//     "AW:", "SV:", "Antw:", "Odp:", "Réf:") and forwards ("Fwd:", "WG:").
//     NormalizeSubject is public-inbox's subject_normalized plus
//     lowercasing and every reply prefix, for same-subject matching.
//   - Trailers are found exactly as `git interpret-trailers --parse`
//     finds them (git 2.39 trailer.c): only the last paragraph, all
//     trailers or at least 25% trailers with a Signed-off-by, the
//     message ending at "---", continuation lines folded. Review
//     replies carry trailers anywhere in their text (FindReplyTrailers).
//     Values are split per key: people, Fixes: <sha> ("title"), Link:
//     and Closes: URLs with the Message-ID they name (lore, patch.msgid.link).
//   - Diffs are parsed with github.com/bluekeyes/go-gitdiff: git diffs
//     (renames, copies, modes, binary) and traditional unified diffs.
//   - Patch ids are `git patch-id --stable`, byte for byte, including
//     git's quirks (see pidScanner); a text holding several patches is
//     split where git patch-id splits it.
//
// Quirks of real mail: bodies may have CRLF line ends (normalised),
// patches without "diff --git" lines (plain diff -u: parsed, but git
// patch-id ignores them, so their PatchID is ""), hand-edited hunks
// whose line counts are wrong (git stops hashing there, and so do we),
// and prose lines that start with "diff " (git hashes them as a patch;
// PatchID does too, ParsePatches drops patches with no file in them).
package patch
