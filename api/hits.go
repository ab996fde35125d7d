package api

import (
	"encoding/json"
	"time"

	"patchtrail/search"
)

// Hit is one search result on the wire.
type Hit struct {
	MessageID string    `json:"message_id"`
	Subject   string    `json:"subject"`
	From      string    `json:"from"`
	Date      time.Time `json:"date"`
	List      string    `json:"list"`
	ThreadID  string    `json:"thread_id"`
	Score     float64   `json:"score"`
	URL       string    `json:"url"` // the message's page
}

// Hits converts search hits to wire hits.
func Hits(hs []search.Hit) []Hit {
	out := make([]Hit, 0, len(hs))
	for _, h := range hs {
		out = append(out, Hit{MessageID: h.MessageID, Subject: h.Subject, From: h.From, Date: h.Date,
			List: h.List, ThreadID: h.ThreadID, Score: h.Score, URL: messageURL(h.List, h.MessageID)})
	}
	return out
}

// Seconds is a duration written as seconds in JSON.
type Seconds time.Duration

// MarshalJSON writes the duration in seconds.
func (s Seconds) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(s).Seconds())
}

// UnmarshalJSON reads a duration in seconds.
func (s *Seconds) UnmarshalJSON(b []byte) error {
	var f float64
	if err := json.Unmarshal(b, &f); err != nil {
		return err
	}
	*s = Seconds(time.Duration(f * float64(time.Second)))
	return nil
}
