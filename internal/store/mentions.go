package store

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"strings"
)

// mentionSchema: the CVE ids and commit ids a message names in its own
// text (quoted lines left out), so a trace finds the discussion of a CVE
// and the reports against a commit without a full-text search.
const mentionSchema = `
CREATE TABLE IF NOT EXISTS mentions (
	term TEXT NOT NULL,      -- "CVE-2024-41001", or the first 12 hex digits of a commit id
	message INTEGER NOT NULL,
	PRIMARY KEY (term, message)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS mentions_message ON mentions(message);
`

// cveMentionRE matches a CVE id.
var cveMentionRE = regexp.MustCompile(`(?i)\bCVE-\d{4}-\d{4,7}\b`)

// MentionTerms are the terms of text (a subject and the text a message
// wrote itself) for the mentions table: CVE ids in upper case and the
// first 12 hex digits, lower case, of commit ids named as commits.
func MentionTerms(text string) []string {
	var out []string
	seen := map[string]bool{}
	add := func(t string) {
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	if hasCVE(text) {
		for _, m := range cveMentionRE.FindAllString(text, -1) {
			add(strings.ToUpper(m))
		}
	}
	commitMentions(text, func(id string) { add(strings.ToLower(id[:12])) })
	return out
}

// hasCVE reports whether text holds "CVE-" in any case.
func hasCVE(text string) bool {
	for i := 3; i < len(text); i++ {
		if text[i] == '-' && text[i-3]|0x20 == 'c' && text[i-2]|0x20 == 'v' && text[i-1]|0x20 == 'e' {
			return true
		}
		if j := strings.IndexByte(text[i+1:], '-'); j < 0 {
			break
		} else {
			i += j
		}
	}
	return false
}

// commitMentions calls fn, in text order, with every commit id (12 to 40
// hex digits, a word of its own) that text names as a commit: after
// "commit" or "patch" ("commit <id>", "The patch <id>: ..." of static
// checker reports) or before a parenthesised quoted subject
// ("<id> (\"subject\")": Fixes: and the kernel's reference style). The
// words are read one by one rather than with one regular expression,
// which, starting with a word boundary and no literal, ran its whole
// machine over every byte of every message.
func commitMentions(text string, fn func(id string)) {
	for i := 0; i < len(text); {
		if !isWordByte(text[i]) {
			i++
			continue
		}
		j, hex := i, true
		for j < len(text) && isWordByte(text[j]) {
			hex = hex && isHexByte(text[j])
			j++
		}
		if hex && j-i >= 12 && j-i <= 40 && (namedAfter(text, i) || namedBefore(text, j)) {
			fn(text[i:j])
		}
		i = j
	}
}

// namedAfter reports whether the word at i follows "commit" or "patch"
// (any case) and white space.
func namedAfter(text string, i int) bool {
	k := i
	for k > 0 && isSpaceByte(text[k-1]) {
		k--
	}
	if k == i {
		return false
	}
	w := k
	for w > 0 && isWordByte(text[w-1]) {
		w--
	}
	word := text[w:k]
	return strings.EqualFold(word, "commit") || strings.EqualFold(word, "patch")
}

// namedBefore reports whether the word ending at j is followed by white
// space and a parenthesised quote.
func namedBefore(text string, j int) bool {
	k := j
	for k < len(text) && isSpaceByte(text[k]) {
		k++
	}
	return k > j && (strings.HasPrefix(text[k:], `("`) || strings.HasPrefix(text[k:], "(\u201c"))
}

func isWordByte(c byte) bool {
	return c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

func isHexByte(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

// isSpaceByte is \s of the regexp package.
func isSpaceByte(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r'
}

// AddMentions records the terms message names.
func (t *Tx) AddMentions(message int64, terms []string) error {
	for _, term := range terms {
		if _, err := t.exec(`INSERT OR IGNORE INTO mentions(term, message) VALUES (?, ?)`, term, message); err != nil {
			return err
		}
	}
	return nil
}

// MessagesMentioning returns the messages naming term (a CVE id, or a
// commit id of at least 12 hex digits), oldest first, deleted messages
// left out.
func (s *Store) MessagesMentioning(ctx context.Context, term string) ([]*Message, error) {
	if cveMentionRE.MatchString(term) {
		term = strings.ToUpper(term)
	} else if len(term) >= 12 {
		term = strings.ToLower(term[:12])
	} else {
		return nil, nil
	}
	var n int
	if err := s.queryRow(ctx, `SELECT count(*) FROM sqlite_master WHERE name = 'mentions'`).Scan(&n); err != nil || n == 0 {
		return nil, err // a store written before mentions, opened read-only: none known
	}
	return s.messages(ctx, `SELECT `+messageCols+` FROM messages WHERE id IN (SELECT message FROM mentions WHERE term = ?) AND deleted = 0 ORDER BY date, id`, term)
}

// fillMentions creates the mentions table and fills it, in one
// transaction (a crash leaves no table, so the next open fills it
// again), from the messages already stored (none in a new store): headers and body lines not quoted
// with '>' (a message whose body is encoded, base64 say, is not read;
// messages imported from now on are read decoded).
func fillMentions(ctx context.Context, s *Store) error {
	rows, err := s.db.QueryContext(ctx, `SELECT id, raw FROM messages`)
	if err != nil {
		return fmt.Errorf("store: fill mentions: %w", err)
	}
	type mention struct {
		id    int64
		terms []string
	}
	var found []mention
	for rows.Next() {
		var id int64
		var b []byte
		if err := rows.Scan(&id, &b); err != nil {
			rows.Close()
			return fmt.Errorf("store: fill mentions: %w", err)
		}
		raw, err := s.decompress(b)
		if err != nil {
			continue // the message stays readable as it is; it names nothing here
		}
		if terms := MentionTerms(ownLines(raw)); len(terms) > 0 {
			found = append(found, mention{id, terms})
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: fill mentions: %w", err)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: fill mentions: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, mentionSchema); err != nil {
		return fmt.Errorf("store: create mentions: %w", err)
	}
	ins, err := tx.PrepareContext(ctx, `INSERT OR IGNORE INTO mentions(term, message) VALUES (?, ?)`)
	if err != nil {
		return fmt.Errorf("store: fill mentions: %w", err)
	}
	for _, m := range found {
		for _, t := range m.terms {
			if _, err := ins.ExecContext(ctx, t, m.id); err != nil {
				return fmt.Errorf("store: fill mentions: %w", err)
			}
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: fill mentions: %w", err)
	}
	return nil
}

// ownLines is raw without its quoted lines ("> ...").
func ownLines(raw []byte) string {
	var b strings.Builder
	for _, line := range bytes.Split(raw, []byte("\n")) {
		if len(line) > 0 && line[0] == '>' {
			continue
		}
		b.Write(line)
		b.WriteByte('\n')
	}
	return b.String()
}

// MessagesBySubject returns the messages whose normalised subject
// (patch.NormalizeSubject) is one of norms, oldest first.
func (s *Store) MessagesBySubject(ctx context.Context, norms []string) ([]*Message, error) {
	if len(norms) == 0 {
		return nil, nil
	}
	args := make([]any, len(norms))
	for i, n := range norms {
		args[i] = n
	}
	return s.messages(ctx, `SELECT `+messageCols+` FROM messages WHERE norm_subject IN (?`+strings.Repeat(",?", len(norms)-1)+`) AND deleted = 0 ORDER BY date, id`, args...)
}
