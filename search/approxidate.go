package search

import (
	"errors"
	"net/mail"
	"strconv"
	"strings"
	"time"
)

// Approxidate parses a date the way git's approxidate_careful does
// (`git log --since=...`), relative to now, in UTC:
//
//   - exact forms first: "@1700000000" and bare numbers of 9+ digits (unix
//     seconds), YYYYMMDD, YYYYMMDDhhmmss, ISO 8601 ("2024-01-15",
//     "2024-01-15 10:30", "2024-01-15T10:30:00+02:00") and RFC 5322 dates.
//     A date without a time is midnight UTC (git would use the current time
//     of day);
//   - otherwise git's approximate parser: "yesterday", "3.days.ago",
//     "2.weeks.ago", "last.week", "1.month.ago", "last.year",
//     "noon.yesterday", "midnight", "tea", "jan.5", "last.friday",
//     "10am", "5.pm", "never", "now"... Any non-alphanumeric character
//     separates words ("2 weeks ago" = "2.weeks.ago" = "2_weeks_ago");
//     unknown words such as "ago" are ignored, but at least one word or
//     number must be understood.
func Approxidate(s string, now time.Time) (time.Time, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return time.Time{}, errors.New("empty date")
	}
	if t, ok := exactDate(s); ok {
		return t, nil
	}
	return approxidateStr(s, now.UTC())
}

