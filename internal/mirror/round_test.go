package mirror

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestRound(t *testing.T) {
	var order []string
	failures := map[string]int{"B": 1, "D": 100}
	job := func(name string) Job {
		return Job{Name: name, Run: func(ctx context.Context) error {
			order = append(order, name)
			if failures[name] > 0 {
				failures[name]--
				return errors.New(name + " failed")
			}
			return nil
		}}
	}
	jobs := []Job{job("A"), job("B"), job("C"), job("D"), {Name: "P", Run: func(context.Context) error { panic("boom") }}}
	res := Round(context.Background(), jobs, &RoundOptions{Retries: 2, Backoff: 20 * time.Millisecond})
	// A failing job waits for its retry while the others run.
	if diff := cmp.Diff([]string{"A", "B", "C", "D", "B", "D", "D"}, order); diff != "" {
		t.Errorf("order (-want +got):\n%s", diff)
	}
	var got []string
	for _, r := range res {
		got = append(got, r.Name+":"+string(rune('0'+r.Attempts))+":"+r.Error)
	}
	want := []string{"A:1:", "B:2:", "C:1:", "D:3:D failed", "P:3:sync: P: panic: boom"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
}

func TestRoundCancel(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	jobs := []Job{
		{Name: "fails", Run: func(context.Context) error { return errors.New("down") }},
		{Name: "cancels", Run: func(context.Context) error { cancel(); return nil }},
	}
	start := time.Now()
	res := Round(ctx, jobs, &RoundOptions{Retries: 5, Backoff: time.Hour})
	if time.Since(start) > 10*time.Second {
		t.Errorf("Round waited %s after the context ended", time.Since(start))
	}
	if res[0].Attempts != 1 || !strings.Contains(res[0].Error, "down") || res[1].Err != nil {
		t.Errorf("results %+v", res)
	}
}
