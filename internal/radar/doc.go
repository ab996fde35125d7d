// Package radar ranks patch postings by how likely they fix a security
// bug, before any CVE exists: the evidence is what the mailing list
// holds (the patch, its versions, its thread, the report it answers,
// earlier fixes of the same code), the model a small logistic
// regression with one named weight per signal (doc/radar.md).
//
// Evidence is read from the stored messages (Load) into one Record per
// message; the features of a patch are computed from the records of its
// versions and threads (Corpus.Units, Corpus.Patches), and every
// non-zero feature keeps the Message-ID it was found in, so a score is
// explained in words (Model.Signals).
//
// No leakage: a score never looks at the scored patch's CVE. Labels
// (CVE titles with their publication dates, through the Publications
// interface) serve training, evaluation and the history signals, which
// count only CVEs published before the posting; the discussion counts
// only the first two weeks after the posting (Horizon), and CVE ids in
// any text are blanked before it is read.
//
// Quirks: a patch's versions are its postings with the same normalised
// subject from the same sender; a stable backport posting is a subject
// tagged with a stable branch or release (as in internal/link), or
// tagged with a kernel version and naming its upstream commit.
package radar
