package cve

import (
	"context"
	"encoding/json"
	"io"
	"os"
	"patchtrail/internal/testcorpus"
	"path/filepath"
	"strings"
	"testing"
)

// ioUringPrefixes are the paths of the io_uring subsystem, old and new
// layouts: io_uring/ (since 6.0), fs/io_uring.c and fs/io-wq.[ch] (before),
// and its headers.
var ioUringPrefixes = []string{
	"io_uring/", "fs/io_uring.c", "fs/io-wq.",
	"include/linux/io_uring", "include/uapi/linux/io_uring", "include/trace/events/io_uring",
}

// TestVulnsCorpus reads the real records under PATCHTRAIL_VULNS (a
// checkout, or extract, of the vulns repository) and cross-checks them
// with a naive independent scan of the JSON files.
func TestVulnsCorpus(t *testing.T) {
	root := testcorpus.Vulns(t)
	jsons, err := filepath.Glob(filepath.Join(root, "cve", "published", "*", "CVE-*.json"))
	if err != nil || len(jsons) == 0 {
		t.Skipf("vulns corpus absent: no cve/published/*/CVE-*.json under %s", root)
	}

	var errs []*RecordError
	r, err := Open(context.Background(), root, &Options{OnError: func(e *RecordError) { errs = append(errs, e) }})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var n, ioUring, ioUringTitle, scored, backports, withIntro, withFix, computedOK, computed int
	prev := Record{}
	for {
		rec, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		n++
		if rec.Year < prev.Year || rec.Year == prev.Year && rec.Number <= prev.Number {
			t.Errorf("%s read after %s: not in (year, number) order", rec.ID, prev.ID)
		}
		prev = *rec
		if rec.Touches(ioUringPrefixes...) {
			ioUring++
		}
		if strings.Contains(rec.Title, "io_uring") {
			ioUringTitle++
		}
		if rec.CVSSVector != "" {
			scored++
			// The JSON score must agree with the score computed from the vector.
			computed++
			if s, sev, err := CVSSBaseScore(rec.CVSSVector); err == nil && s == rec.CVSS && sev == rec.Severity {
				computedOK++
			} else {
				t.Errorf("%s: JSON score %v %s, computed from %s: %v %s %v", rec.ID, rec.CVSS, rec.Severity, rec.CVSSVector, s, sev, err)
			}
		}
		backports += len(rec.Backports)
		if len(rec.IntroducedSHAs) > 0 {
			withIntro++
		}
		if len(rec.FixSHAs) > 0 {
			withFix++
		}
		if rec.Title == "" || len(rec.Files) == 0 {
			t.Errorf("%s: empty title or files", rec.ID)
		}
	}
	for _, e := range errs {
		t.Errorf("malformed record: %v", e)
	}
	if n != len(jsons) {
		t.Errorf("read %d records, %d JSON files exist", n, len(jsons))
	}

	// Independent count: programFiles mentioning io_uring, straight from the JSON.
	naive := 0
	for _, p := range jsons {
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		var j struct {
			Containers struct {
				CNA struct {
					Affected []struct {
						ProgramFiles []string `json:"programFiles"`
					} `json:"affected"`
				} `json:"cna"`
			} `json:"containers"`
		}
		if err := json.Unmarshal(b, &j); err != nil {
			t.Fatal(err)
		}
	files:
		for _, a := range j.Containers.CNA.Affected {
			for _, f := range a.ProgramFiles {
				if strings.Contains(f, "io_uring") || strings.Contains(f, "io-wq") {
					naive++
					break files
				}
			}
		}
	}
	if ioUring != naive {
		t.Errorf("records touching io_uring: %d by Touches, %d by a naive scan", ioUring, naive)
	}
	t.Logf("%d records (%d JSON files): %d touch io_uring files, %d have io_uring in the title; %d scored (%d/%d computed scores agree); %d with fix shas, %d with introducing shas, %d backport lines",
		n, len(jsons), ioUring, ioUringTitle, scored, computedOK, computed, withFix, withIntro, backports)
}
