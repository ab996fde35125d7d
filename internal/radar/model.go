package radar

import (
	"bytes"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
)

// Model is an L2-regularised logistic regression over the named
// features: score = 1 / (1 + exp(-(bias + Σ weight·value))). It is kept
// as a small JSON file with one weight per feature name.
type Model struct {
	Version int                `json:"version"`
	Bias    float64            `json:"bias"`
	Weights map[string]float64 `json:"weights"`
	// Words are the word weights of the "words" feature (words.go): a
	// posting's value is the sum of its words' weights over the square
	// root of its number of words.
	Words map[string]float64 `json:"words,omitempty"`
	// Trained records what the model was trained on, for doc/radar.md.
	Trained TrainInfo `json:"trained"`
}

// TrainInfo describes a training run.
type TrainInfo struct {
	Until     string   `json:"until,omitempty"` // only CVEs published before this date were labels
	Lists     []string `json:"lists"`           // "name from..to"
	Rows      int      `json:"rows"`
	Positives int      `json:"positives"`
	Lambda    float64  `json:"lambda"`
	// WordsLambda is the penalty of the word weights; 0 when they were
	// not trained (taken from the prior, or left out).
	WordsLambda float64 `json:"words_lambda,omitempty"`
	Prior       string  `json:"prior"` // "none" or "default model"
	Without     []Group `json:"without,omitempty"`
	// Validation is how a training on one store's labels chose its
	// penalty (TrainOwn).
	Validation *Validation `json:"validation,omitempty"`
}

// ModelVersion is the model file format's version.
const ModelVersion = 1

//go:embed default_model.json
var defaultModelJSON []byte

// Default returns the committed default model.
func Default() *Model {
	m, err := ParseModel(defaultModelJSON)
	if err != nil {
		panic("radar: the embedded default model is invalid: " + err.Error())
	}
	return m
}

// ParseModel reads a model file.
func ParseModel(b []byte) (*Model, error) {
	var m Model
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("radar: model: %w", err)
	}
	if m.Version != ModelVersion {
		return nil, fmt.Errorf("radar: model version %d, want %d", m.Version, ModelVersion)
	}
	for name, w := range m.Weights {
		if _, ok := featureIndex[name]; !ok {
			return nil, fmt.Errorf("radar: model: unknown feature %q", name)
		}
		if math.IsNaN(w) || math.IsInf(w, 0) {
			return nil, fmt.Errorf("radar: model: weight of %q is %v", name, w)
		}
	}
	for word, w := range m.Words {
		if math.IsNaN(w) || math.IsInf(w, 0) {
			return nil, fmt.Errorf("radar: model: weight of word %q is %v", word, w)
		}
	}
	return &m, nil
}

// LoadModel reads a model file from disk.
func LoadModel(path string) (*Model, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("radar: %w", err)
	}
	m, err := ParseModel(b)
	if err != nil {
		return nil, fmt.Errorf("%w (%s)", err, path)
	}
	return m, nil
}

// Marshal writes the model as JSON: weights in feature order, floats in
// the shortest form that reads back the same, so the same model is the
// same bytes.
func (m *Model) Marshal() []byte {
	var b bytes.Buffer
	fmt.Fprintf(&b, "{\n  \"version\": %d,\n  \"bias\": %s,\n  \"weights\": {\n", m.Version, num(m.Bias))
	first := true
	for _, f := range features {
		w, ok := m.Weights[f.name]
		if !ok {
			continue
		}
		if !first {
			b.WriteString(",\n")
		}
		first = false
		fmt.Fprintf(&b, "    %q: %s", f.name, num(w))
	}
	b.WriteString("\n  },\n")
	if len(m.Words) > 0 {
		// Largest weight first (ties by word): the file reads as the
		// words that count.
		words := make([]string, 0, len(m.Words))
		for w := range m.Words {
			words = append(words, w)
		}
		sort.Slice(words, func(i, j int) bool {
			a, b := math.Abs(m.Words[words[i]]), math.Abs(m.Words[words[j]])
			if a != b {
				return a > b
			}
			return words[i] < words[j]
		})
		b.WriteString("  \"words\": {\n")
		for i, w := range words {
			if i > 0 {
				b.WriteString(",\n")
			}
			fmt.Fprintf(&b, "    %q: %s", w, num(m.Words[w]))
		}
		b.WriteString("\n  },\n")
	}
	b.WriteString("  \"trained\": ")
	info, _ := json.MarshalIndent(m.Trained, "  ", "  ")
	b.Write(info)
	b.WriteString("\n}\n")
	return b.Bytes()
}

