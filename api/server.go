package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"

	"patchtrail/internal/admit"
	"patchtrail/internal/lru"
	"patchtrail/internal/store"
	"patchtrail/search"
)

// Options tunes a Server. A nil *Options means defaults.
type Options struct {
	// Logger receives the access log and errors; nil discards.
	Logger *slog.Logger
	// RequestTimeout is the deadline of every request except downloads
	// (default 10s). A request that runs out of time is answered 503.
	RequestTimeout time.Duration
	// StreamTimeout is the deadline of mbox and Atom downloads, which
	// stream many messages (default 2m).
	StreamTimeout time.Duration
	// MaxBodyBytes caps request bodies (default 1 MiB); more is 413.
	MaxBodyBytes int64
	// MaxLimit caps the page size of searches (default 200, at most
	// search.MaxLimit).
	MaxLimit int
	// MaxThreadMessages caps the messages of one thread download,
	// including same-subject messages (default 5000).
	MaxThreadMessages int
	// HeaderTimeout is how long a client may take to send the request
	// headers (default 10s); slower connections are closed.
	HeaderTimeout time.Duration
	// ShutdownTimeout bounds the graceful shutdown of Serve (default 15s).
	ShutdownTimeout time.Duration
	// CacheBytes bounds the memory of the answer caches (default
	// DefaultCacheBytes; negative turns them off): 7/16 for whole answers
	// (threadcache.go: threads, messages, series, list feeds), 1/16 for
	// the entries of Atom feeds, 1/8 for thread trees, 3/16 each for
	// rendered message bodies and gzipped mboxrd messages.
	CacheBytes int64
	// Title names the site in pages and feeds (default "patchtrail").
	Title string
	// BaseURL is the scheme, host and path prefix the site is reached
	// at ("https://lore.example.org"), used in redirects and Atom feeds;
	// the Host header of a request is never used. Empty means the
	// local address of the connection the request came on.
	BaseURL string
	// MaxExpensive is how many expensive answers (whole threads,
	// series, traces, mbox downloads; admission.go) are built at once
	// (default 4 × NumCPU); ExpensiveQueue more wait (default 64), and
	// any further one is answered 503 with Retry-After.
	MaxExpensive   int
	ExpensiveQueue int
	// CommitURL is where pages link a commit that is in no registered
	// repository (the commit page would be a 404): "{sha}" stands for
	// its id, else the id is appended (default DefaultCommitURL).
	CommitURL string
}

// DefaultCommitURL is the web address of a kernel commit, the form the
// CVE records use.
const DefaultCommitURL = "https://git.kernel.org/stable/c/{sha}"

// DefaultCacheBytes is the memory of the answer caches of a server whose
// Options leave it unset.
const DefaultCacheBytes = 256 << 20

func (o *Options) withDefaults() Options {
	var r Options
	if o != nil {
		r = *o
	}
	if r.Logger == nil {
		r.Logger = slog.New(slog.DiscardHandler)
	}
	if r.RequestTimeout <= 0 {
		r.RequestTimeout = 10 * time.Second
	}
	if r.StreamTimeout <= 0 {
		r.StreamTimeout = 2 * time.Minute
	}
	if r.MaxBodyBytes <= 0 {
		r.MaxBodyBytes = 1 << 20
	}
	if r.MaxLimit <= 0 {
		r.MaxLimit = 200
	}
	r.MaxLimit = min(r.MaxLimit, search.MaxLimit)
	if r.MaxThreadMessages <= 0 {
		r.MaxThreadMessages = 5000
	}
	if r.HeaderTimeout <= 0 {
		r.HeaderTimeout = 10 * time.Second
	}
	if r.ShutdownTimeout <= 0 {
		r.ShutdownTimeout = 15 * time.Second
	}
	if r.CacheBytes == 0 {
		r.CacheBytes = DefaultCacheBytes
	}
	if r.Title == "" {
		r.Title = "patchtrail"
	}
	if r.CommitURL == "" {
		r.CommitURL = DefaultCommitURL
	}
	if r.MaxExpensive <= 0 {
		r.MaxExpensive = 4 * runtime.NumCPU()
	}
	if r.ExpensiveQueue <= 0 {
		r.ExpensiveQueue = 64
	}
	return r
}

