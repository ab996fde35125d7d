package cve

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestHostileRecordFiles reads a tree holding a FIFO named like a record
// file, a record file linked to /dev/zero and one larger than the cap:
// each is a malformed record naming its file, nothing blocks or grows
// without bound, and the records around them are read.
func TestHostileRecordFiles(t *testing.T) {
	root := t.TempDir()
	good := func(id string) map[string]string { return goodRecord(id, "good "+id) }
	writeRecord(t, root, "published", "CVE-2024-1", good("CVE-2024-1"))
	writeRecord(t, root, "published", "CVE-2024-5", good("CVE-2024-5"))
	dir := filepath.Join(root, "cve", "published", "2024")
	if err := syscall.Mkfifo(filepath.Join(dir, "CVE-2024-2.json"), 0o600); err != nil {
		t.Fatal(err)
	}
	zero := good("CVE-2024-3")
	delete(zero, "json")
	writeRecord(t, root, "published", "CVE-2024-3", zero)
	if err := os.Symlink("/dev/zero", filepath.Join(dir, "CVE-2024-3.json")); err != nil {
		t.Fatal(err)
	}
	big := good("CVE-2024-4")
	big["mbox"] = strings.Repeat("x", maxRecordFile+1)
	writeRecord(t, root, "published", "CVE-2024-4", big)

	type result struct {
		ids  []string
		errs []*RecordError
		err  error
	}
	done := make(chan result, 1)
	go func() {
		var res result
		r, err := Open(context.Background(), root, &Options{OnError: func(e *RecordError) { res.errs = append(res.errs, e) }})
		if err != nil {
			res.err = err
			done <- res
			return
		}
		defer r.Close()
		for {
			rec, err := r.Next()
			if err != nil {
				if err != io.EOF {
					res.err = err
				}
				done <- res
				return
			}
			res.ids = append(res.ids, rec.ID)
		}
	}()
	var res result
	select {
	case res = <-done:
	case <-time.After(time.Minute): // a hang guard, not a speed limit
		t.Fatal("reading the records blocks")
	}
	if res.err != nil {
		t.Fatal(res.err)
	}
	if diff := cmp.Diff([]string{"CVE-2024-1", "CVE-2024-5"}, res.ids); diff != "" {
		t.Errorf("ids (-want +got):\n%s", diff)
	}
	type errSummary struct {
		File string
		Err  error
	}
	var got []errSummary
	for _, e := range res.errs {
		got = append(got, errSummary{filepath.Base(e.Path), e.Err})
	}
	want := []errSummary{
		{"CVE-2024-2.json", ErrNotRegular},
		{"CVE-2024-3.json", ErrNotRegular},
		{"CVE-2024-4.mbox", ErrTooLarge},
	}
	if diff := cmp.Diff(want, got, cmp.Comparer(func(a, b error) bool { return errors.Is(a, b) || errors.Is(b, a) })); diff != "" {
		t.Errorf("record errors (-want +got):\n%s", diff)
	}
	if _, err := Load(context.Background(), filepath.Join(dir, "CVE-2024-3")); !errors.Is(err, ErrNotRegular) || !strings.Contains(err.Error(), "CVE-2024-3.json") {
		t.Errorf("Load(linked to /dev/zero) = %v, want ErrNotRegular naming the .json", err)
	}
}
