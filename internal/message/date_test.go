package message

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func utc(y int, mo time.Month, d, h, mi, s int) time.Time {
	return time.Date(y, mo, d, h, mi, s, 0, time.UTC)
}

func TestDate(t *testing.T) {
	recv := "Received: from x by y; Tue, 2 Jan 2024 11:00:00 +0000"
	tests := []struct {
		name     string
		header   []string
		want     time.Time
		source   string
		problems []string
	}{
		{"rfc5322", []string{"Date: Mon, 1 Jan 2024 10:00:00 +0100"}, utc(2024, 1, 1, 9, 0, 0), DateFromHeader, nil},
		{"comment zone", []string{"Date: Mon, 01 Jan 2024 10:00:00 -0800 (PST)"}, utc(2024, 1, 1, 18, 0, 0), DateFromHeader, nil},
		{"no weekday", []string{"Date: 1 Jan 2024 10:00:00 +0000"}, utc(2024, 1, 1, 10, 0, 0), DateFromHeader, nil},
		{"no seconds", []string{"Date: Mon, 1 Jan 2024 10:00 +0000"}, utc(2024, 1, 1, 10, 0, 0), DateFromHeader, nil},
		{"named zone", []string{"Date: Mon, 1 Jan 2024 10:00:00 EST"}, utc(2024, 1, 1, 15, 0, 0), DateFromHeader, nil},
		{"GMT", []string{"Date: Mon, 1 Jan 2024 10:00:00 GMT"}, utc(2024, 1, 1, 10, 0, 0), DateFromHeader, nil},
		{"two-digit year", []string{"Date: Mon, 1 Jan 24 10:00:00 +0000"}, utc(2024, 1, 1, 10, 0, 0), DateFromHeader, nil},
		{"GMT+1 named offset", []string{"Date: Mon, 1 Jan 2024 10:00:00 GMT+1"}, utc(2024, 1, 1, 9, 0, 0), DateFromHeader, nil},
		{"unknown zone", []string{"Date: Mon, 1 Jan 2024 10:00:00 XYZ"}, utc(2024, 1, 1, 10, 0, 0), DateFromHeader, []string{"unknown time zone"}},
		// The known bad layouts.
		{"missing comma", []string{"Date: Mon 1 Jan 2024 10:00:00 +0100"}, utc(2024, 1, 1, 9, 0, 0), DateFallback, nil},
		{"GMT+0100", []string{"Date: Mon, 1 Jan 2024 10:00:00 GMT+0100"}, utc(2024, 1, 1, 9, 0, 0), DateFallback, nil},
		{"zone in comment only", []string{"Date: Mon, 1 Jan 2024 10:00:00 (PST)"}, utc(2024, 1, 1, 18, 0, 0), DateFallback, nil},
		{"no zone", []string{"Date: Mon, 1 Jan 2024 10:00:00"}, utc(2024, 1, 1, 10, 0, 0), DateFallback, nil},
		{"trailing junk, net/mail accepts", []string{"Date: Mon, 1 Jan 2024 10:00:00 +0200 +0200 junk"}, utc(2024, 1, 1, 8, 0, 0), DateFromHeader, nil},
		{"junk before the zone", []string{"Date: Mon, 1 Jan 2024 at 10:00:00 +0200"}, utc(2024, 1, 1, 8, 0, 0), DateFallback, nil},
		{"asctime", []string{"Date: Mon Jan  1 10:00:00 2024"}, utc(2024, 1, 1, 10, 0, 0), DateFallback, nil},
		{"asctime with zone", []string{"Date: Mon Jan 1 10:00:00 CET 2024"}, utc(2024, 1, 1, 9, 0, 0), DateFallback, nil},
		{"ISO 8601", []string{"Date: 2024-01-01T10:00:00+02:00"}, utc(2024, 1, 1, 8, 0, 0), DateFallback, nil},
		{"full names", []string{"Date: Monday, January 1, 2024 10:00 PM +0000"}, utc(2024, 1, 1, 22, 0, 0), DateFallback, nil},
		{"two-digit year, no comma", []string{"Date: Mon 1 Jan 99 10:00:00 -0500"}, utc(1999, 1, 1, 15, 0, 0), DateFallback, nil},
		{"three-digit year", []string{"Date: Mon, 1 Jan 101 10:00:00 +0000"}, utc(2001, 1, 1, 10, 0, 0), DateFallback, nil},
		{"single-digit time parts", []string{"Date: Mon, 1 Jan 2024 9:5:7 +0000"}, utc(2024, 1, 1, 9, 5, 7), DateFallback, nil},
		// Received fallback and none.
		{"received", []string{recv, "Received: from a by b; Mon, 1 Jan 2024 09:00:00 +0000", "Date: garbage"}, utc(2024, 1, 2, 11, 0, 0), DateReceived, []string{"unparseable Date"}},
		{"received, no Date", []string{"Received: unparseable; nonsense", recv}, utc(2024, 1, 2, 11, 0, 0), DateReceived, []string{"no Date"}},
		{"none", []string{"Date: 32 Foo 2024"}, time.Time{}, DateNone, []string{"unparseable Date"}},
		{"invalid day", []string{"Date: Mon, 31 Feb 2024 10:00:00 +0000"}, time.Time{}, DateNone, []string{"unparseable Date"}},
		// Suspicious dates are kept, with a problem.
		{"future of received", []string{recv, "Date: Mon, 8 Jan 2024 10:00:00 +0000"}, utc(2024, 1, 8, 10, 0, 0), DateFromHeader, []string{"Date in the future"}},
		{"future of now", []string{"Date: Mon, 1 Jan 2035 10:00:00 +0000"}, utc(2035, 1, 1, 10, 0, 0), DateFromHeader, []string{"Date in the future"}},
		{"before 1980", []string{"Date: Thu, 1 Jan 1970 00:00:00 +0000"}, utc(1970, 1, 1, 0, 0, 0), DateFromHeader, []string{"Date before 1980"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := append([]string{"From: a@b.c", "Message-ID: <a@b>"}, tc.header...)
			m := mustParse(t, msg(append(h, "", "x")...))
			if !m.Date.Equal(tc.want) || m.DateSource != tc.source {
				t.Errorf("Date = %v (%s), want %v (%s)", m.Date, m.DateSource, tc.want, tc.source)
			}
			if diff := cmp.Diff(tc.problems, kinds(m), cmpopts.EquateEmpty(), sortStrings); diff != "" {
				t.Errorf("problems (-want +got):\n%s\n%q", diff, m.Problems)
			}
		})
	}
}

