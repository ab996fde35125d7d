package search

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

const day = 86400

// parseRange reads the value of d:, dt:, rt: or z: with public-inbox's
// semantics (Search.pm date_parse_prepare). On error it also returns the
// character offset of the bad part within text.
func parseRange(spec *prefixSpec, text string, now time.Time) (*Range, int, error) {
	r := &Range{Field: spec.name}
	lo, hi, isRange := strings.Cut(text, "..")
	hiOff := 0
	if isRange {
		hiOff = utf8.RuneCountInString(lo) + 2
		if lo == "" && hi == "" {
			return nil, 0, fmt.Errorf("%s: empty range", spec.name)
		}
	}
	var err error
	if spec.kind == kindSize {
		if !isRange {
			r.Min, err = parseSize(text)
			r.Max, r.HasMin, r.HasMax = r.Min, true, true
			return r, 0, err
		}
		if lo != "" {
			if r.Min, err = parseSize(lo); err != nil {
				return nil, 0, err
			}
			r.HasMin = true
		}
		if hi != "" {
			if r.Max, err = parseSize(hi); err != nil {
				return nil, hiOff, err
			}
			r.HasMax = true
		}
		return r, 0, nil
	}
	if !isRange {
		// One value, as public-inbox expands it: d:YYYYMMDD becomes
		// d:YYYYMMDD..YYYYMMDD+1, an inclusive range of whole days, so
		// it matches that day and the next; any other single date or
		// time t becomes t..t+1 day, both ends included.
		if spec.kind == kindDate {
			if d, ok := parseDay(text); ok {
				return &Range{Field: r.Field, Min: d.Unix(), Max: d.Unix() + 2*day - 1, HasMin: true, HasMax: true}, 0, nil
			}
		}
		t, err := dateValue(spec, text, now)
		if err != nil {
			return nil, 0, err
		}
		return &Range{Field: r.Field, Min: t, Max: t + day, HasMin: true, HasMax: true}, 0, nil
	}
	if lo != "" {
		if spec.kind == kindDate {
			if d, ok := parseDay(lo); ok {
				r.Min, r.HasMin = d.Unix(), true
			}
		}
		if !r.HasMin {
			if r.Min, err = dateValue(spec, lo, now); err != nil {
				return nil, 0, err
			}
			r.HasMin = true
		}
	}
	if hi != "" {
		if spec.kind == kindDate {
			if d, ok := parseDay(hi); ok {
				r.Max, r.HasMax = d.Unix()+day-1, true // the whole last day
			}
		}
		if !r.HasMax {
			if r.Max, err = dateValue(spec, hi, now); err != nil {
				return nil, hiOff, err
			}
			r.HasMax = true
		}
	}
	return r, 0, nil
}

// parseDay accepts YYYYMMDD and YYYY-MM-DD (UTC).
func parseDay(s string) (time.Time, bool) {
	layout := "20060102"
	if len(s) == 10 {
		layout = "2006-01-02"
	} else if len(s) != 8 || !allDigits(s) {
		return time.Time{}, false
	}
	t, err := time.Parse(layout, s)
	return t, err == nil
}

// dateValue reads one date of d:, dt: or rt:. rt: also takes bare unix
// seconds of 5 or more digits.
func dateValue(spec *prefixSpec, s string, now time.Time) (int64, error) {
	if spec.kind == kindReceived && len(s) >= 5 && allDigits(s) && len(s) <= 18 {
		n, err := strconv.ParseInt(s, 10, 64)
		return n, err
	}
	t, err := Approxidate(s, now)
	if err != nil {
		return 0, fmt.Errorf("%s: cannot read date %q: %w", spec.name, short(s), err)
	}
	return t.Unix(), nil
}

var errSize = errors.New("z: wants a size in bytes such as 5000, 10k or 2m")

// parseSize reads N, Nk, Nm or Ng (powers of 1024, any case).
func parseSize(s string) (int64, error) {
	mult := int64(1)
	if s != "" {
		switch s[len(s)-1] {
		case 'k', 'K':
			mult = 1 << 10
		case 'm', 'M':
			mult = 1 << 20
		case 'g', 'G':
			mult = 1 << 30
		}
		if mult > 1 {
			s = s[:len(s)-1]
		}
	}
	if !allDigits(s) || len(s) > 12 {
		return 0, errSize
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, errSize
	}
	return n * mult, nil
}

// short truncates user input quoted in error messages.
func short(s string) string {
	const n = 40
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}
