package cve

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// FuzzRecord reads a record whose files hold arbitrary bytes: Load must
// return a record or a *RecordError, never panic.
func FuzzRecord(f *testing.F) {
	g := goodRecord("CVE-2024-26626", "io_uring: fix poll")
	f.Add(g["json"], g["dyad"], g["sha1"], g["vulnerable"], g["cvss"], g["reference"])
	f.Add(`{"containers":{"cna":{"metrics":[{"cvssV3_1":{"vectorString":"CVSS:3.1/AV:N"}}]}}}`, "0:0:0:0\n", "", "", "x", "")
	f.Add("{", "6.1:x", "zz", "\n\n", "", "\x00")
	if root := os.Getenv("PATCHTRAIL_VULNS"); root != "" {
		if ms, _ := filepath.Glob(filepath.Join(root, "cve", "published", "2024", "CVE-2024-266*.json")); len(ms) > 0 {
			base := ms[0][:len(ms[0])-len(".json")]
			read := func(ext string) string { b, _ := os.ReadFile(base + "." + ext); return string(b) }
			f.Add(read("json"), read("dyad"), read("sha1"), read("vulnerable"), read("cvss"), read("reference"))
		}
	}
	f.Fuzz(func(t *testing.T, js, dyad, sha1, vulnerable, cvss, reference string) {
		files := recordFiles{"json": []byte(js), "dyad": []byte(dyad), "sha1": []byte(sha1),
			"vulnerable": []byte(vulnerable), "cvss": []byte(cvss), "reference": []byte(reference)}
		// Through the files, as the reader reads them.
		dir := filepath.Join(t.TempDir(), "cve", "published", "2024")
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		base := filepath.Join(dir, "CVE-2024-26626")
		for ext, b := range files {
			if err := os.WriteFile(base+"."+ext, b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		r, err := Load(context.Background(), base)
		if err != nil {
			if _, ok := err.(*RecordError); !ok {
				t.Fatalf("error %v (%T) is no *RecordError", err, err)
			}
			return
		}
		if r.ID != "CVE-2024-26626" || r.Fingerprint != files.fingerprint() {
			t.Fatalf("record %s, fingerprint %s", r.ID, r.Fingerprint)
		}
	})
}
