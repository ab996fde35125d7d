// Package mbox reads mail archives as a stream of raw messages with a
// resumable position: mbox files (mboxrd, mboxo, mboxcl, mboxcl2, detected
// automatically, optionally gzip/xz/zstd compressed), Maildir directories and
// public-inbox archives (v2 inboxes with all epochs, single epoch git
// directories, v1 inboxes) read through one streaming `git cat-file --batch`.
//
// Every reader yields *Message values through Next until io.EOF. Each
// message carries a checkpoint (Key, Checkpoint) that the caller stores once
// the message is durable; passing the stored checkpoints back through
// Options.Checkpoint resumes after the last durable message. A Reader is
// not safe for concurrent use.
//
// # Detection
//
// Open looks at what is at the path, never at its name: a directory with
// git/N.git subdirectories is a public-inbox v2 inbox; a bare git
// directory (HEAD and objects/) is a single v2 epoch when the tree at HEAD
// holds m or d, a v1 inbox otherwise; a directory with cur/ or new/ is a
// Maildir; anything else is an mbox file, decompressed when it starts with
// the magic bytes of gzip (all members), xz, zstd or bzip2.
//
// # public-inbox
//
// The formats are public-inbox-v2-format(5) and public-inbox-v1-format(5).
// Each epoch is read by exactly two processes, `git log --reverse --raw`
// and `git cat-file --batch`, never one per message; epochs are read in
// numeric order, one at a time. A commit that adds or changes m is a
// message, one that adds d a deletion (Deleted, Data is the removed
// message); in a v1 inbox an added file is a message and a removed file a
// deletion. Commits that change nothing are skipped: public-inbox makes
// one when the very same message is delivered twice (io-uring epoch 0,
// commit d3b5277e3a7c). Received is the committer time. Key is "git/N.git"
// ("" for a v1 inbox, the directory name for an epoch outside an
// INBOX/git/ layout); Checkpoint is the commit id, and resuming reads
// CHECKPOINT..HEAD. A checkpoint commit that is no longer in the history of
// HEAD (the epoch was rewritten, e.g. by public-inbox-purge) makes Open
// fail with ErrRewritten. A blob missing from a partial copy is an item
// with Err; reading goes on. So is a corrupt blob, on which cat-file dies:
// when the blob cannot be read on its own either while HEAD still can, a
// new cat-file reads the rest. A HEAD naming a commit that cannot be read
// (a truncated pack) makes Open fail; only an unborn HEAD is an empty
// repository.
//
// # mbox
//
// The variants are those of qmail's mbox(5) and RFC 4155. A message starts
// at a line beginning "From " that is the first line of the stream or has
// the shape of a postmark ("From SENDER DATE" with a time hh:mm and a four
// digit year), as public-inbox's reader requires; a blank line before a
// "From " line does not make it a separator, since unescaped "From " lines
// after blank lines occur in bodies (only a From line too long to see its
// date counts after a blank line). The "From " line and the blank line
// before the next one are not part of Data. A From line that runs to the
// end of the stream (lines ending in a bare CR, as classic Mac OS wrote
// them) is an item with Err saying so. The variant is decided as the
// file is read, since a stream cannot be scanned twice:
//
//   - A message with a Content-Length header whose body ends exactly where
//     the next "From " line (after at most one blank line) or the end of the
//     file starts is framed by that length (mboxcl, mboxcl2); "From " lines
//     inside such a body do not split it. Such bodies are unescaped like
//     mboxo (one '>' off ">From "), as mboxcl writes them, until one holds an
//     unescaped "From " line: from then on the file is mboxcl2 and nothing
//     is unescaped. A Content-Length that does not fit is ignored (the
//     message ends at the first separator inside the assumed body), and
//     after more failures than successes (plus two) no longer consulted.
//   - Everything else is read as mboxrd: one '>' is removed from every line
//     matching ^>+From. mboxo, which removes one only from ^>From, reads the
//     same except for lines ">>From ", which an mboxo writer never produces
//     by escaping and which (like any line of the form) are taken as a sign
//     of mboxrd; so an ambiguous file is read as mboxrd.
//
// Line ends are kept as they are: CRLF files yield CRLF messages (the
// separator and blank-line rules accept both). NUL bytes are kept. A
// truncated last message yields what is there, noted in the log. A
// compressed stream that is truncated or corrupt yields every byte the
// decompressor recovers (xz through xz(1) when installed: the pure Go
// decoder drops the last chunk it decoded), then an item with Err saying
// where the stream broke and how many messages were kept. Bytes before the first "From " line other than
// white space are reported as an item with Err naming the file and offset,
// and no Data; skipping them checks ctx, so Ctrl-C stops `import
// /dev/zero`. A FIFO is read as it comes: waiting for its writer and
// reads blocked on it end when ctx does. A message larger than 512 MiB is skipped as an item with
// Err. Memory stays bounded by the current message: lines are read through
// a 64 KiB buffer, longer ones in pieces.
//
// Key is ""; Checkpoint is "OFFSET:GUARD", OFFSET the position in the
// decompressed stream after the message and GUARD the CRC-32C (8 hex
// digits) of the 16 KiB before OFFSET: cheap enough to compute for every
// message, and it catches a file that was replaced, rewritten or cut. Resuming seeks (or, when compressed, reads) to
// OFFSET and fails with ErrRewritten when the file is shorter or the guard
// does not match. Where is "PATH:offset N" with N the offset of the
// message's "From " line.
//
// # Maildir
//
// The files of cur/ and new/ (not tmp/), sorted by name. Key is "maildir:"
// and the unique part of the file name (before ":2,"), Checkpoint is "1";
// messages whose key has a checkpoint are skipped. Received is the file's
// modification time. Symlinks are followed (mairix and notmuch search
// folders are Maildirs of links); only regular files are read, never one
// larger than 512 MiB, and in pieces with ctx checked between them. Any
// other entry (a FIFO, a device, a dangling or looping link, a file too
// large) is an item with Err, and so is a cur/ or new/ that cannot be
// listed (a symlink loop): the rest of the Maildir is still read.
//
// # IMAP
//
// A source imaps://USER@HOST[:PORT]/MAILBOX (RFC 9051/3501, implicit TLS)
// or imap://… (STARTTLS, RFC 2595; plain text only to a loopback host) is
// read with go-imap's client: LOGIN with a password from a file, the
// environment variable PATCHTRAIL_IMAP_PASSWORD or ~/.netrc (never the
// URL), EXAMINE (read-only, flags untouched), UID SEARCH for the UIDs
// after the checkpoint, then UID FETCH (UID INTERNALDATE BODY.PEEK[]) in
// batches of 200 UIDs whose messages are handed out one at a time, so
// memory holds one message. Key is the mailbox name, Checkpoint
// "UIDVALIDITY:UID" with UID the highest UID below which every message
// was yielded; Received is INTERNALDATE. A different UIDVALIDITY (the
// server renumbered the mailbox) reads the whole mailbox again: the store
// recognises the messages it holds. A dropped connection is re-established
// with doubling delays and reading goes on after the last message
// yielded; a FETCH answered NO (messages expunged meanwhile) skips what
// was not sent. Messages expunged from the mailbox stay in the archive.
package mbox

