package link

import (
	"slices"
	"testing"

	"patchtrail/internal/store"
)

// TestChangedMessages: a message is reindexed when its link appears,
// disappears or changes role, not when only its grade or score does.
func TestChangedMessages(t *testing.T) {
	old := []store.LinkKey{
		{Message: 1, Role: store.RoleApplied, Grade: "fuzzy"},
		{Message: 2, Role: store.RoleEarlier, Grade: "strong"},
		{Message: 3, Role: store.RoleEarlier, Grade: "fuzzy"},
		{Message: 4, Role: store.RoleApplied, Grade: "exact"},
	}
	now := []store.LinkRow{
		{Message: 1, Role: store.RoleApplied, Grade: "strong", Score: 0.95}, // regraded: unchanged
		{Message: 2, Role: store.RoleApplied, Grade: "strong"},              // became the applied one
		{Message: 4, Role: store.RoleApplied, Grade: "exact", Score: 0.98},  // rescored: unchanged
		{Message: 5, Role: store.RoleEarlier, Grade: "fuzzy"},               // new
	} // 3 is gone
	if got, want := changedMessages(old, now), []int64{2, 3, 5}; !slices.Equal(got, want) {
		t.Errorf("changed %v, want %v", got, want)
	}
	if got := changedMessages(nil, nil); len(got) != 0 {
		t.Errorf("no links before or after: changed %v", got)
	}
}
