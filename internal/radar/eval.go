package radar

import (
	"math"
	"sort"
	"time"
)

// Metrics are the ranking measures of the evaluation.
type Metrics struct {
	Units     int     `json:"units"`
	Positives int     `json:"positives"`
	AUC       float64 `json:"auc"` // ROC AUC, ties counted half
	AP        float64 `json:"ap"`  // average precision
	P50       float64 `json:"precision_at_50"`
	// MedianDays is the median of the days from posting to CVE
	// publication of the positives ranked in the top 10 %; -1 when none.
	MedianDays float64 `json:"median_days_top10"`
	TopPos     int     `json:"positives_top10"`
}

// Scored is one unit of an evaluation.
type Scored struct {
	Score    float64
	Positive bool
	Days     float64 // posting to CVE publication, for positives
	Tie      string  // a stable tie-break (the Message-ID)
}

// Evaluate computes the metrics of a ranking.
func Evaluate(units []Scored) Metrics {
	us := append([]Scored(nil), units...)
	sort.SliceStable(us, func(i, j int) bool {
		if us[i].Score != us[j].Score {
			return us[i].Score > us[j].Score
		}
		return us[i].Tie < us[j].Tie
	})
	m := Metrics{Units: len(us), MedianDays: -1}
	for _, u := range us {
		if u.Positive {
			m.Positives++
		}
	}
	neg := m.Units - m.Positives
	if m.Positives == 0 || neg == 0 {
		return m
	}
	// AUC by ranks with ties averaged (Mann-Whitney U), ascending.
	asc := append([]Scored(nil), us...)
	sort.SliceStable(asc, func(i, j int) bool { return asc[i].Score < asc[j].Score })
	rankSum := 0.0
	for i := 0; i < len(asc); {
		j := i
		for j < len(asc) && asc[j].Score == asc[i].Score {
			j++
		}
		avg := float64(i+j+1) / 2 // ranks i+1..j
		for k := i; k < j; k++ {
			if asc[k].Positive {
				rankSum += avg
			}
		}
		i = j
	}
	p := float64(m.Positives)
	m.AUC = (rankSum - p*(p+1)/2) / (p * float64(neg))
	// Average precision: a group of tied scores counts as one step with
	// the precision at its end (as scikit-learn does).
	hits, sum := 0, 0.0
	for i := 0; i < len(us); {
		j := i
		gp := 0
		for j < len(us) && us[j].Score == us[i].Score {
			if us[j].Positive {
				gp++
			}
			j++
		}
		hits += gp
		sum += float64(gp) * float64(hits) / float64(j)
		i = j
	}
	m.AP = sum / p
	// Precision at 50: ties at the cut share their positives.
	m.P50 = precisionAt(us, 50)
	top := int(math.Ceil(float64(len(us)) / 10))
	var days []float64
	for _, u := range us[:top] {
		if u.Positive {
			days = append(days, u.Days)
		}
	}
	m.TopPos = len(days)
	if len(days) > 0 {
		sort.Float64s(days)
		n := len(days)
		if n%2 == 1 {
			m.MedianDays = days[n/2]
		} else {
			m.MedianDays = (days[n/2-1] + days[n/2]) / 2
		}
	}
	return m
}

// precisionAt is the expected precision of the first k units when ties
// are broken at random.
func precisionAt(us []Scored, k int) float64 {
	if k > len(us) {
		k = len(us)
	}
	if k == 0 {
		return 0
	}
	hits := 0.0
	for i := 0; i < len(us) && i < k; {
		j := i
		gp := 0
		for j < len(us) && us[j].Score == us[i].Score {
			if us[j].Positive {
				gp++
			}
			j++
		}
		if j <= k {
			hits += float64(gp)
		} else {
			hits += float64(gp) * float64(k-i) / float64(j-i)
		}
		i = j
	}
	return hits / float64(k)
}

// Days is the time from a posting to a CVE's publication, in days.
func Days(posted, published time.Time) float64 {
	return published.Sub(posted).Hours() / 24
}