// Server serves one store and its search index over HTTP: the JSON API
// under /api/v1, the lore-compatible endpoints and the HTML pages.
type Server struct {
	st      *store.Store
	ix      *search.Index // nil: searches answer 503
	o       Options
	log     *slog.Logger
	e       *echo.Echo
	metrics *metrics
	pages   *pages
	threads *threadCache
	views   *viewCache
	bodies  *bodyCache
	pieces  *pieceCache
	// feedEntries keeps Atom entries (feeds.go).
	feedEntries *lru.Cache[string, feedEntry]

	expensive *admit.Pool // admission of expensive answers (admission.go)

	siteURL string // BaseURL without a trailing slash

	mu         sync.Mutex
	lists      []store.List
	listsTime  time.Time
	statsCache *StatsPage
	statsTime  time.Time
	statsBusy  bool
	queueLen   int64     // notIndexed's last count
	queueTime  time.Time // and when it was made

	bg sync.WaitGroup // background work (stats counts) that uses the store
}

// New makes a server over st and ix (ix may be nil: no search). It does
// not take ownership of either.
func New(st *store.Store, ix *search.Index, opts *Options) *Server {
	o := opts.withDefaults()
	s := &Server{st: st, ix: ix, o: o, log: o.Logger, metrics: newMetrics(), pages: loadPages(), threads: newThreadCache(o.CacheBytes / 16 * 7), feedEntries: newFeedEntryCache(o.CacheBytes / 16), views: newViewCache(o.CacheBytes / 8),
		bodies: newBodyCache(o.CacheBytes / 16 * 3), pieces: newPieceCache(o.CacheBytes / 16 * 3),
		expensive: admit.New("api: expensive answers", o.MaxExpensive, o.ExpensiveQueue)}
	s.siteURL = strings.TrimRight(o.BaseURL, "/")
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.handleError
	e.Use(s.observe, s.secureHeaders, s.recoverPanic, s.headBody, s.limitBody, s.deadline, s.cacheThreads, s.admit)
	s.routes(e)
	s.e = e
	return s
}

// Handler returns the server's http.Handler.
func (s *Server) Handler() http.Handler { return s.e }

// Serve listens on addr and serves until ctx ends, then shuts down
// gracefully: it stops accepting, lets running requests finish within
// ShutdownTimeout and returns nil.
func (s *Server) Serve(ctx context.Context, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("api: %w", err)
	}
	return s.ServeListener(ctx, ln)
}

// ServeListener is Serve on an open listener, which it closes.
func (s *Server) ServeListener(ctx context.Context, ln net.Listener) error {
	hs := &http.Server{
		Handler:           s.e,
		ReadHeaderTimeout: s.o.HeaderTimeout,
		ReadTimeout:       s.o.HeaderTimeout + 30*time.Second,
		WriteTimeout:      s.o.StreamTimeout + 30*time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	s.log.Info("serving", "addr", ln.Addr().String())
	s.bg.Go(func() { s.stats(ctx) }) // warm the cache of the home page's counts
	// The caller closes the store once Serve returns: wait for the
	// background work that uses it.
	defer s.bg.Wait()
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("api: %w", err)
	case <-ctx.Done():
	}
	s.log.Info("shutting down", "timeout", s.o.ShutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), s.o.ShutdownTimeout)
	defer cancel()
	err := hs.Shutdown(sctx)
	if serr := <-errc; serr != nil && !errors.Is(serr, http.ErrServerClosed) && err == nil {
		err = serr
	}
	if err != nil {
		hs.Close()
		return fmt.Errorf("api: shutdown: %w", err)
	}
	return nil
}

// knownLists returns the lists of the store, re-read at most every 10 s.
func (s *Server) knownLists(ctx context.Context) ([]store.List, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lists != nil && time.Since(s.listsTime) < 10*time.Second {
		return s.lists, nil
	}
	ls, err := s.st.Lists(ctx)
	if err != nil {
		return nil, err
	}
	if ls == nil {
		ls = []store.List{}
	}
	s.lists, s.listsTime = ls, time.Now()
	return ls, nil
}

// isList reports whether name is a list of the store or "all".
func (s *Server) isList(ctx context.Context, name string) (bool, error) {
	if name == allLists {
		return true, nil
	}
	ls, err := s.knownLists(ctx)
	if err != nil {
		return false, err
	}
	for _, l := range ls {
		if l.Name == name {
			return true, nil
		}
	}
	return false, nil
}

// allLists is the pseudo-list that searches every list, as on lore.
const allLists = "all"

// searchList is the search.SearchOptions.List of a lore path's list.
func searchList(list string) string {
	if list == allLists {
		return ""
	}
	return list
}
