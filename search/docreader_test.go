package search

import (
	"context"
	"encoding/binary"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	bsearch "github.com/blevesearch/bleve/v2/search"
	index "github.com/blevesearch/bleve_index_api"
)

// TestLoadAtDocNumbers checks that a page's stored fields read at the
// hits' document numbers (docReader) are the fields bleve's lookup by id
// gives and are found there (not looked up), and that pages whose
// document numbers belong to another snapshot (the same messages in
// another order, one updated, one deleted) load the documents as that
// index holds them: the fields of the updated hit, none of the deleted
// one.
func TestLoadAtDocNumbers(t *testing.T) {
	ctx := context.Background()
	docs := spreadDocs(1200)
	open := func(name string, docs []*Doc) *Index {
		ix, err := Open(filepath.Join(t.TempDir(), name), &Options{CacheEntries: -1, NoSync: true})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { ix.Close() })
		indexAll(t, ix, docs, 150)
		return ix
	}
	ix := open("ix", docs)
	type page struct {
		p    *prepared
		hits []*bsearch.DocumentMatch
	}
	var pages []page
	// A page's document numbers are its snapshot's: a background merge
	// between the page and the reader (the index's last batches are
	// still merging) moves them, and then the fields are rightly not
	// found there. Such a page is taken again once the merges settle.
	for _, q := range []string{"s:re", newSynth(7).vocab[0], "d:2016..2030"} {
		var pg *datedPage
		var p *prepared
		var errs []string
		for attempt := 0; attempt < 50; attempt++ {
			if attempt > 0 {
				time.Sleep(100 * time.Millisecond)
			}
			var err error
			p, err = ix.prepare(q, &SearchOptions{})
			if err != nil {
				t.Fatal(err)
			}
			pg, err = ix.page(ctx, p, 40, 0, nil, false)
			if err != nil || len(pg.hits) < 20 {
				t.Fatalf("%q: %d hits, %v", q, len(pg.hits), err)
			}
			errs = errs[:0]
			ix.mu.RLock()
			for _, h := range pg.hits {
				part := ix.partOfHit(p, h)
				r, err := newDocReader(part.shards[ix.shardFor(h.ID)])
				if err != nil {
					t.Fatal(err)
				}
				got, ok, err := r.fields(h.IndexInternalID, h.ID)
				r.close()
				want, werr := ix.storedFields(part, h.ID)
				if err != nil || werr != nil || !ok || !reflect.DeepEqual(got, want) {
					errs = append(errs, fmt.Sprintf("%q: %s at its number: %v ok %t (%v); by id %v (%v)", q, h.ID, got, ok, err, want, werr))
				}
			}
			ix.mu.RUnlock()
			if len(errs) == 0 {
				break
			}
		}
		for _, e := range errs {
			t.Error(e)
		}
		pages = append(pages, page{p, pg.hits})
	}

	updated, deleted := pages[0].hits[0].ID, pages[0].hits[1].ID
	var rev []*Doc
	for i := len(docs) - 1; i >= 0; i-- {
		d := *docs[i]
		switch d.MessageID {
		case updated:
			d.Subject = "changed " + d.Subject
		case deleted:
			continue
		}
		rev = append(rev, &d)
	}
	ix2 := open("ix2", rev)
	for _, pg := range pages {
		hits, err := ix2.load(ctx, pg.p, pg.hits)
		if err != nil {
			t.Fatal(err)
		}
		for i, h := range hits {
			m := *pg.hits[i]
			want, err := ix2.storedFields(ix2.partOfHit(pg.p, &m), m.ID)
			if err != nil {
				t.Fatal(err)
			}
			m.Fields = want // nil: deleted
			if w := toHit(&m, false); !reflect.DeepEqual(h, w) {
				t.Errorf("hit %d from the other index: %+v, want %+v", i, h, w)
			}
			switch h.MessageID {
			case updated:
				if !strings.HasPrefix(h.Subject, "changed ") {
					t.Errorf("updated %s: subject %q", updated, h.Subject)
				}
			case deleted:
				if h.Subject != "" {
					t.Errorf("deleted %s: subject %q", deleted, h.Subject)
				}
			}
		}
	}
}

// TestDocReaderMismatchKeepsZapReader checks that a hit whose document
// number holds another document leaves zap's pooled reading context
// whole: zap puts it back into its pool when a visitor stops at _id and
// again on return, and the next two visits (here one nested in the
// other, as two searches side by side would) then read through the same
// context, the outer one losing its fields.
func TestDocReaderMismatchKeepsZapReader(t *testing.T) {
	ix, err := Open(filepath.Join(t.TempDir(), "ix"), &Options{CacheEntries: -1, NoSync: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ix.Close()
	indexAll(t, ix, spreadDocs(40), 40)
	ix.mu.RLock()
	defer ix.mu.RUnlock()
	var r *docReader
	for _, p := range ix.parts {
		for _, sh := range p.shards {
			d, err := newDocReader(sh)
			if err != nil {
				t.Fatal(err)
			}
			defer d.close()
			if len(d.segs) > 0 && d.segs[0].Segment().Count() >= 2 {
				r = d
			}
		}
	}
	if r == nil {
		t.Fatal("no segment with two documents")
	}
	ss := r.segs[0]
	count := func(num uint64, inner func()) (n int) {
		err := ss.VisitDocument(num, func(string, byte, []byte, []uint64) bool {
			if n++; n == 2 && inner != nil {
				inner()
			}
			return true
		})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	want := count(0, nil)
	for i := 0; i < 20; i++ {
		iid := index.IndexInternalID(make([]byte, 8))
		binary.BigEndian.PutUint64(iid, r.offsets[0])
		if _, ok, err := r.fields(iid, "not-this-one@x"); ok || err != nil {
			t.Fatalf("mismatched id: ok %t, %v", ok, err)
		}
		if got := count(0, func() { count(1, nil) }); got != want {
			t.Fatalf("round %d: outer visit saw %d fields after a mismatch, want %d", i, got, want)
		}
	}
}
