package api

import (
	"patchtrail/internal/store"
)

// The answers of the JSON API that are not views shared with the CLI
// (those are in view.go, patchview.go and hits.go). Field names are
// snake_case; openapi.go derives the schemas from these types.

// SearchPage is the answer of GET /api/v1/search.
type SearchPage struct {
	Query   string `json:"query"`
	Total   uint64 `json:"total"` // matching messages (before thread collapsing)
	Offset  int    `json:"offset"`
	Limit   int    `json:"limit"`
	Sort    string `json:"sort"`
	Threads bool   `json:"threads"`
	List    string `json:"list,omitempty"`
	Hits    []Hit  `json:"hits"`
	// Next is the URL of the next page, absent on the last page.
	Next string  `json:"next,omitempty"`
	Took Seconds `json:"took"`
}

// ListInfo is one mailing list.
type ListInfo struct {
	Name     string `json:"name"`
	ListID   string `json:"list_id"`
	Messages int64  `json:"messages"`
	URL      string `json:"url"` // the list's search page
}

// ListsPage is the answer of GET /api/v1/lists.
type ListsPage struct {
	Lists []ListInfo `json:"lists"`
}

// ReposPage is the answer of GET /api/v1/repos.
type ReposPage struct {
	Repos []RepoInfo `json:"repos"`
}

// StatsPage is the answer of GET /api/v1/stats.
type StatsPage struct {
	Store   *store.Stats       `json:"store"`
	Patches *store.PatchCounts `json:"patches"`
	// IndexDocuments counts the documents of the search index; it lags
	// the store while an import is indexing.
	IndexDocuments uint64 `json:"index_documents"`
	Search         bool   `json:"search"` // whether the search index is open
}