func num(f float64) string { return strconv.FormatFloat(f, 'g', 10, 64) }

// vector is the row's feature vector with the word score under the
// model's word weights.
func (m *Model) vector(r *Row) []float64 {
	s := wordScoreOf(m.Words, r.Words, r.WordCount)
	if s == r.X[wordsFeature] {
		return r.X
	}
	x := append([]float64(nil), r.X...)
	x[wordsFeature] = s
	return x
}

var wordsFeature = featureIndex["words"]

// logit is the model's log-odds for a feature vector.
func (m *Model) logit(x []float64) float64 {
	z := m.Bias
	for i, f := range features {
		z += m.Weights[f.name] * x[i]
	}
	return z
}

// Score returns the row's score in [0,1].
func (m *Model) Score(r *Row) float64 { return sigmoid(m.logit(m.vector(r))) }

// Signals lists the features that moved the row's score, largest
// contribution first.
func (m *Model) Signals(r *Row) []Signal {
	var out []Signal
	x := m.vector(r)
	for i, f := range features {
		w := m.Weights[f.name] * x[i]
		if x[i] == 0 || math.Abs(w) < 0.05 {
			continue
		}
		e := r.ev[i]
		if i == wordsFeature {
			e = evidence{mid: r.MessageID, terms: topWords(m.Words, r.Words, 6)}
		}
		detail := ""
		if len(e.terms) > 0 {
			detail = " (" + strings.Join(e.terms, ", ") + ")"
		}
		out = append(out, Signal{Name: f.name, Words: f.words(detail, x[i]), Weight: math.Round(w*1000) / 1000, Evidence: e.mid})
	}
	sort.SliceStable(out, func(i, j int) bool { return math.Abs(out[i].Weight) > math.Abs(out[j].Weight) })
	return out
}

func sigmoid(z float64) float64 {
	if z >= 0 {
		return 1 / (1 + math.Exp(-z))
	}
	e := math.Exp(z)
	return e / (1 + e)
}

// TrainOptions tune Train.
type TrainOptions struct {
	// Lambda is the L2 penalty on the distance from the prior's weights
	// (default 30). It does not grow with the number of rows, so a list
	// with many labels moves away from the prior and one with few stays
	// near it.
	Lambda float64
	// Prior is the model training starts from and is pulled towards;
	// nil means all-zero weights.
	Prior *Model
	// Without leaves out the features of these groups (ablations).
	Without []Group
	// Iterations of Newton's method (default 30).
	Iterations int
	// WordsLambda is the L2 penalty of the word weights (default 1000);
	// WordsKept how many word weights the model keeps (default 300).
	WordsLambda float64
	WordsKept   int
	// WordScores, when set, are the rows' word scores (one per row),
	// taken as they are instead of those of the word model Train fits:
	// the offline measurement of other word models (.ci/radar words).
	// The model then keeps no word weights.
	WordScores []float64
}

// Example is one training row: its features and its label.
type Example struct {
	X        []float64
	Positive bool
	// Words are the row's words (Row.Words): its "words" feature is
	// computed by Train (X's value of it is not read).
	Words []string
	// Group is the list the row comes from (0..n-1): every group gets
	// a bias of its own in training, so lists with different base rates
	// (one posting in eight with a CVE on one list, one in sixty on
	// another) do not teach the weights their difference. The model
	// keeps the rows' mean of the group biases.
	Group int
}

// ErrNoLabels is returned by Train when the rows hold no positive or no
// negative example.
var ErrNoLabels = errors.New("radar: training needs positive and negative rows")

