package message

import (
	"net/mail"
	"strings"
	"time"
)

var (
	minDate = time.Date(1980, 1, 1, 0, 0, 0, 0, time.UTC)
	// futureSlack is how far a Date may lie after the Received date (or
	// now) before it counts as a problem.
	futureSlack = 24 * time.Hour
)

// parseDate fills Date, DateSource and Received: the Date header (RFC 5322
// or obsolete forms through net/mail, then known bad layouts), else the
// newest Received date, else none.
func (p *parser) parseDate() {
	m := p.m
	m.Received = p.receivedDate()
	v := m.Header.Get("Date")
	p.dateRaw = v
	m.DateSource = DateNone
	switch {
	case strings.TrimSpace(v) == "":
		p.problem("no Date")
	default:
		if t, zone, ok := parseRFCDate(v); ok {
			m.Date, m.DateSource = t, DateFromHeader
			if zone != "" {
				p.problem("unknown time zone: %s in Date", quote(zone))
			}
		} else if t, zone, ok := parseLooseDate(v); ok {
			m.Date, m.DateSource = t, DateFallback
			if zone != "" {
				p.problem("unknown time zone: %s in Date", quote(zone))
			}
		} else {
			p.problem("unparseable Date: %s", quote(v))
		}
	}
	p.dateOK = m.DateSource != DateNone
	if m.DateSource == DateNone && !m.Received.IsZero() {
		m.Date, m.DateSource = m.Received, DateReceived
	}
	if m.DateSource == DateNone {
		return
	}
	switch {
	case m.Date.Before(minDate):
		p.problem("Date before 1980: %s", m.Date.Format(time.RFC3339))
	case !m.Received.IsZero() && m.Date.After(m.Received.Add(futureSlack)):
		p.problem("Date in the future: %s, received %s", m.Date.Format(time.RFC3339), m.Received.Format(time.RFC3339))
	case m.Date.After(p.opts.Now.Add(futureSlack)):
		p.problem("Date in the future: %s", m.Date.Format(time.RFC3339))
	}
}

// receivedDate returns the date of the newest (topmost) Received header
// that has a parseable one (after the last ';'), in UTC.
func (p *parser) receivedDate() time.Time {
	h := p.m.Header
	for i := range h.fields {
		if k := h.fields[i].key; len(k) != len("Received") || !strings.EqualFold(k, "Received") {
			continue
		}
		value := h.value(&h.fields[i])
		j := strings.LastIndexByte(value, ';')
		if j < 0 {
			continue
		}
		v := value[j+1:]
		if t, _, ok := parseRFCDate(v); ok {
			return t
		}
		if t, _, ok := parseLooseDate(v); ok {
			return t
		}
	}
	return time.Time{}
}

// parseRFCDate accepts what net/mail.ParseDate accepts (RFC 5322 and its
// obsolete forms), with a fast path for the common form. unknownZone names
// a zone that is not in zoneNames (taken as UTC).
func parseRFCDate(v string) (t time.Time, unknownZone string, ok bool) {
	if t, ok := fastRFCDate(v); ok {
		return t, "", true
	}
	t, err := mail.ParseDate(v)
	if err != nil {
		return time.Time{}, "", false
	}
	if zoneToken(v) != "" {
		// time.Parse gets named zones wrong (offset zero or the local
		// zone's; "GMT+1" shifts the wall clock): take the instant from
		// the token parser, which has the zone table.
		if lt, zone, ok := parseLooseDate(v); ok {
			return lt, zone, true
		}
	}
	return t.UTC(), "", true
}

// zoneToken returns the named zone of a date ("EST", "GMT+1": the last
// token outside comments, starting with a letter) or "" when the zone is
// numeric or absent.
func zoneToken(v string) string {
	v = stripComments(v, nil)
	v = strings.TrimRight(v, " \t")
	i := strings.LastIndexAny(v, " \t")
	tok := v[i+1:]
	if tok == "" || !(tok[0] >= 'a' && tok[0] <= 'z' || tok[0] >= 'A' && tok[0] <= 'Z') {
		return ""
	}
	return tok
}

// stripComments removes (comments) and replaces commas by spaces; the
// first non-empty comment is stored in *first when first is non-nil.
func stripComments(v string, first *string) string {
	if strings.IndexByte(v, '(') < 0 && strings.IndexByte(v, ',') < 0 {
		return v
	}
	var sb strings.Builder
	depth, start := 0, 0
	for i := 0; i < len(v); i++ {
		switch c := v[i]; {
		case c == '(':
			if depth == 0 {
				start = i + 1
			}
			depth++
			sb.WriteByte(' ')
		case c == ')' && depth > 0:
			depth--
			if depth == 0 && first != nil && *first == "" {
				*first = strings.TrimSpace(v[start:i])
			}
		case depth > 0:
		case c == ',':
			sb.WriteByte(' ')
		default:
			sb.WriteByte(c)
		}
	}
	return sb.String()
}

