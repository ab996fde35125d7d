package cve

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// cveJSON is the part of a CVE JSON 5.x record this package reads.
type cveJSON struct {
	DataType    string `json:"dataType"`
	CVEMetadata struct {
		CVEID         string `json:"cveId"`
		State         string `json:"state"`
		DatePublished string `json:"datePublished"`
		DateUpdated   string `json:"dateUpdated"`
	} `json:"cveMetadata"`
	Containers struct {
		CNA struct {
			Title        string `json:"title"`
			Descriptions []struct {
				Lang  string `json:"lang"`
				Value string `json:"value"`
			} `json:"descriptions"`
			Affected []struct {
				ProgramFiles []string `json:"programFiles"`
				Versions     []struct {
					Version         string `json:"version"`
					LessThan        string `json:"lessThan"`
					LessThanOrEqual string `json:"lessThanOrEqual"`
					Status          string `json:"status"`
					VersionType     string `json:"versionType"`
				} `json:"versions"`
			} `json:"affected"`
			Metrics    []map[string]json.RawMessage `json:"metrics"`
			References []struct {
				URL string `json:"url"`
			} `json:"references"`
		} `json:"cna"`
	} `json:"containers"`
}

// cvssMetric is the common part of cvssV4_0, cvssV3_1, cvssV3_0 and
// cvssV2_0 metric objects.
type cvssMetric struct {
	BaseScore    float64 `json:"baseScore"`
	BaseSeverity string  `json:"baseSeverity"`
	VectorString string  `json:"vectorString"`
}

// metricKeys in order of preference.
var metricKeys = []string{"cvssV3_1", "cvssV3_0", "cvssV4_0", "cvssV2_0"}

// dateLayouts are the timestamp forms seen in CVE records.
var dateLayouts = []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02"}

func parseDate(s string) time.Time {
	for _, l := range dateLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t
		}
	}
	return time.Time{}
}

// parseJSON fills r from the record's JSON. Syntax errors carry their
// line; the id in the JSON must match the file name.
func (r *Record) parseJSON(data []byte) error {
	var j cveJSON
	if err := json.Unmarshal(data, &j); err != nil {
		re := &RecordError{Err: fmt.Errorf("%w: %v", ErrBadJSON, err)}
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		switch {
		case errors.As(err, &se):
			re.Line = lineOf(data, se.Offset)
		case errors.As(err, &te):
			re.Line = lineOf(data, te.Offset)
		}
		return re
	}
	if j.CVEMetadata.CVEID != r.ID {
		return fmt.Errorf("%w: cveMetadata.cveId is %q", ErrIDMismatch, j.CVEMetadata.CVEID)
	}
	cna := &j.Containers.CNA
	r.Title = cna.Title
	for _, d := range cna.Descriptions {
		if r.Description == "" || strings.HasPrefix(d.Lang, "en") {
			r.Description = d.Value
			if strings.HasPrefix(d.Lang, "en") {
				break
			}
		}
	}
	for _, a := range cna.Affected {
		for _, f := range a.ProgramFiles {
			if f != "" && !slices.Contains(r.Files, f) {
				r.Files = append(r.Files, f)
			}
		}
		for _, v := range a.Versions {
			vr := VersionRange{Type: v.VersionType, Status: v.Status, Version: v.Version, LessThan: v.LessThan, LessThanOrEqual: v.LessThanOrEqual}
			if !slices.Contains(r.Affected, vr) {
				r.Affected = append(r.Affected, vr)
			}
		}
	}
	for _, ref := range cna.References {
		if ref.URL != "" && !slices.Contains(r.References, ref.URL) {
			r.References = append(r.References, ref.URL)
		}
	}
	r.Published = parseDate(j.CVEMetadata.DatePublished)
	r.Updated = parseDate(j.CVEMetadata.DateUpdated)

metrics:
	for _, m := range cna.Metrics {
		for _, key := range metricKeys {
			raw, ok := m[key]
			if !ok {
				continue
			}
			var cm cvssMetric
			if err := json.Unmarshal(raw, &cm); err != nil {
				return fmt.Errorf("%w: metrics.%s: %v", ErrBadJSON, key, err)
			}
			r.CVSS, r.Severity, r.CVSSVector = cm.BaseScore, strings.ToUpper(cm.BaseSeverity), cm.VectorString
			break metrics
		}
	}
	return nil
}

// lineOf returns the 1-based line of a byte offset.
func lineOf(data []byte, off int64) int {
	if off > int64(len(data)) {
		off = int64(len(data))
	}
	if off < 0 {
		off = 0
	}
	return bytes.Count(data[:off], []byte("\n")) + 1
}
