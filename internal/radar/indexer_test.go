package radar_test

import (
	"context"

	"patchtrail/indexer"
	"patchtrail/internal/radar"
	"patchtrail/internal/store"
)

func init() {
	radar.SetImportForTest(func(ctx context.Context, st *store.Store, src, list string) error {
		_, err := indexer.Import(ctx, st, src, &indexer.Options{List: list})
		return err
	})
}
