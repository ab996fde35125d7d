package api

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"patchtrail/internal/link"
)

// TestTraceDeterministic traces a commit that is the fix of two CVEs and
// has two stable backports: the same question gives the same answer byte
// for byte (the CVE is picked by id, not by map order; backports and
// undated events keep the order of the fix commits).
func TestTraceDeterministic(t *testing.T) {
	st, commits := linkedSample(t)
	ctx := context.Background()
	fix := commits[traceV2p2]
	vulns := filepath.Join(t.TempDir(), "cve", "published", "2024")
	if err := os.MkdirAll(vulns, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"CVE-2024-2001", "CVE-2024-2000", "CVE-2024-10002"} {
		files := map[string]string{
			id + ".json": `{"cveMetadata":{"cveId":"` + id + `","state":"PUBLISHED"},"containers":{"cna":{
				"title":"io_uring: a fix","descriptions":[{"lang":"en","value":"..."}],
				"affected":[{"programFiles":["io_uring/rw.c"]}]}}}`,
			id + ".sha1": fix + "\n",
			id + ".dyad": "6.1:0123456789abcdef0123456789abcdef01234567:6.1.80:2222222222222222222222222222222222222222\n" +
				"6.1:0123456789abcdef0123456789abcdef01234567:6.6.20:3333333333333333333333333333333333333333\n",
		}
		for name, content := range files {
			if err := os.WriteFile(filepath.Join(vulns, name), []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	if _, err := link.ImportCVEs(ctx, st, filepath.Dir(filepath.Dir(filepath.Dir(vulns))), nil); err != nil {
		t.Fatal(err)
	}
	var first []byte
	for i := 0; i < 20; i++ {
		v, err := LoadTrace(ctx, st, fix)
		if err != nil {
			t.Fatal(err)
		}
		if v.CVE == nil || v.CVE.ID != "CVE-2024-2000" {
			t.Fatalf("run %d: CVE = %+v, want CVE-2024-2000 (the least id naming the fix)", i, v.CVE)
		}
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if first == nil {
			first = b
		} else if !bytes.Equal(first, b) {
			t.Fatalf("run %d: the trace differs from the first run:\n%s\n%s", i, first, b)
		}
	}
}
