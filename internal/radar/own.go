package radar

import (
	"errors"
	"fmt"
	"time"
)

// ownPenalties are the penalties `radar train` chooses among (the L2
// distance from the prior's weights; TrainOptions.Lambda), smallest
// first; keepPrior is the prior's weights with only the bias fitted.
var ownPenalties = []float64{30, 100, 300, 1000, 3000, keepPrior}

const (
	keepPrior = 1e6
	// minValidation is the number of positives the validation year
	// needs for a choice; with fewer, the prior's weights are kept.
	minValidation = 10
	// apSlack: a smaller penalty is chosen only when its validation
	// AP beats every larger one's by more than this.
	apSlack = 0.005
)

// Validation records how TrainOwn chose its penalty: each candidate
// trained on the rows dated before From, its ranking of the rows from
// From to the training's end measured by average precision.
type Validation struct {
	From      string    `json:"from"`
	Rows      int       `json:"rows"`
	Positives int       `json:"positives"`
	Lambdas   []float64 `json:"lambdas,omitempty"`
	AP        []float64 `json:"ap,omitempty"` // one per lambda
	// Chosen is the penalty of the model, or why none was chosen.
	Chosen string `json:"chosen"`
}

// TrainOwn fits a model on rows (one store's or one list's patch
// postings dated before until; all when until is zero), labelled by the
// CVEs published before until, starting from and pulled towards prior.
// A penalty small enough to move the weights far from the prior's must
// earn it: each candidate is trained on the rows dated before the last
// year of the rows and ranks that year (average precision, labels as
// known at until); the largest penalty within apSlack of the best is
// taken, and with fewer than minValidation positives in that year the
// prior's weights are kept (only the bias is fitted). So a list whose
// own labels rank its recent postings worse than the prior does keeps
// the prior's ranking.
func TrainOwn(rows []*Row, labels *Labels, until time.Time, prior *Model) (*Model, error) {
	end := until
	if end.IsZero() {
		for _, r := range rows {
			if r.Date.After(end) {
				end = r.Date
			}
		}
	}
	from := end.AddDate(-1, 0, 0)
	var all, early []Example
	var late []Scored // the validation year, scored by each candidate
	var lateRows []*Row
	pos := 0
	v := Validation{From: from.UTC().Format(time.DateOnly)}
	for _, r := range rows {
		_, p := labels.First(r.Key, until)
		ex := Example{X: r.X, Positive: p, Words: r.Words}
		all = append(all, ex)
		if p {
			pos++
		}
		if r.Date.Before(from) {
			early = append(early, ex)
			continue
		}
		late = append(late, Scored{Positive: p, Tie: r.MessageID})
		lateRows = append(lateRows, r)
		v.Rows++
		if p {
			v.Positives++
		}
	}
	if pos == 0 {
		return nil, ErrNoLabels
	}
	lambda := keepPrior
	switch {
	case v.Positives < minValidation:
		v.Chosen = fmt.Sprintf("the prior's weights: %d positives from %s on, %d needed to choose", v.Positives, v.From, minValidation)
	default:
		best := -1.0
		aps := make([]float64, len(ownPenalties))
		for i, l := range ownPenalties {
			m, err := Train(early, &TrainOptions{Prior: prior, Lambda: l})
			if errors.Is(err, ErrNoLabels) {
				v.Chosen = fmt.Sprintf("the prior's weights: no positive before %s", v.From)
				aps = nil
				break
			}
			if err != nil {
				return nil, err
			}
			for j, r := range lateRows {
				late[j].Score = m.Score(r)
			}
			aps[i] = round(Evaluate(late).AP)
			best = max(best, aps[i])
		}
		if aps == nil {
			break
		}
		v.Lambdas, v.AP = ownPenalties, aps
		for i := len(aps) - 1; i >= 0; i-- {
			if aps[i] >= best-apSlack {
				lambda = ownPenalties[i]
				break
			}
		}
		v.Chosen = fmt.Sprintf("lambda %g", lambda)
		if lambda == keepPrior {
			v.Chosen = "the prior's weights: no smaller penalty ranks the validation year better"
		}
	}
	m, err := Train(all, &TrainOptions{Prior: prior, Lambda: lambda})
	if err != nil {
		return nil, err
	}
	m.Trained.Validation = &v
	return m, nil
}