var monthNames = [...]string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}

var dayNames = [...]string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}

// zoneNames maps zone abbreviations seen in mail to their offsets in
// seconds: RFC 822's US zones and the common European and Asian ones.
// Ambiguous names take the meaning most common in kernel mail (IST = India).
var zoneNames = map[string]int{
	"UT": 0, "UTC": 0, "GMT": 0, "Z": 0, "WET": 0, "UCT": 0,
	"EST": -5 * 3600, "EDT": -4 * 3600, "CST": -6 * 3600, "CDT": -5 * 3600,
	"MST": -7 * 3600, "MDT": -6 * 3600, "PST": -8 * 3600, "PDT": -7 * 3600,
	"AKST": -9 * 3600, "AKDT": -8 * 3600, "HST": -10 * 3600,
	"BRT": -3 * 3600, "ART": -3 * 3600,
	"CET": 3600, "MET": 3600, "MEZ": 3600, "BST": 3600, "WEST": 3600, "IST": 5*3600 + 1800,
	"CEST": 2 * 3600, "MEST": 2 * 3600, "MESZ": 2 * 3600, "EET": 2 * 3600, "SAST": 2 * 3600,
	"EEST": 3 * 3600, "MSK": 3 * 3600,
	"ICT": 7 * 3600, "WIB": 7 * 3600,
	"HKT": 8 * 3600, "SGT": 8 * 3600, "AWST": 8 * 3600, "PHT": 8 * 3600,
	"JST": 9 * 3600, "KST": 9 * 3600, "ACST": 9*3600 + 1800,
	"AEST": 10 * 3600, "AEDT": 11 * 3600, "NZST": 12 * 3600, "NZDT": 13 * 3600,
}

// parseLooseDate understands the bad layouts found in real archives by
// picking the pieces out of the tokens: weekday names (ignored), day,
// month name, two-, three- or four-digit year, hh:mm[:ss], numeric zones
// ("+0100", "+01:00", "+1"), named zones ("EST", "GMT+0100", "UTC-5", a
// zone in a trailing comment "(PST)"), asctime order ("Jan 2 15:04:05
// 2006"), ISO 8601 dates, AM/PM and trailing junk. A date without zone is
// taken as UTC; an unknown zone name is returned in unknownZone.
func parseLooseDate(v string) (t time.Time, unknownZone string, ok bool) {
	var comment string
	s := stripComments(v, &comment)
	day, mon, year, yearDigits := -1, -1, -1, 0
	hh, mm, ss := -1, 0, 0
	off, zoneSet := 0, false
	pm, am := false, false
	setZone := func(tok string) bool {
		o, ok := parseZone(tok)
		if ok && !zoneSet {
			off, zoneSet = o, true
		}
		return ok
	}
	for _, tok := range strings.Fields(s) {
		tok = strings.TrimRight(tok, ".")
		if tok == "" {
			continue
		}
		c := tok[0]
		switch {
		case c >= '0' && c <= '9':
			if y, mo, d, rest, ok := isoDate(tok); ok {
				year, mon, day, yearDigits = y, mo, d, 4
				if rest != "" {
					h, mi, se, zone, ok := parseClock(rest)
					if ok {
						hh, mm, ss = h, mi, se
						if zone != "" {
							setZone(zone)
						}
					}
				}
				continue
			}
			if strings.IndexByte(tok, ':') >= 0 {
				if h, mi, se, zone, ok := parseClock(tok); ok && hh < 0 {
					hh, mm, ss = h, mi, se
					if zone != "" {
						setZone(zone)
					}
				}
				continue
			}
			n, digits, ok := atoi(tok)
			if !ok {
				continue
			}
			switch {
			case digits == 4 && year < 0:
				year, yearDigits = n, 4
			case digits <= 2 && day < 0 && (year < 0 || mon >= 0):
				day = n
			case digits <= 3 && year < 0:
				year, yearDigits = n, digits
			}
		case c == '+' || c == '-':
			setZone(tok)
		default:
			lower := strings.ToLower(tok)
			if len(lower) >= 3 {
				if i := indexPrefix(monthNames[:], lower); i >= 0 && mon < 0 {
					mon = i + 1
					continue
				}
				if indexPrefix(dayNames[:], lower) >= 0 {
					continue
				}
			}
			switch lower {
			case "am", "a.m":
				am = true
				continue
			case "pm", "p.m":
				pm = true
				continue
			}
			if !zoneSet && isZoneName(tok) {
				if !setZone(tok) && unknownZone == "" {
					unknownZone = tok
				}
			}
		}
	}
	if !zoneSet && comment != "" && isZoneName(comment) {
		setZone(comment)
	}
	if zoneSet {
		unknownZone = ""
	}
	if day < 1 || mon < 1 || year < 0 {
		return time.Time{}, "", false
	}
	switch {
	case yearDigits <= 2 && year < 50:
		year += 2000
	case yearDigits <= 3 && year < 1000:
		year += 1900
	}
	if hh < 0 {
		hh = 0
	}
	if pm && hh < 12 {
		hh += 12
	} else if am && hh == 12 {
		hh = 0
	}
	if ss == 60 {
		ss = 59 // leap second
	}
	if year < 1900 || year > 9999 || day > daysIn(mon, year) || hh > 23 || mm > 59 || ss > 59 {
		return time.Time{}, "", false
	}
	t = time.Date(year, time.Month(mon), day, hh, mm, ss, 0, time.FixedZone("", off))
	return t.UTC(), unknownZone, true
}

