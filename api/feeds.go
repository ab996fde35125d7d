package api

import (
	"bytes"
	"context"
	"crypto/sha1"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/klauspost/compress/gzip"
	"github.com/labstack/echo/v4"

	"patchtrail/internal/lru"
	"patchtrail/internal/store"
	"patchtrail/search"
)

// everything is the query that matches every message (size ≥ 0), for
// "newest messages" listings.
const everything = "z:0.."

// feedEntries is the number of entries of an Atom feed.
const feedEntries = 25

// Atom (RFC 4287) in the shape public-inbox's WwwAtomStream writes, with
// the thread extension (RFC 4685) for replies; entry ids are
// public-inbox's urn:uuid derived from the SHA-1 of the Message-ID.
type atomFeed struct {
	XMLName xml.Name    `xml:"http://www.w3.org/2005/Atom feed"`
	Title   string      `xml:"title"`
	Links   []atomLink  `xml:"link"`
	ID      string      `xml:"id"`
	Updated string      `xml:"updated"`
	Entries []atomEntry `xml:"entry"`
}

type atomLink struct {
	Rel  string `xml:"rel,attr,omitempty"`
	Type string `xml:"type,attr,omitempty"`
	Href string `xml:"href,attr"`
}

type atomEntry struct {
	Author    atomAuthor   `xml:"author"`
	Title     string       `xml:"title"`
	Updated   string       `xml:"updated"`
	Link      atomLink     `xml:"link"`
	ID        string       `xml:"id"`
	InReplyTo *atomReplyTo `xml:"http://purl.org/syndication/thread/1.0 in-reply-to,omitempty"`
	Content   atomContent  `xml:"content"`
}

type atomAuthor struct {
	Name  string `xml:"name"`
	Email string `xml:"email"`
}

type atomReplyTo struct {
	Ref  string `xml:"ref,attr"`
	Href string `xml:"href,attr"`
}

type atomContent struct {
	Type string `xml:"type,attr"`
	Text string `xml:",chardata"`
}

// toUUID is public-inbox's to_uuid: a urn:uuid made of the SHA-1 of s.
func toUUID(s string) string {
	h := sha1.Sum([]byte(s))
	x := hex.EncodeToString(h[:])
	return "urn:uuid:" + x[0:8] + "-" + x[8:12] + "-" + x[12:16] + "-" + x[16:20] + "-" + x[20:32]
}

func atomTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05Z") }

// atomNew answers GET /LIST/new.atom: the newest messages of the list.
func (s *Server) atomNew(c echo.Context, list string) error {
	setRoute(c, "/LIST/new.atom", kindText)
	base := s.baseURL(c.Request()) + "/" + url.PathEscape(list) + "/"
	f := &atomFeed{Title: s.o.Title + ": " + list, ID: toUUID(base + "new.atom"),
		Links: []atomLink{{Rel: "alternate", Type: "text/html", Href: base}, {Rel: "self", Href: base + "new.atom"}}}
	return s.writeFeed(c, f, list, everything, base)
}

// atomSearch answers GET /LIST/?q=Q&x=A: the newest results as Atom.
func (s *Server) atomSearch(c echo.Context, list string, qp map[string]string) error {
	setRoute(c, "/LIST/?x=A", kindText)
	q := qp["q"]
	base := s.baseURL(c.Request()) + "/" + url.PathEscape(list) + "/"
	self := base + "?" + url.Values{"q": {q}, "x": {"A"}}.Encode()
	f := &atomFeed{Title: q + " - search results", ID: toUUID("q\n" + q),
		Links: []atomLink{{Rel: "alternate", Type: "text/html", Href: base + "?" + url.Values{"q": {q}}.Encode()}, {Rel: "self", Href: self}}}
	return s.writeFeed(c, f, list, q, base)
}

// feedEntry is the encoded Atom entry of a message, kept in
// Server.feedEntries by Message-ID and base URL while the store is
// unchanged: a feed lists 25 messages, and reading, parsing and escaping
// them is most of what it costs.
type feedEntry struct {
	stamp storeStamp
	date  time.Time
	xml   []byte // the encoded <entry> element
}

func newFeedEntryCache(maxBytes int64) *lru.Cache[string, feedEntry] {
	return lru.New(maxBytes, answerCacheTTL, func(k string, e feedEntry) int64 {
		return int64(len(k)+len(e.xml)) + 128
	})
}

// feedEntry makes the Atom entry of the message mid, linked under base.
func (s *Server) feedEntry(ctx context.Context, mid, base string) (feedEntry, error) {
	m, _, err := LoadMessage(ctx, s.st, mid)
	if err != nil {
		return feedEntry{}, err
	}
	title := strings.Join(strings.Fields(m.Subject), " ")
	if title == "" {
		title = "(no subject)"
	}
	e := atomEntry{Author: atomAuthor{Name: m.From.Name, Email: m.From.Email}, Title: title,
		Updated: atomTime(m.Date), Link: atomLink{Href: base + escapeMID(m.MessageID) + "/"},
		ID: toUUID(m.MessageID), Content: atomContent{Type: "text", Text: m.Body}}
	if m.Parent != "" {
		e.InReplyTo = &atomReplyTo{Ref: toUUID(m.Parent), Href: base + escapeMID(m.Parent) + "/"}
	}
	x, err := encodeEntry(&e)
	if err != nil {
		return feedEntry{}, err
	}
	return feedEntry{date: m.Date, xml: x}, nil
}