import (
	"context"
	"errors"
	"log/slog"
	"time"
)

// Message is one item read from a source.
type Message struct {
	// Data is the raw RFC 5322 message (headers, blank line, body) with
	// the mbox "From " separator line removed and mbox escaping undone.
	// Nil when Err is set and nothing could be read.
	Data []byte
	// Key names the part of the source the checkpoint belongs to: the
	// epoch ("git/0.git") of a public-inbox, "" for an mbox file, the
	// unique file name for a Maildir message.
	Key string
	// Checkpoint is the value to store under Key once this message (and
	// every message before it) is durable.
	Checkpoint string
	// Where names the input and position for error messages:
	// "archive.mbox:offset 1234", "inbox/git/0.git commit abc123…",
	// "Maildir/cur/123.abc:2,S".
	Where string
	// Received is when the archive received the message, if it knows
	// (public-inbox commit time, Maildir file time); zero otherwise.
	Received time.Time
	// Deleted marks a public-inbox deletion: Data is the message that was
	// removed from the archive.
	Deleted bool
	// Err is set when this item could not be read (a missing git blob, a
	// piece of an mbox that is no message). The caller records it as a
	// problem of the source and stores the checkpoint; reading goes on.
	Err error
}

// Reader yields the messages of one source in archive order.
type Reader interface {
	// Next returns the next message, or io.EOF at the end. Any other
	// error is sticky: the reader cannot go on.
	Next() (*Message, error)
	// Close releases files and child processes; it is idempotent.
	Close() error
	// Name is the default list name of the source: the inbox directory
	// name for a public-inbox, "" when the source does not tell.
	Name() string
}

// Options tunes Open. A nil *Options means defaults.
type Options struct {
	// Checkpoint returns the checkpoint stored for key, and whether there
	// is one. Nil means start from the beginning.
	Checkpoint func(key string) (string, bool)
	// Logger receives progress and problems; nil discards.
	Logger *slog.Logger
	// IMAP tunes imap:// and imaps:// sources (password file, TLS,
	// batches, reconnects); nil means defaults.
	IMAP *IMAPOptions
}

// ErrRewritten reports a source that no longer matches its checkpoint:
// an mbox that shrank or whose bytes before the checkpoint changed, an
// epoch whose history no longer contains the checkpoint commit.
var ErrRewritten = errors.New("mbox: source was rewritten since the last import")

// Open detects the kind of source at path (mbox file, Maildir,
// public-inbox v2 inbox, single epoch git dir, v1 inbox) and opens it;
// an imap:// or imaps:// URL opens an IMAP mailbox.
func Open(ctx context.Context, path string, opts *Options) (Reader, error) {
	return open(ctx, path, opts)
}
