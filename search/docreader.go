package search

import (
	"slices"
	"sort"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/index/scorch"
	"github.com/blevesearch/bleve/v2/numeric"
	bsearch "github.com/blevesearch/bleve/v2/search"
	index "github.com/blevesearch/bleve_index_api"
)

// docReader reads the stored fields of a page's hits in one shard at the
// document numbers the search found them under.
//
// bleve's Index.Document looks a document up by its id: the _id term in
// the dictionary of every segment of the shard (a Message-ID of some
// forty bytes walked through each segment's FST), then builds every
// stored field of it as a document. For a page of 50 that was most of
// the time spent loading the page (doc/scaling.md). A hit already
// carries its document number in the snapshot its shard was searched
// in; a read-only index keeps that snapshot, a writer may have replaced
// it since, so the number is trusted only when the document there is
// live and its _id (which zap visits first) is the hit's id. Otherwise
// the caller looks the id up as before.
type docReader struct {
	r       index.IndexReader
	segs    []*scorch.SegmentSnapshot // nil: not a scorch snapshot
	offsets []uint64                  // the first document number of each segment
}

func newDocReader(sh bleve.Index) (*docReader, error) {
	ai, err := sh.Advanced()
	if err != nil {
		return nil, err
	}
	r, err := ai.Reader()
	if err != nil {
		return nil, err
	}
	d := &docReader{r: r}
	if snap, ok := r.(*scorch.IndexSnapshot); ok {
		d.segs = snap.Segments()
		var next uint64
		for _, ss := range d.segs {
			d.offsets = append(d.offsets, next)
			next += ss.Segment().Count()
		}
	}
	return d, nil
}

func (d *docReader) close() error { return d.r.Close() }

// fields are the hitFields of the document numbered iid in the snapshot,
// as storedFields reads them; ok is false when that document is not the
// live document id.
func (d *docReader) fields(iid index.IndexInternalID, id string) (f map[string]interface{}, ok bool, err error) {
	if len(d.segs) == 0 || len(iid) != 8 {
		return nil, false, nil
	}
	g := iid.Value()
	k := sort.Search(len(d.offsets), func(x int) bool { return d.offsets[x] > g }) - 1
	if k < 0 {
		return nil, false, nil
	}
	ss, local := d.segs[k], g-d.offsets[k]
	if del := ss.Deleted(); local >= ss.Segment().Count() || del != nil && del.Contains(uint32(local)) {
		return nil, false, nil
	}
	dm := &bsearch.DocumentMatch{}
	err = ss.VisitDocument(local, func(name string, typ byte, val []byte, _ []uint64) bool {
		if name == "_id" {
			// Never stop at _id: zapx (v17.2.3 to v17.2.5) puts its
			// reading context back into its pool there and again on
			// return, after which two readers share it (wrong fields,
			// EOF, a crash). A mismatch stops at the next field.
			ok = string(val) == id
			return true
		}
		if !ok || !slices.Contains(hitFields, name) {
			return ok
		}
		switch typ {
		case 't':
			dm.AddFieldValue(name, string(val))
		case 'n':
			if n, err := numeric.PrefixCoded(val).Int64(); err == nil {
				dm.AddFieldValue(name, numeric.Int64ToFloat64(n))
			}
		}
		return true
	})
	if err != nil || !ok {
		return nil, false, err
	}
	return dm.Fields, true, nil
}