func TestReceived(t *testing.T) {
	m := mustParse(t, msg("From: a@b.c",
		"Received: from x by y with ESMTP id 1;",
		"\tTue, 2 Jan 2024 11:00:00 +0100 (CET)",
		"Received: from a by b; Mon, 1 Jan 2024 09:00:00 +0000",
		"Date: Tue, 2 Jan 2024 10:59:00 +0100", "", "x"))
	if want := utc(2024, 1, 2, 10, 0, 0); !m.Received.Equal(want) {
		t.Errorf("Received = %v, want %v", m.Received, want)
	}
}

// TestFastDate checks the allocation-free path against net/mail.
func TestFastDate(t *testing.T) {
	for _, v := range []string{
		"Mon, 1 Jan 2024 10:00:00 +0100",
		"Mon,  1 Jan 2024 10:00:00 +0100",
		"1 Jan 2024 10:00:00 -0930",
		"Sun, 31 Dec 2023 23:59:60 +0000",
		"Wed, 29 Feb 2024 10:00 GMT",
		"Wed, 29 Feb 2024 10:00:00 UT",
		"Wed, 29 Feb 2024 10:00:00 +0000 (UTC)",
	} {
		fast, ok := fastRFCDate(v)
		if !ok {
			t.Errorf("fastRFCDate(%q) failed", v)
			continue
		}
		slow, _, ok := parseLooseDate(v)
		if !ok || !fast.Equal(slow) {
			t.Errorf("fastRFCDate(%q) = %v, parseLooseDate = %v", v, fast, slow)
		}
	}
	for _, v := range []string{
		"Mon 1 Jan 2024 10:00:00 +0100",
		"Mon, 1 Jan 24 10:00:00 +0100",
		"Mon, 1 Jan 2024 10:00:00 EST",
		"Mon, 30 Feb 2024 10:00:00 +0000",
		"Mon, 1 Jan 2024 10:00:00 +0100 junk",
		"Mon, 1 Jan 2024 10:00:00 +01",
		"Xyz, 1 Jan 2024 10:00:00 +0100",
	} {
		if got, ok := fastRFCDate(v); ok {
			t.Errorf("fastRFCDate(%q) = %v, want failure", v, got)
		}
	}
}
