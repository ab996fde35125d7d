package indexer

import (
	"context"
	"path/filepath"
	"sort"
	"time"

	"patchtrail/internal/config"
	"patchtrail/internal/mirror"
	"patchtrail/internal/store"
	"patchtrail/mbox"
)

// SourceStatus is one source as `patchtrail sources` shows it: where it
// comes from, whether the configuration names it, and the outcome of its
// last sync as the store recorded it.
type SourceStatus struct {
	List       string    `json:"list"`
	Kind       string    `json:"kind"` // mirror, imap or path
	Source     string    `json:"source"`
	Path       string    `json:"path"` // the key the store records it under
	Configured bool      `json:"configured"`
	LastSync   time.Time `json:"last_sync"`
	Messages   int64     `json:"messages"`
	Problems   int64     `json:"problems"`
	LastError  string    `json:"last_error,omitempty"`
}

// Sources lists every source the Syncer would run (the configuration's,
// in its order) and then, sorted by key, those the store knows that the
// configuration does not name (imports by hand, mirrors made by
// `patchtrail clone`). st may be nil when there is no store yet.
func Sources(ctx context.Context, st *store.Store, cfg *config.Config, mirrorsDir string) ([]SourceStatus, error) {
	states := map[string]store.SourceState{}
	if st != nil {
		ss, err := st.SourceStates(ctx)
		if err != nil {
			return nil, err
		}
		for _, s := range ss {
			states[s.Path] = s
		}
	}
	var out []SourceStatus
	add := func(list, kind, source, path string, configured bool) {
		v := SourceStatus{List: list, Kind: kind, Source: source, Path: path, Configured: configured}
		if st, ok := states[path]; ok {
			v.LastSync, v.Messages, v.Problems, v.LastError = st.LastSync, st.Messages, st.Problems, st.LastError
			delete(states, path)
		}
		out = append(out, v)
	}
	mirrors, err := mirror.List(mirrorsDir)
	if err != nil {
		return nil, err
	}
	mirrorURL := map[string]string{}
	for _, m := range mirrors {
		abs, _ := filepath.Abs(m.Dir)
		mirrorURL[abs] = m.URL
	}
	if cfg != nil {
		for _, l := range cfg.Lists {
			nm := 0
			for _, src := range l.Sources {
				switch src.Kind() {
				case "mirror":
					abs, _ := filepath.Abs(MirrorDir(mirrorsDir, l.Name, nm))
					nm++
					add(l.Name, "mirror", src.Mirror, abs, true)
					delete(mirrorURL, abs)
				case "imap":
					add(l.Name, "imap", src.IMAP, src.IMAP, true)
				default:
					abs, _ := filepath.Abs(src.Path)
					add(l.Name, "path", src.Path, abs, true)
				}
			}
		}
	}
	var rest []string
	for p := range states {
		rest = append(rest, p)
	}
	sort.Strings(rest)
	for _, p := range rest {
		kind, source := "path", p
		if u, ok := mirrorURL[p]; ok {
			kind, source = "mirror", u
		} else if mbox.IsIMAPURL(p) {
			kind = "imap"
		}
		add(states[p].List, kind, source, p, false)
	}
	return out, nil
}
