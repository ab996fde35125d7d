package radar

import (
	"fmt"
	"math"
	"testing"
	"time"
)

// ownRows makes four years of postings before 2025 in which feature
// early marks the positives up to 2024 and feature late those of 2024
// (the other of race and deadlock marks as many negatives), each CVE
// published a week after its posting.
func ownRows(early, late string, lastYearPositives int) ([]*Row, *Labels) {
	labels := NewLabels()
	var rows []*Row
	start := time.Date(2021, 1, 1, 0, 0, 0, 0, time.UTC)
	n := 0
	for i := range 1600 {
		d := start.AddDate(0, 0, i*1461/1600)
		r := &Row{MessageID: fmt.Sprintf("<%04d@own>", i), Subject: fmt.Sprintf("foo: fix %d", i), Date: d, X: make([]float64, len(features))}
		r.Key = TitleKey(r.Subject)
		f := early
		if d.Year() == 2024 {
			f = late
		}
		on := i%5 == 0 // one in five carries the signal
		r.X[featureIndex[f]] = b2f(on)
		decoy := "race" // one in five the other feature, never positive
		if f == "race" {
			decoy = "deadlock"
		}
		r.X[featureIndex[decoy]] = b2f(i%5 == 1)
		r.X[featureIndex["replies"]] = float64(i % 7) // noise
		pos := on && i%15 != 0 || i%97 == 0
		if d.Year() == 2024 && pos {
			if n >= lastYearPositives {
				pos = false
			}
			n++
		}
		if pos {
			labels.Add(r.Subject, CVE{ID: fmt.Sprintf("CVE-X-%d", i), Published: d.AddDate(0, 0, 7)})
		}
		rows = append(rows, r)
	}
	return rows, labels
}

func b2f(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// radar train moves away from the default model only as far as the
// list's last year of labels says it should.
func TestTrainOwnChoosesPenalty(t *testing.T) {
	until := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	prior := &Model{Version: ModelVersion, Bias: -3, Weights: map[string]float64{"race": 3}}
	for _, tc := range []struct {
		name        string
		early, late string
		lastYear    int
		keepsPrior  bool
	}{
		{"own labels say more than the prior", "deadlock", "deadlock", 1000, false},
		{"own labels changed regime in the last year", "deadlock", "race", 1000, true},
		{"too few positives in the last year", "deadlock", "deadlock", minValidation - 1, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rows, labels := ownRows(tc.early, tc.late, tc.lastYear)
			m, err := TrainOwn(rows, labels, until, prior)
			if err != nil {
				t.Fatal(err)
			}
			v := m.Trained.Validation
			if v == nil || v.From != "2024-01-01" {
				t.Fatalf("validation %+v, want from 2024-01-01", v)
			}
			moved := math.Abs(m.Weights["deadlock"]) > 0.01 || math.Abs(m.Weights["race"]-3) > 0.01
			if moved == tc.keepsPrior {
				t.Errorf("weights race %v deadlock %v (%s %v %v %d/%d); want the prior's kept: %v", m.Weights["race"], m.Weights["deadlock"], v.Chosen, v.Lambdas, v.AP, v.Positives, v.Rows, tc.keepsPrior)
			}
			if !tc.keepsPrior && m.Weights["deadlock"] < 1 {
				t.Errorf("deadlock weight %v, want it learned (%s)", m.Weights["deadlock"], v.Chosen)
			}
			again, err := TrainOwn(rows, labels, until, prior)
			if err != nil {
				t.Fatal(err)
			}
			if string(again.Marshal()) != string(m.Marshal()) {
				t.Error("the same rows gave another model")
			}
		})
	}
	if _, err := TrainOwn(nil, NewLabels(), until, prior); err != ErrNoLabels {
		t.Errorf("no rows: %v, want ErrNoLabels", err)
	}
}