// Train fits the model by Newton's method on the penalised
// log-likelihood. The result depends only on the rows and options, in
// the order given: the same data gives the same model, bit for bit.
func Train(rows []Example, opts *TrainOptions) (*Model, error) {
	var o TrainOptions
	if opts != nil {
		o = *opts
	}
	if o.Lambda == 0 {
		o.Lambda = 30
	}
	if o.Iterations == 0 {
		o.Iterations = 30
	}
	if o.WordsLambda == 0 {
		o.WordsLambda = 1000
	}
	if o.WordsKept == 0 {
		o.WordsKept = 300
	}
	pos := 0
	for _, r := range rows {
		if r.Positive {
			pos++
		}
	}
	if pos == 0 || pos == len(rows) {
		return nil, ErrNoLabels
	}
	skip := map[Group]bool{}
	for _, g := range o.Without {
		skip[g] = true
	}
	// Active parameters: one bias per group then the features kept.
	var idx []int
	for i := range features {
		if !inGroups(i, skip) {
			idx = append(idx, i)
		}
	}
	ng := 1
	for _, r := range rows {
		if r.Group < 0 {
			return nil, fmt.Errorf("radar: training row in group %d", r.Group)
		}
		ng = max(ng, r.Group+1)
	}
	gn := make([]int, ng)
	gp := make([]int, ng)
	for _, r := range rows {
		gn[r.Group]++
		if r.Positive {
			gp[r.Group]++
		}
	}
	// The word score of every row: trained without the row's list (out
	// of fold), so the regression weighs it as it will be on a list it
	// never saw; or the prior's word weights.
	var words map[string]float64
	var ws []float64
	switch {
	case skip[GroupWords]:
	case o.WordScores != nil:
		if len(o.WordScores) != len(rows) {
			return nil, fmt.Errorf("radar: training: %d word scores for %d rows", len(o.WordScores), len(rows))
		}
		ws = o.WordScores
	default:
		if o.Prior != nil {
			words = o.Prior.Words
		}
		if o.Prior == nil && hasWords(rows) {
			ws = outOfFoldWords(rows, ng, o.WordsLambda, o.WordsKept)
			all := make([]int, len(rows))
			for i := range all {
				all[i] = i
			}
			words = trainWords(rows, all, ng, o.WordsLambda, o.WordsKept)
		} else {
			ws = make([]float64, len(rows))
			for i, r := range rows {
				ws[i] = wordScore(words, r.Words)
			}
		}
	}
	d := len(idx) + ng
	prior := make([]float64, d)
	if o.Prior != nil {
		for g := range ng {
			prior[g] = o.Prior.Bias
		}
		for j, i := range idx {
			prior[j+ng] = o.Prior.Weights[features[i].name]
		}
	}
	w := append([]float64(nil), prior...)
	if o.Prior == nil {
		// Start from each group's base rate.
		for g := range ng {
			p := (float64(gp[g]) + 0.5) / (float64(gn[g]) + 1)
			w[g] = math.Log(p / (1 - p))
		}
	}
	x := make([]float64, d)
	load := func(n int) {
		r := rows[n]
		clear(x[:ng])
		x[r.Group] = 1
		for j, i := range idx {
			if i == wordsFeature {
				x[j+ng] = ws[n]
				continue
			}
			x[j+ng] = r.X[i]
		}
	}
	// objective is the penalised negative log-likelihood at v.
	objective := func(v []float64) float64 {
		f := 0.0
		for n, r := range rows {
			load(n)
			z := 0.0
			for j := range d {
				z += v[j] * x[j]
			}
			// log(1+e^z) - y·z, computed without overflow.
			if z > 0 {
				f += z + math.Log1p(math.Exp(-z))
			} else {
				f += math.Log1p(math.Exp(z))
			}
			if r.Positive {
				f -= z
			}
		}
		for a := ng; a < d; a++ {
			f += o.Lambda / 2 * (v[a] - prior[a]) * (v[a] - prior[a])
		}
		for g := range ng {
			f += 1e-3 / 2 * (v[g] - prior[g]) * (v[g] - prior[g])
		}
		return f
	}
	current := objective(w)
	for it := 0; it < o.Iterations; it++ {
		grad := make([]float64, d)
		hess := make([]float64, d*d)
		for n, r := range rows {
			load(n)
			z := 0.0
			for j := range d {
				z += w[j] * x[j]
			}
			p := sigmoid(z)
			y := 0.0
			if r.Positive {
				y = 1
			}
			g := p - y
			s := p * (1 - p)
			for a := range d {
				if x[a] == 0 {
					continue
				}
				grad[a] += g * x[a]
				for b := a; b < d; b++ {
					hess[a*d+b] += s * x[a] * x[b]
				}
			}
		}
		for a := range d {
			for b := 0; b < a; b++ {
				hess[a*d+b] = hess[b*d+a]
			}
		}
		// The penalty pulls every weight but the biases to the prior; a
		// group with no positive (or no negative) row keeps a finite bias.
		for a := ng; a < d; a++ {
			grad[a] += o.Lambda * (w[a] - prior[a])
			hess[a*d+a] += o.Lambda
		}
		for g := range ng {
			grad[g] += 1e-3 * (w[g] - prior[g])
			hess[g*d+g] += 1e-3
		}
		step, err := solve(hess, grad, d)
		if err != nil {
			return nil, err
		}
		// Newton's step, halved until the objective decreases (a full
		// step can overshoot far from the optimum).
		next := make([]float64, d)
		change := 0.0
		for t := 1.0; t > 1e-6; t /= 2 {
			for a := range d {
				next[a] = w[a] - t*step[a]
			}
			if f := objective(next); f <= current {
				current = f
				change = 0
				for a := range d {
					change = math.Max(change, math.Abs(next[a]-w[a]))
				}
				copy(w, next)
				break
			}
		}
		if change < 1e-9 {
			break
		}
	}
	bias := 0.0
	for g := range ng {
		bias += w[g] * float64(gn[g]) / float64(len(rows))
	}
	m := &Model{Version: ModelVersion, Bias: round(bias), Weights: map[string]float64{}, Words: words}
	for j, i := range idx {
		m.Weights[features[i].name] = round(w[j+ng])
	}
	m.Trained = TrainInfo{Rows: len(rows), Positives: pos, Lambda: o.Lambda, Prior: "none", Without: o.Without}
	if o.Prior == nil && len(words) > 0 {
		m.Trained.WordsLambda = o.WordsLambda
	}
	if o.Prior != nil {
		m.Trained.Prior = "default model"
	}
	return m, nil
}

