package search

import (
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Hard limits: the HTTP server parses queries from anyone.
const (
	maxTerms      = 256  // leaf terms per query
	maxDepth      = 64   // nested parentheses
	maxQueryRunes = 8192 // characters per query
)

// ParseError is a query syntax error. Pos is the 1-based column, counted
// in characters, of the offending token.
type ParseError struct {
	Pos int
	Msg string
}

func (e *ParseError) Error() string {
	return fmt.Sprintf("search: query column %d: %s", e.Pos, e.Msg)
}

// Parse parses a lore / public-inbox query (see HelpText). now anchors
// relative dates such as d:2.weeks.ago.
//
// Grammar, loosest first, following Xapian's QueryParser (queryparser.lemony:
// OR below AND and NOT, which bind alike, left to right, below juxtaposed
// terms) with public-inbox's flags (BOOLEAN, PHRASE, LOVEHATE, WILDCARD;
// operators upper case only) and default operator AND:
//
//	query   = or EOF
//	or      = and { "OR" and }
//	and     = prob { ( "AND" | "NOT" | "AND" "NOT" | "AND" "-" ) prob }
//	prob    = operand { operand }                   (juxtaposition: AND)
//	operand = ["-"] ( "(" or ")" | [prefix ":"] ( "(" or ")" | '"' text '"' | word ) )
//
// so a b OR c is (a b) OR c, a OR b c is a OR (b c), a NOT b c is
// a AND NOT (b c), a -b c is (a c) AND NOT b, and a NOT b OR c is
// (a NOT b) OR c.
//
// Words that contain no letters or digits are dropped, as Xapian does.
// A '+' outside quotes is a space (URL form), except inside the value of
// mid: and references:, since Message-IDs may contain '+'. An unterminated
// quote runs to the end of the query (Xapian does the same).
func Parse(q string, now time.Time) (Node, error) {
	if n := utf8.RuneCountInString(q); n > maxQueryRunes {
		return nil, &ParseError{Pos: maxQueryRunes + 1, Msg: fmt.Sprintf("query too long (%d characters, at most %d)", n, maxQueryRunes)}
	}
	p := &parser{src: []rune(q), now: now}
	n, _, err := p.parseOr(nil)
	if err != nil {
		return nil, err
	}
	t, err := p.next()
	if err != nil {
		return nil, err
	}
	if t.kind == tokRParen {
		return nil, &ParseError{Pos: t.pos, Msg: "unexpected ')' without a matching '('"}
	}
	if n == nil {
		return nil, &ParseError{Pos: 1, Msg: "query has no words to search for"}
	}
	return n, nil
}

type tokKind int

const (
	tokEOF tokKind = iota
	tokLParen
	tokRParen
	tokAnd
	tokOr
	tokNot
	tokWord
)

type token struct {
	kind   tokKind
	pos    int // column of the token (of its '-' when negated)
	neg    bool
	spec   *prefixSpec // the prefix, nil if none
	valPos int         // column of the value
	text   string
	quoted bool
	group  bool // "-(" or "prefix:(": a group follows, its '(' consumed
}

type parser struct {
	src   []rune
	i     int
	depth int
	tok   *token // peeked
	terms int
	now   time.Time
}

func isQuote(r rune) bool { return r == '"' || r == '“' || r == '”' }

func (p *parser) isSep(r rune, keepPlus bool) bool {
	return unicode.IsSpace(r) || (r == '+' && !keepPlus)
}

// prefixAt returns the known prefix spelled at src[i:] before a ':'.
func (p *parser) prefixAt(i int) (*prefixSpec, int) {
	j := i
	for j < len(p.src) && j-i < 12 && p.src[j] >= 'a' && p.src[j] <= 'z' {
		j++
	}
	if j == i || j >= len(p.src) || p.src[j] != ':' {
		return nil, 0
	}
	spec := prefixByName[string(p.src[i:j])]
	if spec == nil {
		return nil, 0
	}
	return spec, j - i
}

func (p *parser) lex() (*token, error) {
	for p.i < len(p.src) && p.isSep(p.src[p.i], false) {
		p.i++
	}
	if p.i >= len(p.src) {
		return &token{kind: tokEOF, pos: max(1, len(p.src))}, nil
	}
	t := &token{kind: tokWord, pos: p.i + 1}
	switch p.src[p.i] {
	case '(':
		p.i++
		t.kind = tokLParen
		return t, nil
	case ')':
		p.i++
		t.kind = tokRParen
		return t, nil
	case '-':
		if p.i+1 < len(p.src) {
			if r := p.src[p.i+1]; isWordRune(r) || isQuote(r) || r == '(' {
				t.neg = true
				p.i++
			}
		}
	}
	if spec, n := p.prefixAt(p.i); spec != nil {
		t.spec = spec
		p.i += n + 1
		if p.i >= len(p.src) || p.isSep(p.src[p.i], false) || p.src[p.i] == ')' {
			return nil, &ParseError{Pos: t.pos, Msg: fmt.Sprintf("missing value after %s:", string(p.src[p.i-n-1:p.i-1]))}
		}
	}
	t.valPos = p.i + 1
	if (t.neg || t.spec != nil) && p.src[p.i] == '(' {
		p.i++
		t.group = true
		return t, nil
	}
	if isQuote(p.src[p.i]) {
		p.i++
		start := p.i
		for p.i < len(p.src) && !isQuote(p.src[p.i]) {
			p.i++
		}
		t.text, t.quoted = string(p.src[start:p.i]), true
		if p.i < len(p.src) {
			p.i++
		}
		return t, nil
	}
	keepPlus := t.spec != nil && (t.spec.kind == kindMID || t.spec.kind == kindRef)
	start, open := p.i, 0
	for ; p.i < len(p.src); p.i++ {
		r := p.src[p.i]
		if p.isSep(r, keepPlus) {
			break
		}
		if r == '(' {
			open++
		} else if r == ')' {
			if open > 0 {
				open--
			} else if p.depth > 0 {
				break
			}
		}
	}
	t.text = string(p.src[start:p.i])
	if t.spec == nil && !t.neg {
		switch t.text {
		case "AND":
			t.kind = tokAnd
		case "OR":
			t.kind = tokOr
		case "NOT":
			t.kind = tokNot
		}
	}
	return t, nil
}

func (p *parser) peek() (*token, error) {
	if p.tok == nil {
		t, err := p.lex()
		if err != nil {
			return nil, err
		}
		p.tok = t
	}
	return p.tok, nil
}

func (p *parser) next() (*token, error) {
	t, err := p.peek()
	p.tok = nil
	return t, err
}

func endsOperands(k tokKind) bool {
	return k == tokEOF || k == tokRParen || k == tokOr || k == tokAnd || k == tokNot
}

// parseOr parses alternatives. It reports whether any operand was seen
// (a group of dropped words is not empty parentheses).
func (p *parser) parseOr(inh *prefixSpec) (Node, bool, error) {
	var alts []Node
	seen := false
	for {
		n, saw, err := p.parseAnd(inh)
		if err != nil {
			return nil, false, err
		}
		t, err := p.peek()
		if err != nil {
			return nil, false, err
		}
		if !saw && t.kind == tokOr {
			return nil, false, &ParseError{Pos: t.pos, Msg: "OR needs a term before it"}
		}
		seen = seen || saw
		if o, ok := n.(*Or); ok {
			alts = append(alts, o.Nodes...)
		} else if n != nil {
			alts = append(alts, n)
		}
		if t.kind != tokOr {
			break
		}
		p.next()
		if nt, err := p.peek(); err != nil {
			return nil, false, err
		} else if nt.kind == tokNot {
			return nil, false, &ParseError{Pos: nt.pos, Msg: "NOT needs a term before it (a NOT b); a OR NOT b is not supported"}
		} else if endsOperands(nt.kind) {
			return nil, false, &ParseError{Pos: t.pos, Msg: "OR needs a term after it"}
		}
	}
	switch len(alts) {
	case 0:
		return nil, seen, nil
	case 1:
		return alts[0], seen, nil
	}
	return &Or{Nodes: alts}, seen, nil
}

// parseAnd parses probs joined by AND, NOT, AND NOT and AND -, all of one
// precedence and left-associative, as in Xapian's grammar: the operand on
// the right of NOT is the whole prob that follows, so a NOT b c is
// a AND NOT (b AND c).
func (p *parser) parseAnd(inh *prefixSpec) (Node, bool, error) {
	t, err := p.peek()
	if err != nil {
		return nil, false, err
	}
	if t.kind == tokAnd || t.kind == tokNot {
		name := opName(t.kind)
		return nil, false, &ParseError{Pos: t.pos, Msg: name + " needs a term before it (a " + name + " b)"}
	}
	first, saw, err := p.parseProb(inh)
	if err != nil || !saw {
		return first, saw, err
	}
	var items []Node
	add := func(n Node, neg bool) {
		switch {
		case n == nil:
		case neg:
			items = append(items, &Not{Node: n})
		default:
			if a, ok := n.(*And); ok {
				items = append(items, a.Nodes...)
			} else {
				items = append(items, n)
			}
		}
	}
	add(first, false)
	for {
		op, err := p.peek()
		if err != nil {
			return nil, false, err
		}
		if op.kind != tokAnd && op.kind != tokNot {
			break
		}
		p.next()
		nt, err := p.peek()
		if err != nil {
			return nil, false, err
		}
		neg := op.kind == tokNot
		if op.kind == tokAnd && nt.kind == tokNot {
			// a AND NOT b
			op, neg = nt, true
			p.next()
			if nt, err = p.peek(); err != nil {
				return nil, false, err
			}
		} else if op.kind == tokAnd && nt.kind == tokWord && nt.neg {
			// a AND -b c: Xapian's HATE_AFTER_AND, a AND NOT (b c)
			nt.neg, neg = false, true
		}
		if endsOperands(nt.kind) || nt.neg && neg {
			return nil, false, &ParseError{Pos: op.pos, Msg: opName(op.kind) + " needs a term after it"}
		}
		n, _, err := p.parseProb(inh)
		if err != nil {
			return nil, false, err
		}
		add(n, neg)
	}
	if len(items) == 0 {
		return nil, saw, nil
	}
	if len(items) == 1 {
		return items[0], saw, nil
	}
	return &And{Nodes: items}, saw, nil
}

// parseProb parses juxtaposed operands (Xapian's "prob"): the words are
// ANDed (public-inbox's default operator) and the -words are excluded
// from them. A prob of only -words has nothing to exclude from: an error,
// as in Xapian.
func (p *parser) parseProb(inh *prefixSpec) (Node, bool, error) {
	var items []Node
	positives, firstNeg := 0, 0
	saw := false
	filters := map[string]int{} // filter group → its index in items
	for {
		t, err := p.peek()
		if err != nil {
			return nil, false, err
		}
		if endsOperands(t.kind) {
			break
		}
		pos := t.pos
		grouped := t.kind == tokLParen || t.group
		n, neg, err := p.parseOperand(inh)
		if err != nil {
			return nil, false, err
		}
		saw = true
		g := filterGroup(n)
		switch {
		case n == nil:
		case !neg && !grouped && g != "":
			// Xapian ORs the boolean filters (and ranges) of one prefix
			// in a prob: mid:a mid:b is mid:a OR mid:b.
			positives++
			if k, ok := filters[g]; ok {
				if o, ok := items[k].(*Or); ok {
					o.Nodes = append(o.Nodes, n)
				} else {
					items[k] = &Or{Nodes: []Node{items[k], n}}
				}
			} else {
				filters[g] = len(items)
				items = append(items, n)
			}
		case neg:
			items = append(items, &Not{Node: n})
			if firstNeg == 0 {
				firstNeg = pos
			}
		default:
			positives++
			if a, ok := n.(*And); ok {
				items = append(items, a.Nodes...)
			} else {
				items = append(items, n)
			}
		}
	}
	if len(items) == 0 {
		return nil, saw, nil
	}
	if positives == 0 {
		return nil, false, &ParseError{Pos: firstNeg, Msg: "nothing to exclude from: NOT and -word need a positive term too (a NOT b)"}
	}
	if len(items) == 1 {
		return items[0], saw, nil
	}
	return &And{Nodes: items}, saw, nil
}

// filterGroup names the group of a boolean filter of public-inbox (mid:,
// lid:, dfpre:, dfpost:, dfblob:, patchid:, and patchtrail's commit:,
// repo:, cve:) or a range (d:, dt:, rt:, z:); "" for anything else (is:
// values are ANDed: is:commit is:offlist).
func filterGroup(n Node) string {
	switch n := n.(type) {
	case *Term:
		switch n.Field {
		case "mid", "lid", "dfpre", "dfpost", "dfblob", "patchid", "commit", "repo", "cve":
			return n.Field
		}
	case *Range:
		return n.Field
	}
	return ""
}

func opName(k tokKind) string {
	switch k {
	case tokAnd:
		return "AND"
	case tokOr:
		return "OR"
	case tokNot:
		return "NOT"
	}
	return "operator"
}

// parseOperand parses one operand; it reports whether it was negated
// with a leading '-'.
func (p *parser) parseOperand(inh *prefixSpec) (Node, bool, error) {
	t, err := p.next()
	if err != nil {
		return nil, false, err
	}
	switch {
	case t.kind == tokLParen:
		n, err := p.parseGroup(t.pos, inh)
		return n, false, err
	case t.kind == tokWord && t.group:
		spec := t.spec
		if spec == nil {
			spec = inh
		}
		n, err := p.parseGroup(t.valPos, spec)
		return n, t.neg, err
	case t.kind == tokWord:
		n, err := p.leaf(t, inh)
		return n, t.neg, err
	}
	return nil, false, &ParseError{Pos: t.pos, Msg: "expected a term"}
}

// parseGroup parses the inside of parentheses opened at column open.
func (p *parser) parseGroup(open int, spec *prefixSpec) (Node, error) {
	p.depth++
	if p.depth > maxDepth {
		return nil, &ParseError{Pos: open, Msg: fmt.Sprintf("too deeply nested (more than %d levels of parentheses)", maxDepth)}
	}
	n, seen, err := p.parseOr(spec)
	if err != nil {
		return nil, err
	}
	t, err := p.next()
	if err != nil {
		return nil, err
	}
	if t.kind != tokRParen {
		return nil, &ParseError{Pos: open, Msg: "missing ')' for this '('"}
	}
	p.depth--
	if !seen {
		return nil, &ParseError{Pos: open, Msg: "empty parentheses"}
	}
	return n, nil
}

// leaf turns a word token into a Term, Phrase, Wildcard or Range; nil
// when it holds nothing searchable.
func (p *parser) leaf(t *token, inh *prefixSpec) (Node, error) {
	p.terms++
	if p.terms > maxTerms {
		return nil, &ParseError{Pos: t.pos, Msg: fmt.Sprintf("too many terms (at most %d)", maxTerms)}
	}
	spec := t.spec
	if spec == nil {
		spec = inh
	}
	if spec == nil {
		spec = defaultPrefix
	}
	field, text := spec.name, t.text
	bad := func(format string, args ...any) error {
		return &ParseError{Pos: t.valPos, Msg: fmt.Sprintf(format, args...)}
	}
	switch spec.kind {
	case kindWords:
		if t.quoted {
			if !hasWord(text) {
				return nil, nil
			}
			return &Phrase{Field: field, Text: text}, nil
		}
		if strings.HasSuffix(text, "*") {
			base := strings.TrimRight(text, "*")
			w := Words(base)
			if len(w) == 0 || utf8.RuneCountInString(w[len(w)-1]) < 2 {
				return nil, bad("a wildcard needs at least 2 letters or digits before '*'")
			}
			return &Wildcard{Field: field, Text: base}, nil
		}
		if !hasWord(text) {
			return nil, nil
		}
		return &Term{Field: field, Text: text}, nil
	case kindMID, kindRef:
		if text = trimID(text); text == "" {
			return nil, bad("empty Message-ID after %s:", field)
		}
		return &Term{Field: field, Text: text}, nil
	case kindListID:
		if text = normListID(text); text == "" {
			return nil, bad("empty List-Id after lid:")
		}
		return &Term{Field: field, Text: text}, nil
	case kindBlob:
		text = strings.ToLower(strings.TrimSuffix(text, "*"))
		if len(text) < 7 || len(text) > 64 || !isHex(text) {
			return nil, bad("%s: wants a git blob id of 7 to 64 hex digits, not %q", field, short(t.text))
		}
		return &Term{Field: field, Text: text}, nil
	case kindPatchID:
		return &Term{Field: field, Text: strings.ToLower(text)}, nil
	case kindCommit, kindIs:
		check := parseCommitID
		if spec.kind == kindIs {
			check = parseIs
		}
		v, err := check(text)
		if err != nil {
			return nil, bad("%s", err.Error())
		}
		return &Term{Field: field, Text: v}, nil
	case kindRepo, kindCVE:
		if text = strings.TrimSpace(text); text == "" {
			return nil, bad("empty value after %s:", field)
		}
		if spec.kind == kindCVE {
			text = strings.ToLower(text) // a repository name is matched as registered
		}
		return &Term{Field: field, Text: text}, nil
	}
	r, off, err := parseRange(spec, text, p.now)
	if err != nil {
		return nil, &ParseError{Pos: t.valPos + off, Msg: err.Error()}
	}
	return r, nil
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return s != ""
}