// isZoneName reports whether tok looks like a zone name: 1–5 letters,
// optionally followed by a numeric offset ("GMT+0100").
func isZoneName(tok string) bool {
	i := 0
	for i < len(tok) && (tok[i] >= 'a' && tok[i] <= 'z' || tok[i] >= 'A' && tok[i] <= 'Z') {
		i++
	}
	if i == 0 || i > 5 {
		return false
	}
	return i == len(tok) || tok[i] == '+' || tok[i] == '-'
}

// parseZone parses "+0100", "-05:00", "+1", "EST", "GMT+0100", "UTC-5".
func parseZone(tok string) (int, bool) {
	i := 0
	for i < len(tok) && (tok[i] >= 'a' && tok[i] <= 'z' || tok[i] >= 'A' && tok[i] <= 'Z') {
		i++
	}
	base := 0
	if i > 0 {
		o, ok := zoneNames[strings.ToUpper(tok[:i])]
		if !ok {
			return 0, false
		}
		if i == len(tok) {
			return o, true
		}
		base = o
		tok = tok[i:]
	}
	if len(tok) < 2 || tok[0] != '+' && tok[0] != '-' {
		return 0, false
	}
	sign := 1
	if tok[0] == '-' {
		sign = -1
	}
	digits := strings.Replace(tok[1:], ":", "", 1)
	n, nd, ok := atoi(digits)
	if !ok {
		return 0, false
	}
	var h, m int
	switch nd {
	case 1, 2:
		h = n
	case 3, 4:
		h, m = n/100, n%100
	default:
		return 0, false
	}
	if h > 14 || m > 59 {
		return 0, false
	}
	return base + sign*(h*3600+m*60), true
}

// parseClock parses "hh:mm", "hh:mm:ss", "hh:mm:ss.fff", possibly with a
// zone glued on ("10:00:00+0100", "10:00:00Z", "10:00GMT").
func parseClock(tok string) (h, m, s int, zone string, ok bool) {
	end := 0
	for end < len(tok) && (tok[end] >= '0' && tok[end] <= '9' || tok[end] == ':' || tok[end] == '.') {
		end++
	}
	zone = tok[end:]
	parts := strings.Split(tok[:end], ":")
	if len(parts) < 2 || len(parts) > 3 {
		return 0, 0, 0, "", false
	}
	if i := strings.IndexByte(parts[len(parts)-1], '.'); i >= 0 {
		parts[len(parts)-1] = parts[len(parts)-1][:i]
	}
	var vals [3]int
	for i, p := range parts {
		n, nd, ok := atoi(p)
		if !ok || nd > 2 {
			return 0, 0, 0, "", false
		}
		vals[i] = n
	}
	return vals[0], vals[1], vals[2], zone, true
}

// isoDate parses "2006-01-02" with an optional "T15:04:05..." rest.
func isoDate(tok string) (y, m, d int, rest string, ok bool) {
	if len(tok) < 10 || tok[4] != '-' || tok[7] != '-' {
		return 0, 0, 0, "", false
	}
	y, n1, ok1 := atoi(tok[:4])
	m, n2, ok2 := atoi(tok[5:7])
	d, n3, ok3 := atoi(tok[8:10])
	if !ok1 || !ok2 || !ok3 || n1 != 4 || n2 != 2 || n3 != 2 || m < 1 || m > 12 {
		return 0, 0, 0, "", false
	}
	rest = tok[10:]
	if rest != "" {
		if rest[0] != 'T' && rest[0] != 't' {
			return 0, 0, 0, "", false
		}
		rest = rest[1:]
	}
	return y, m, d, rest, true
}