var isoLayouts = []string{
	"2006-01-02",
	"2006-01-02T15:04:05Z07:00",
	"2006-01-02T15:04:05",
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04",
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02 15:04:05 -0700",
	"2006-01-02 15:04:05",
	"2006-01-02 15:04",
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// exactDate handles the forms with a single meaning.
func exactDate(s string) (time.Time, bool) {
	if strings.HasPrefix(s, "@") && allDigits(s[1:]) && len(s) <= 19 {
		n, err := strconv.ParseInt(s[1:], 10, 64)
		return time.Unix(n, 0).UTC(), err == nil
	}
	if allDigits(s) {
		switch {
		case len(s) == 8:
			t, err := time.Parse("20060102", s)
			return t, err == nil
		case len(s) == 14:
			t, err := time.Parse("20060102150405", s)
			return t, err == nil
		case len(s) >= 9 && len(s) <= 18:
			n, _ := strconv.ParseInt(s, 10, 64)
			return time.Unix(n, 0).UTC(), true
		}
		return time.Time{}, false
	}
	if len(s) >= 10 && allDigits(s[:4]) && s[4] == '-' {
		for _, l := range isoLayouts {
			if t, err := time.Parse(l, s); err == nil {
				return t.UTC(), true
			}
		}
	}
	if strings.ContainsAny(s, " ,") {
		if t, err := mail.ParseDate(s); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// gitTM is git's struct tm: year is the full year, mon 0-11; year, mon and
// mday are -1 while unset.
type gitTM struct {
	year, mon, mday, hour, min, sec, wday int
}

func tmOf(t time.Time) gitTM {
	return gitTM{t.Year(), int(t.Month()) - 1, t.Day(), t.Hour(), t.Minute(), t.Second(), int(t.Weekday())}
}

// update is git's update_tm: fill unset date fields from now, subtract sec
// and normalise (mktime), returning the unix time.
func (tm *gitTM) update(now gitTM, sec int64) int64 {
	if tm.mday < 0 {
		tm.mday = now.mday
	}
	if tm.mon < 0 {
		tm.mon = now.mon
	}
	if tm.year < 0 {
		tm.year = now.year
		if tm.mon > now.mon {
			tm.year--
		}
	}
	n := time.Date(tm.year, time.Month(tm.mon+1), tm.mday, tm.hour, tm.min, tm.sec, 0, time.UTC).Unix() - sec
	*tm = tmOf(time.Unix(n, 0).UTC())
	return n
}

// pendingNumber is git's pending_number: a lone number is a day of the
// month, else a month, else a year.
func (tm *gitTM) pendingNumber(num *int) {
	n := *num
	if n == 0 {
		return
	}
	*num = 0
	switch {
	case tm.mday < 0 && n < 32:
		tm.mday = n
	case tm.mon < 0 && n < 13:
		tm.mon = n - 1
	case tm.year < 0:
		switch {
		case n > 1969 && n < 2100:
			tm.year = n
		case n > 69 && n < 100:
			tm.year = 1900 + n
		case n < 38:
			tm.year = 2000 + n
		}
	}
}

var (
	monthNames   = []string{"january", "february", "march", "april", "may", "june", "july", "august", "september", "october", "november", "december"}
	weekdayNames = []string{"sundays", "mondays", "tuesdays", "wednesdays", "thursdays", "fridays", "saturdays"}
	numberNames  = []string{"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"}
	typeLengths  = []struct {
		name string
		sec  int64
	}{{"seconds", 1}, {"minutes", 60}, {"hours", 3600}, {"days", 86400}, {"weeks", 7 * 86400}}
)

// matchString is git's match_string: how many leading characters of s
// match word (case-insensitively) before s's word ends; 0 when s's word
// goes on with a different letter or digit.
func matchString(s, word string) int {
	i := 0
	for ; i < len(s); i++ {
		c := s[i]
		if i < len(word) && lower(c) == word[i] {
			continue
		}
		if isAlnum(c) {
			return 0
		}
		break
	}
	return i
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

func isAlpha(c byte) bool { return 'a' <= lower(c) && lower(c) <= 'z' }
func isDigit(c byte) bool { return '0' <= c && c <= '9' }
func isAlnum(c byte) bool { return isAlpha(c) || isDigit(c) }

func approxidateStr(s string, now time.Time) (time.Time, error) {
	nowTM := tmOf(now)
	tm := nowTM
	tm.year, tm.mon, tm.mday = -1, -1, -1
	number := 0
	touched := false
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case isDigit(c):
			tm.pendingNumber(&number)
			var ok bool
			if i, ok = tm.approxDigit(s, i, &number, now); !ok {
				return time.Time{}, errors.New("number too large in date")
			}
			touched = true
		case isAlpha(c):
			i = tm.approxAlpha(s, i, nowTM, &number, &touched)
		default:
			i++
		}
	}
	tm.pendingNumber(&number)
	if !touched {
		return time.Time{}, errors.New("not a date git understands")
	}
	return time.Unix(tm.update(nowTM, 0), 0).UTC(), nil
}

func (tm *gitTM) approxDigit(s string, i int, num *int, now time.Time) (int, bool) {
	end := i
	for end < len(s) && isDigit(s[end]) {
		end++
	}
	if end-i > 9 {
		return end, false
	}
	n, _ := strconv.Atoi(s[i:end])
	if end+1 < len(s) && strings.IndexByte(":./-", s[end]) >= 0 && isDigit(s[end+1]) {
		if next, ok := tm.multiNumber(n, s, end, now); ok {
			return next, true
		}
	}
	if s[i] != '0' || end-i <= 2 {
		*num = n
	}
	return end, true
}

// multiNumber is git's match_multi_number: hh:mm[:ss] or a date written
// with '-', '/' or '.' separators.
func (tm *gitTM) multiNumber(n1 int, s string, sep int, now time.Time) (int, bool) {
	c := s[sep]
	readNum := func(i int) (int, int) {
		j := i
		for j < len(s) && isDigit(s[j]) && j-i < 9 {
			j++
		}
		v, _ := strconv.Atoi(s[i:j])
		return v, j
	}
	n2, end := readNum(sep + 1)
	n3 := -1
	if end+1 < len(s) && s[end] == c && isDigit(s[end+1]) {
		n3, end = readNum(end + 1)
	}
	switch c {
	case ':':
		if n3 < 0 {
			n3 = 0
		}
		if n1 < 25 && n2 >= 0 && n2 < 60 && n3 >= 0 && n3 <= 60 {
			tm.hour, tm.min, tm.sec = n1, n2, n3
			return end, true
		}
		return 0, false
	default:
		if n1 > 70 {
			if tm.setDate(n1, n2, n3, time.Time{}) || tm.setDate(n1, n3, n2, time.Time{}) {
				return end, true
			}
		}
		if c != '.' && tm.setDate(n3, n1, n2, now) {
			return end, true
		}
		if tm.setDate(n3, n2, n1, now) {
			return end, true
		}
		if c == '.' && tm.setDate(n3, n1, n2, now) {
			return end, true
		}
		return 0, false
	}
}

// setDate is git's set_date; a non-zero now refuses dates more than ten
// days in the future.
func (tm *gitTM) setDate(year, month, day int, now time.Time) bool {
	if month <= 0 || month >= 13 || day <= 0 || day >= 32 {
		return false
	}
	r := *tm
	r.mon, r.mday = month-1, day
	switch {
	case year == -1:
		if now.IsZero() {
			return false
		}
		r.year = now.Year()
	case year >= 1970 && year < 2100:
		r.year = year
	case year > 70 && year < 100:
		r.year = 1900 + year
	case year < 38:
		r.year = 2000 + year
	default:
		return false
	}
	if !now.IsZero() {
		spec := time.Date(r.year, time.Month(r.mon+1), r.mday, max(r.hour, 0), max(r.min, 0), max(r.sec, 0), 0, time.UTC)
		if spec.After(now.Add(10 * 24 * time.Hour)) {
			return false
		}
	}
	tm.mon, tm.mday = r.mon, r.mday
	if year != -1 {
		tm.year = r.year
	}
	return true
}

func (tm *gitTM) approxAlpha(s string, i int, now gitTM, num *int, touched *bool) int {
	end := i + 1
	for end < len(s) && isAlpha(s[end]) {
		end++
	}
	w := s[i:]
	for m, name := range monthNames {
		if matchString(w, name) >= 3 {
			tm.mon = m
			*touched = true
			return end
		}
	}
	if fn := tm.special(w, now, num); fn {
		*touched = true
		return end
	}
	if *num == 0 {
		for n := 1; n < len(numberNames); n++ {
			if matchString(w, numberNames[n]) == len(numberNames[n]) {
				*num = n
				*touched = true
				return end
			}
		}
		if matchString(w, "last") == 4 {
			*num = 1
			*touched = true
		}
		return end
	}
	for _, tl := range typeLengths {
		if matchString(w, tl.name) >= len(tl.name)-1 {
			tm.update(now, tl.sec*int64(*num))
			*num = 0
			*touched = true
			return end
		}
	}
	for d, name := range weekdayNames {
		if matchString(w, name) >= 3 {
			n := *num - 1
			*num = 0
			diff := tm.wday - d
			if diff <= 0 {
				n++
			}
			diff += 7 * n
			tm.update(now, int64(diff)*86400)
			*touched = true
			return end
		}
	}
	if matchString(w, "months") >= 5 {
		tm.update(now, 0)
		n := tm.mon - *num
		*num = 0
		for n < 0 {
			n += 12
			tm.year--
		}
		tm.mon = n
		*touched = true
		return end
	}
	if matchString(w, "years") >= 4 {
		tm.update(now, 0)
		tm.year -= *num
		*num = 0
		*touched = true
	}
	return end
}

// special handles git's special words; it reports whether w was one.
func (tm *gitTM) special(w string, now gitTM, num *int) bool {
	atHour := func(h int) {
		tm.pendingNumber(num)
		if tm.hour < h {
			tm.update(now, 86400)
		}
		tm.hour, tm.min, tm.sec = h, 0, 0
	}
	ampm := func(add int) {
		h := tm.hour
		if *num != 0 {
			h = *num
			tm.min, tm.sec = 0, 0
		}
		*num = 0
		tm.hour = h%12 + add
	}
	switch {
	case matchString(w, "yesterday") == 9:
		*num = 0
		tm.update(now, 86400)
	case matchString(w, "noon") == 4:
		atHour(12)
	case matchString(w, "midnight") == 8:
		atHour(0)
	case matchString(w, "tea") == 3:
		atHour(17)
	case matchString(w, "pm") == 2:
		ampm(12)
	case matchString(w, "am") == 2:
		ampm(0)
	case matchString(w, "never") == 5:
		*num = 0
		*tm = tmOf(time.Unix(0, 0).UTC())
	case matchString(w, "now") == 3:
		*num = 0
		tm.update(now, 0)
	default:
		return false
	}
	return true
}
