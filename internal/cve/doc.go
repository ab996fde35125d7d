// Package cve reads the Linux kernel CVE team's vulns repository
// (git.kernel.org/pub/scm/linux/security/vulns.git) as a stream of
// records, for linking CVEs to the commits and mailing-list threads
// behind them.
//
// Layout: cve/<state>/<year>/CVE-<year>-<n>.<ext> with state "published"
// (read by default), "rejected", "reserved" or "returned". The files of
// one record share a base name:
//
//   - .json: the CVE JSON 5.x record (CVE Record Format, dataVersion
//     5.1.x): containers.cna.title is the fix commit's subject,
//     descriptions[].value the commit message, affected[].programFiles
//     the files the fix touches, affected[].versions git and semver
//     ranges, references the stable commit URLs, metrics an optional
//     CVSS score.
//   - .sha1: the mainline fix commit(s), one 40-hex id per line.
//   - .vulnerable: the commit(s) that introduced the bug (the Fixes:
//     target), when known.
//   - .dyad: "introduced_version:introduced_sha:fixed_version:fixed_sha"
//     lines, "0" for unknown, one per stable branch (so every backport of
//     the fix); lines starting with '#' are comments.
//   - .cvss: optional; its first line is "<assigner uuid> CVSS:3.1/...",
//     followed by the scorer's rationale.
//   - .reference: optional extra reference URLs, one per line.
//   - .mbox, .message: the announcement mail and an optional text
//     override; not parsed, but part of the record's fingerprint.
//
// Quirks of the real repository: cveMetadata carries no datePublished or
// dateUpdated (those are added by cve.org), so Published and Updated are
// usually zero; some .sha1 and .vulnerable files lack a final newline;
// affected[] lists the same programFiles twice (one entry for git ranges,
// one for semver ranges); versionType may be absent or
// "original_commit_for_fix"; descriptions are truncated with
// "---truncated---". A CVSS score is taken from the JSON metrics and, if
// those are absent, computed from the .cvss vector (CVSS v3.0/v3.1 base
// score).
//
// A malformed record (missing or invalid JSON, an unreadable .dyad,
// .sha1, .vulnerable or .cvss line, an id that disagrees with its file
// name) is reported as a *RecordError through Options.OnError and
// skipped; reading goes on. Every record has a Fingerprint (SHA-256 over
// all of its files), and Options.Unchanged lets an incremental import
// skip records it already holds without parsing them.
package cve
