package thread

import (
	"context"

	"patchtrail/internal/store"
)

// View is a thread as the store holds it: the strict reply tree, and
// apart from it the loose matches with the same normalised subject.
type View struct {
	ID          int64
	Message     *store.Message   // the message the view was loaded for
	Roots       []*Node          // Node.Value is *store.Message
	Messages    []*store.Message // the strict thread in date order
	SameSubject []*store.Message // outside the strict thread
}

// Load builds the view of the thread that stored message m belongs to.
// sameSubjectLimit caps the loose matches (0 = none).
func Load(ctx context.Context, st *store.Store, m *store.Message, sameSubjectLimit int) (*View, error) {
	msgs, err := st.ThreadMessages(ctx, m.Thread)
	if err != nil {
		return nil, err
	}
	refs, err := st.ThreadRefs(ctx, m.Thread)
	if err != nil {
		return nil, err
	}
	items := make([]Item, 0, len(msgs))
	norms := map[string]bool{}
	for _, tm := range msgs {
		items = append(items, Item{MessageID: tm.MessageID, Refs: refs[tm.ID], Date: tm.Date, Value: tm})
		norms[tm.NormSubject] = true
	}
	v := &View{ID: m.Thread, Message: m, Roots: Build(items), Messages: msgs}
	if sameSubjectLimit > 0 {
		// The subject of the thread's root (or the message's own) defines
		// the loose matches.
		norm := m.NormSubject
		if len(v.Roots) > 0 {
			if rm, ok := v.Roots[0].Value.(*store.Message); ok {
				norm = rm.NormSubject
			}
		}
		if v.SameSubject, err = st.SameSubject(ctx, norm, m.Thread, sameSubjectLimit); err != nil {
			return nil, err
		}
	}
	return v, nil
}
