package cve

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"patchtrail/internal/regfile"
)

// Backport is one line of a .dyad file: the fix as it landed on one
// branch. Empty fields were "0" (unknown) in the file; an empty
// Introduced pair means the bug was there since the branch began, an
// empty Fixed pair means the branch is still vulnerable.
type Backport struct {
	IntroducedVersion, IntroducedSHA string
	FixedVersion, FixedSHA           string
}

// VersionRange is one entry of affected[].versions in the JSON record.
type VersionRange struct {
	Type            string // versionType: "git", "semver", "original_commit_for_fix" or ""
	Status          string // "affected" or "unaffected"
	Version         string // a commit id or a kernel version ("0" = the beginning)
	LessThan        string
	LessThanOrEqual string // e.g. "5.4.*" or "*"
}

// Record is one CVE of the vulns repository.
type Record struct {
	ID     string // "CVE-2024-26626"
	Year   int
	Number int
	State  string // the directory it was read from: "published", "rejected", ...

	FixSHAs        []string   // .sha1: mainline fix commits
	IntroducedSHAs []string   // .vulnerable: commits that introduced the bug
	Backports      []Backport // .dyad, in file order

	Title       string   // containers.cna.title: the fix commit's subject
	Description string   // the English description (the fix commit's message)
	Files       []string // affected[].programFiles, without duplicates, in order

	Severity   string  // CVSS base severity ("HIGH"), "" when unscored
	CVSS       float64 // CVSS base score, 0 when unscored
	CVSSVector string  // "CVSS:3.1/AV:N/...", "" when unscored

	Published time.Time // cveMetadata.datePublished, zero when absent
	Updated   time.Time // cveMetadata.dateUpdated, zero when absent

	References []string       // reference URLs (JSON, then .reference), without duplicates
	Affected   []VersionRange // affected[].versions of every entry, without duplicates

	Path        string // base path of the record's files, without extension
	Fingerprint string // hex SHA-256 over the names and contents of all its files
}

// Touches reports whether any of the record's Files starts with one of
// the prefixes ("io_uring/", "fs/io_uring.c", "include/linux/io_uring").
func (r *Record) Touches(prefixes ...string) bool {
	for _, f := range r.Files {
		for _, p := range prefixes {
			if strings.HasPrefix(f, p) {
				return true
			}
		}
	}
	return false
}

// Sentinel errors carried by RecordError.Err.
var (
	ErrMissingJSON = errors.New("cve: record has no .json file")
	ErrBadJSON     = errors.New("cve: invalid CVE JSON")
	ErrBadDyad     = errors.New("cve: malformed .dyad line")
	ErrBadSHA      = errors.New("cve: malformed commit id")
	ErrBadCVSS     = errors.New("cve: malformed CVSS vector")
	ErrIDMismatch  = errors.New("cve: record id does not match its file name")
	ErrNotRegular  = errors.New("cve: record file is not a regular file")
	ErrTooLarge    = errors.New("cve: record file too large")
)

// RecordError is a malformed record: the file, the 1-based line when
// known (0 otherwise) and the problem (wrapping one of the Err* values).
type RecordError struct {
	Path string
	Line int
	Err  error
}

func (e *RecordError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("cve: %s:%d: %v", e.Path, e.Line, e.Err)
	}
	return fmt.Sprintf("cve: %s: %v", e.Path, e.Err)
}

func (e *RecordError) Unwrap() error { return e.Err }

// recordFiles maps a record's extensions ("json", "sha1", ...) to their
// contents.
type recordFiles map[string][]byte

// readRecordFiles reads every file of a record given its extensions. An
// unreadable file is a *RecordError naming it.
func readRecordFiles(base string, exts []string) (recordFiles, error) {
	files := make(recordFiles, len(exts))
	for _, ext := range exts {
		b, err := readRecordFile(base + "." + ext)
		if err != nil {
			return nil, &RecordError{Path: base + "." + ext, Err: err}
		}
		files[ext] = b
	}
	return files, nil
}

// maxRecordFile bounds one file of a record; the largest in the vulns
// repository (2026) is 33 KB.
const maxRecordFile = 1 << 20

// readRecordFile reads one file of a record: only a regular file (a FIFO
// would block for ever, /dev/zero never end), of at most maxRecordFile
// bytes.
func readRecordFile(path string) ([]byte, error) {
	f, fi, err := regfile.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("%w: it is %s", ErrNotRegular, regfile.Kind(fi.Mode()))
	}
	b, err := io.ReadAll(io.LimitReader(f, maxRecordFile+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxRecordFile {
		return nil, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, maxRecordFile)
	}
	return b, nil
}

