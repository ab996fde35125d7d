package api

import (
	"context"

	"patchtrail/internal/store"
	"patchtrail/internal/trace"
)

// becameOf is what the patch mails among mids became (trace.LoadBecame):
// the commits and CVEs of each that has any, in the order of mids. The
// message, thread and series pages show it.
func becameOf(ctx context.Context, st *store.Store, mids []string) ([]*Became, error) {
	var out []*Became
	for _, mid := range mids {
		b, err := trace.LoadBecame(ctx, st, mid)
		if err != nil {
			return nil, err
		}
		if b != nil && (len(b.Commits) > 0 || len(b.CVEs) > 0) {
			out = append(out, WireBecame(b))
		}
	}
	return out, nil
}