func (s *Server) writeFeed(c echo.Context, f *atomFeed, list, q, base string) error {
	if s.ix == nil {
		return errNoIndex
	}
	ctx := c.Request().Context()
	res, err := s.ix.Search(ctx, q, &search.SearchOptions{Limit: feedEntries, List: searchList(list), MessagesOnly: true})
	if err != nil {
		return err
	}
	updated := time.Unix(0, 0)
	var entries [][]byte
	stamp, stamped := s.storeStamp()
	for _, h := range res.Hits {
		fe, ok := s.feedEntries.Get(h.MessageID + "\x00" + base)
		if !ok || !stamped || fe.stamp != stamp {
			var err error
			if fe, err = s.feedEntry(ctx, h.MessageID, base); errors.Is(err, store.ErrNotFound) {
				continue
			} else if err != nil {
				return err
			}
			if stamped {
				fe.stamp = stamp
				s.feedEntries.Put(h.MessageID+"\x00"+base, fe)
			}
		}
		if fe.date.After(updated) {
			updated = fe.date
		}
		entries = append(entries, fe.xml)
	}
	f.Updated = atomTime(updated)
	b, err := encodeFeed(f, entries)
	if err != nil {
		return err
	}
	return c.Blob(http.StatusOK, "application/atom+xml", b)
}

// encodeFeed writes the feed f (without entries) with the encoded
// entries inside, as xml.Encoder writes a feed holding them: the entries
// follow its last element.
func encodeFeed(f *atomFeed, entries [][]byte) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(xml.Header)
	if err := xml.NewEncoder(&b).Encode(f); err != nil {
		return nil, fmt.Errorf("api: atom: %w", err)
	}
	head, ok := bytes.CutSuffix(b.Bytes(), []byte("</feed>"))
	if !ok {
		return nil, fmt.Errorf("api: atom: feed does not end in </feed>")
	}
	n := len(head) + len("</feed>")
	for _, e := range entries {
		n += len(e)
	}
	out := make([]byte, 0, n)
	out = append(out, head...)
	for _, e := range entries {
		out = append(out, e...)
	}
	return append(out, "</feed>"...), nil
}

// encodeEntry encodes one entry as it appears inside a feed.
func encodeEntry(e *atomEntry) ([]byte, error) {
	var b bytes.Buffer
	if err := xml.NewEncoder(&b).EncodeElement(e, xml.StartElement{Name: xml.Name{Local: "entry"}}); err != nil {
		return nil, fmt.Errorf("api: atom: %w", err)
	}
	return b.Bytes(), nil
}

// manifestEntry is one repository of a grokmirror manifest, in the shape
// of public-inbox's ManifestJsGz.
type manifestEntry struct {
	Description string  `json:"description"`
	Fingerprint string  `json:"fingerprint"`
	Modified    int64   `json:"modified"`
	Owner       *string `json:"owner"`
	Reference   *string `json:"reference"`
}

// handleManifest answers /manifest.js.gz: a gzipped JSON object keyed by
// "/LIST" for every list. patchtrail serves no git repositories, so the
// manifest is for clients that probe it (b4 does a HEAD); the
// fingerprint changes whenever the list gains messages.
func (s *Server) handleManifest(c echo.Context) error {
	setRoute(c, "/manifest.js.gz", kindText)
	ctx := c.Request().Context()
	ls, err := s.knownLists(ctx)
	if err != nil {
		return err
	}
	out := map[string]manifestEntry{}
	var newest int64
	for _, l := range ls {
		mod := s.newest(ctx, l.Name)
		newest = max(newest, mod)
		fp := sha1.Sum(fmt.Appendf(nil, "%s\n%s\n%d\n%d\n", l.Name, l.ListID, l.Messages, mod))
		desc := l.ListID
		if desc == "" {
			desc = l.Name
		}
		out["/"+l.Name] = manifestEntry{Description: desc, Fingerprint: hex.EncodeToString(fp[:]), Modified: mod}
	}
	js, err := json.Marshal(out)
	if err != nil {
		return fmt.Errorf("api: manifest: %w", err)
	}
	var b bytes.Buffer
	gz := gzip.NewWriter(&b)
	gz.Write(js)
	gz.Close()
	if newest > 0 {
		c.Response().Header().Set(echo.HeaderLastModified, time.Unix(newest, 0).UTC().Format(http.TimeFormat))
	}
	return c.Blob(http.StatusOK, "application/gzip", b.Bytes())
}

// newest returns the date of the newest message of list (0 if unknown).
func (s *Server) newest(ctx context.Context, list string) int64 {
	if s.ix == nil {
		return 0
	}
	res, err := s.ix.Search(ctx, everything, &search.SearchOptions{Limit: 1, List: searchList(list)})
	if err != nil || len(res.Hits) == 0 {
		return 0
	}
	return res.Hits[0].Date.Unix()
}