// hasWords reports whether any row has words.
func hasWords(rows []Example) bool {
	for _, r := range rows {
		if len(r.Words) > 0 {
			return true
		}
	}
	return false
}

// round keeps 6 significant decimals: a readable file, and one that
// does not change with the last bits of the arithmetic.
func round(f float64) float64 { return math.Round(f*1e6) / 1e6 }

// solve solves the symmetric positive definite system A·x = b by
// Cholesky decomposition.
func solve(a, b []float64, n int) ([]float64, error) {
	l := make([]float64, n*n)
	for i := range n {
		for j := 0; j <= i; j++ {
			s := a[i*n+j]
			for k := range j {
				s -= l[i*n+k] * l[j*n+k]
			}
			if i == j {
				if s <= 0 {
					return nil, errors.New("radar: training: singular system")
				}
				l[i*n+i] = math.Sqrt(s)
			} else {
				l[i*n+j] = s / l[j*n+j]
			}
		}
	}
	y := make([]float64, n)
	for i := range n {
		s := b[i]
		for k := range i {
			s -= l[i*n+k] * y[k]
		}
		y[i] = s / l[i*n+i]
	}
	x := make([]float64, n)
	for i := n - 1; i >= 0; i-- {
		s := y[i]
		for k := i + 1; k < n; k++ {
			s -= l[k*n+i] * x[k]
		}
		x[i] = s / l[i*n+i]
	}
	return x, nil
}