// atoi parses a non-empty string of at most 9 ASCII digits.
func atoi(s string) (n, digits int, ok bool) {
	if s == "" || len(s) > 9 {
		return 0, 0, false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, len(s), true
}

// indexPrefix returns the index of the name (three lowercase letters) that
// starts the all-letters word lower ("jan", "january", "janv"), or -1.
func indexPrefix(names []string, lower string) int {
	for i, n := range names {
		if strings.HasPrefix(lower, n) && isLetters(lower) {
			return i
		}
	}
	return -1
}

func isLetters(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}

func daysIn(month, year int) int {
	return time.Date(year, time.Month(month)+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// fastRFCDate parses the common RFC 5322 form without allocating:
// ["Mon," ] d Jan 2006 15:04[:05] (+hhmm | UT | GMT | UTC) ["(" comment ")"].
// Anything else is left to net/mail.ParseDate.
func fastRFCDate(v string) (time.Time, bool) {
	sc := dateScanner{s: v}
	sc.space()
	if len(sc.s) >= 4 && sc.s[3] == ',' {
		if indexPrefix(dayNames[:], strings.ToLower(sc.s[:3])) < 0 {
			return time.Time{}, false
		}
		sc.s = sc.s[4:]
		sc.space()
	}
	day, ok := sc.num(1, 2)
	if !ok || !sc.space() || len(sc.s) < 4 {
		return time.Time{}, false
	}
	mon := 0
	for i, name := range monthNames {
		if (sc.s[0]|0x20) == name[0] && (sc.s[1]|0x20) == name[1] && (sc.s[2]|0x20) == name[2] {
			mon = i + 1
			break
		}
	}
	sc.s = sc.s[3:]
	if mon == 0 || !sc.space() {
		return time.Time{}, false
	}
	year, ok := sc.num(4, 4)
	if !ok || !sc.space() {
		return time.Time{}, false
	}
	hh, ok1 := sc.num(2, 2)
	ok2 := sc.lit(':')
	mm, ok3 := sc.num(2, 2)
	if !ok1 || !ok2 || !ok3 {
		return time.Time{}, false
	}
	ss := 0
	if sc.lit(':') {
		if ss, ok = sc.num(2, 2); !ok {
			return time.Time{}, false
		}
	}
	if !sc.space() || sc.s == "" {
		return time.Time{}, false
	}
	off := 0
	switch c := sc.s[0]; {
	case c == '+' || c == '-':
		z, ok := sc.numAt(1, 4)
		if !ok || z%100 > 59 {
			return time.Time{}, false
		}
		off = (z/100*3600 + z%100*60)
		if c == '-' {
			off = -off
		}
		sc.s = sc.s[5:]
	case strings.HasPrefix(sc.s, "GMT"), strings.HasPrefix(sc.s, "UTC"):
		sc.s = sc.s[3:]
	case strings.HasPrefix(sc.s, "UT"):
		sc.s = sc.s[2:]
	default:
		return time.Time{}, false
	}
	sc.space()
	if sc.s != "" && (sc.s[0] != '(' || sc.s[len(sc.s)-1] != ')') {
		return time.Time{}, false
	}
	if day < 1 || day > daysIn(mon, year) || hh > 23 || mm > 59 || ss > 60 {
		return time.Time{}, false
	}
	if ss == 60 {
		ss = 59
	}
	return time.Date(year, time.Month(mon), day, hh, mm, ss, 0, time.UTC).Add(-time.Duration(off) * time.Second), true
}

type dateScanner struct{ s string }

// space skips spaces and tabs and reports whether there were any.
func (sc *dateScanner) space() bool {
	i := 0
	for i < len(sc.s) && (sc.s[i] == ' ' || sc.s[i] == '\t') {
		i++
	}
	sc.s = sc.s[i:]
	return i > 0
}

func (sc *dateScanner) lit(c byte) bool {
	if sc.s != "" && sc.s[0] == c {
		sc.s = sc.s[1:]
		return true
	}
	return false
}

// num reads min to max digits.
func (sc *dateScanner) num(min, max int) (int, bool) {
	n, i := 0, 0
	for i < len(sc.s) && i < max && sc.s[i] >= '0' && sc.s[i] <= '9' {
		n = n*10 + int(sc.s[i]-'0')
		i++
	}
	if i < min {
		return 0, false
	}
	sc.s = sc.s[i:]
	return n, true
}

// numAt reads exactly n digits starting at offset at, without consuming.
func (sc *dateScanner) numAt(at, n int) (int, bool) {
	if len(sc.s) < at+n {
		return 0, false
	}
	v := 0
	for i := at; i < at+n; i++ {
		c := sc.s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, true
}
