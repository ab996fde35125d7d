package search

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/blevesearch/bleve/v2/mapping"
)

func TestOpenSchema(t *testing.T) {
	dir := t.TempDir()
	ix, err := Open(dir, &Options{Shards: 2})
	if err != nil {
		t.Fatal(err)
	}
	b := ix.Batch()
	b.Index(&Doc{MessageID: "a@b", Subject: "persisted"})
	if err := b.Execute(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := ix.Close(); err != nil {
		t.Fatal(err)
	}
	if err := ix.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
	if _, err := ix.Search(context.Background(), "x", nil); !errors.Is(err, ErrClosed) {
		t.Errorf("search after Close: %v", err)
	}

	// Reopen: the shard count on disk wins.
	ix, err = Open(dir, &Options{Shards: 5, ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if ix.Shards() != 2 {
		t.Errorf("reopened with %d shards, want 2", ix.Shards())
	}
	if r, err := ix.Search(context.Background(), "persisted", nil); err != nil || r.Total != 1 {
		t.Errorf("after reopen: %v, %v", r, err)
	}
	if err := ix.Batch().Execute(context.Background()); err == nil {
		t.Error("batch on a read-only index succeeded")
	}
	ix.Close()

	// Locked by another writer.
	w, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir, &Options{LockTimeout: 50 * time.Millisecond}); !errors.Is(err, ErrLocked) {
		t.Errorf("second writer: %v, want ErrLocked", err)
	}
	w.Close()

	// Another schema version.
	if err := writeMeta(dir, meta{SchemaVersion: SchemaVersion + 1, Shards: 2}); err != nil {
		t.Fatal(err)
	}
	_, err = Open(dir, nil)
	var se *SchemaError
	if !errors.As(err, &se) || se.Found != SchemaVersion+1 || !strings.Contains(err.Error(), "patchtrail reindex") {
		t.Errorf("version mismatch: %v", err)
	}

	// A directory with something else in it.
	other := t.TempDir()
	os.WriteFile(filepath.Join(other, "index_meta.json"), []byte("{}"), 0o644)
	if _, err := Open(other, nil); !errors.As(err, &se) {
		t.Errorf("foreign directory: %v, want *SchemaError", err)
	}
	// No index, read-only.
	if _, err := Open(filepath.Join(t.TempDir(), "none"), &Options{ReadOnly: true}); err == nil || errors.As(err, &se) {
		t.Errorf("missing read-only index: %v", err)
	}
}

// TestMappingMatchesDocuments checks that NewMapping declares every field
// the document builder emits, with the same options.
func TestMappingMatchesDocuments(t *testing.T) {
	d := testDocs()[1]
	d.To, d.Cc, d.AttachmentNames, d.MessageIDs = []Address{jens}, []Address{pavel}, strs("x.txt"), strs("alt@x")
	d.Received, d.ListIDs, d.Quoted = d.Date, strs(ioLID), "> q"
	d.SHAs, d.Repos, d.CVEs, d.States = strs("5a1f0c3d2e"), strs("liburing"), strs("CVE-2024-0582"), strs(StateApplied)
	ix := openTestIndex(t, nil)
	doc, err := toDocument(d, ix.kw)
	if err != nil {
		t.Fatal(err)
	}
	m := NewMapping().(*mapping.IndexMappingImpl)
	seen := map[string]bool{}
	for _, f := range doc.Fields {
		seen[f.Name()] = true
		spec, ok := specByName[f.Name()]
		if !ok {
			t.Errorf("document field %s is not in the schema", f.Name())
			continue
		}
		if f.Options() != spec.opts {
			t.Errorf("field %s options %v, schema says %v", f.Name(), f.Options(), spec.opts)
		}
		fm := m.FieldMappingForPath(f.Name())
		if fm.Options() != spec.opts || fm.Name != f.Name() {
			t.Errorf("mapping of %s: %+v, want options %v", f.Name(), fm, spec.opts)
		}
		wantAnalyzer := AnalyzerName
		switch spec.kind {
		case kindKeyword:
			wantAnalyzer = "keyword"
		case kindStem:
			wantAnalyzer = StemAnalyzerName
		}
		if spec.kind != kindNumber && m.AnalyzerNameForPath(f.Name()) != wantAnalyzer {
			t.Errorf("analyzer of %s: %s, want %s", f.Name(), m.AnalyzerNameForPath(f.Name()), wantAnalyzer)
		}
	}
	for _, f := range schemaFields {
		if !seen[f.name] {
			t.Errorf("schema field %s never filled by the test document", f.name)
		}
	}
}

func TestConcurrentSearchAndIndex(t *testing.T) {
	ix := openTestIndex(t, testDocs())
	ctx := context.Background()
	done := make(chan error, 4)
	for g := 0; g < 3; g++ {
		go func() {
			for i := 0; i < 20; i++ {
				if _, err := ix.Search(ctx, "filler OR sqpoll", &SearchOptions{Threads: i%2 == 0}); err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
	}
	go func() {
		b := ix.Batch()
		for i := 0; i < 200; i++ {
			b.Index(&Doc{MessageID: fmt.Sprintf("new-%d@x", i), Subject: "filler late", Date: at("2024-05-01 00:00")})
			if b.Len() == 50 {
				if err := b.Execute(ctx); err != nil {
					done <- err
					return
				}
			}
		}
		done <- nil
	}()
	for i := 0; i < 4; i++ {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	if r, err := ix.Search(ctx, "s:late", nil); err != nil || r.Total != 200 {
		t.Fatalf("after concurrent indexing: %v, %v", r, err)
	}
}