// fingerprint hashes the files in extension order, each as
// ext, NUL, 8-byte length, content.
func (f recordFiles) fingerprint() string {
	exts := make([]string, 0, len(f))
	for ext := range f {
		exts = append(exts, ext)
	}
	sort.Strings(exts)
	h := sha256.New()
	var n [8]byte
	for _, ext := range exts {
		h.Write([]byte(ext))
		h.Write([]byte{0})
		binary.BigEndian.PutUint64(n[:], uint64(len(f[ext])))
		h.Write(n[:])
		h.Write(f[ext])
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Load reads the record whose files start with basePath
// (".../cve/published/2024/CVE-2024-26626"). A malformed record is
// reported as a *RecordError.
func Load(ctx context.Context, basePath string) (*Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("cve: %w", err)
	}
	matches, err := filepath.Glob(globEscape(basePath) + ".*")
	if err != nil {
		return nil, fmt.Errorf("cve: %w", err)
	}
	var exts []string
	for _, m := range matches {
		if ext := strings.TrimPrefix(m, basePath+"."); ext != "" && !strings.Contains(ext, "/") {
			exts = append(exts, ext)
		}
	}
	files, err := readRecordFiles(basePath, exts)
	if err != nil {
		return nil, err
	}
	state := filepath.Base(filepath.Dir(filepath.Dir(basePath)))
	return parseRecord(basePath, state, files)
}

func globEscape(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `*`, `\*`, `?`, `\?`, `[`, `\[`)
	return r.Replace(s)
}

// parseID splits "CVE-2024-26626" into its year and number.
func parseID(id string) (year, number int, ok bool) {
	rest, ok := strings.CutPrefix(id, "CVE-")
	if !ok {
		return 0, 0, false
	}
	y, n, ok := strings.Cut(rest, "-")
	if !ok || len(y) != 4 || n == "" {
		return 0, 0, false
	}
	year, err1 := strconv.Atoi(y)
	number, err2 := strconv.Atoi(n)
	if err1 != nil || err2 != nil || number < 0 || strings.HasPrefix(n, "+") {
		return 0, 0, false
	}
	return year, number, true
}

// parseRecord builds a Record from the contents of its files.
func parseRecord(base, state string, files recordFiles) (*Record, error) {
	id := filepath.Base(base)
	year, number, ok := parseID(id)
	if !ok {
		return nil, &RecordError{Path: base, Err: fmt.Errorf("%w: %q is not a CVE id", ErrIDMismatch, id)}
	}
	r := &Record{ID: id, Year: year, Number: number, State: state, Path: base, Fingerprint: files.fingerprint()}

	data, ok := files["json"]
	if !ok {
		return nil, &RecordError{Path: base + ".json", Err: ErrMissingJSON}
	}
	if err := r.parseJSON(data); err != nil {
		var re *RecordError
		if errors.As(err, &re) {
			re.Path = base + ".json"
			return nil, re
		}
		return nil, &RecordError{Path: base + ".json", Err: err}
	}
	var err error
	if r.FixSHAs, err = parseSHAList(files["sha1"]); err != nil {
		return nil, withPath(err, base+".sha1")
	}
	if r.IntroducedSHAs, err = parseAbbrevSHAList(files["vulnerable"]); err != nil {
		return nil, withPath(err, base+".vulnerable")
	}
	if d, ok := files["dyad"]; ok {
		if r.Backports, err = ParseDyad(d); err != nil {
			return nil, withPath(err, base+".dyad")
		}
	}
	if c, ok := files["cvss"]; ok && r.CVSSVector == "" {
		line, _, _ := bytes.Cut(c, []byte("\n"))
		fields := strings.Fields(string(line))
		if len(fields) == 0 {
			return nil, &RecordError{Path: base + ".cvss", Line: 1, Err: fmt.Errorf("%w: empty first line", ErrBadCVSS)}
		}
		vec := fields[len(fields)-1]
		score, sev, err := CVSSBaseScore(vec)
		if err != nil {
			return nil, &RecordError{Path: base + ".cvss", Line: 1, Err: err}
		}
		r.CVSSVector, r.CVSS, r.Severity = vec, score, sev
	}
	for _, line := range strings.Split(string(files["reference"]), "\n") {
		if u := strings.TrimSpace(line); u != "" && !slices.Contains(r.References, u) {
			r.References = append(r.References, u)
		}
	}
	return r, nil
}

func withPath(err error, path string) error {
	var re *RecordError
	if errors.As(err, &re) {
		re.Path = path
		return re
	}
	return &RecordError{Path: path, Err: err}
}

// parseSHAList reads one 40-hex commit id per line (blank lines allowed).
func parseSHAList(b []byte) ([]string, error) {
	var out []string
	for i, line := range strings.Split(string(b), "\n") {
		s := strings.TrimSpace(line)
		if s == "" {
			continue
		}
		if !isSHA(s) {
			return nil, &RecordError{Line: i + 1, Err: fmt.Errorf("%w: %q", ErrBadSHA, s)}
		}
		out = append(out, strings.ToLower(s))
	}
	return out, nil
}

func isSHA(s string) bool {
	if len(s) != 40 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}
