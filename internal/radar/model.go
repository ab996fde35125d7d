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
	Prior     string   `json:"prior"` // "none" or "default model"
	Without   []Group  `json:"without,omitempty"`
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
	b.WriteString("\n  },\n  \"trained\": ")
	info, _ := json.MarshalIndent(m.Trained, "  ", "  ")
	b.Write(info)
	b.WriteString("\n}\n")
	return b.Bytes()
}

func num(f float64) string { return strconv.FormatFloat(f, 'g', 10, 64) }

// logit is the model's log-odds for a feature vector.
func (m *Model) logit(x []float64) float64 {
	z := m.Bias
	for i, f := range features {
		z += m.Weights[f.name] * x[i]
	}
	return z
}

// Score returns the row's score in [0,1].
func (m *Model) Score(r *Row) float64 { return sigmoid(m.logit(r.X)) }

// Signals lists the features that moved the row's score, largest
// contribution first.
func (m *Model) Signals(r *Row) []Signal {
	var out []Signal
	for i, f := range features {
		w := m.Weights[f.name] * r.X[i]
		if r.X[i] == 0 || math.Abs(w) < 0.05 {
			continue
		}
		e := r.ev[i]
		detail := ""
		if len(e.terms) > 0 {
			detail = " (" + strings.Join(e.terms, ", ") + ")"
		}
		out = append(out, Signal{Name: f.name, Words: f.words(detail, r.X[i]), Weight: math.Round(w*1000) / 1000, Evidence: e.mid})
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
}

// Example is one training row: its features and its label.
type Example struct {
	X        []float64
	Positive bool
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
	load := func(r Example) {
		clear(x[:ng])
		x[r.Group] = 1
		for j, i := range idx {
			x[j+ng] = r.X[i]
		}
	}
	// objective is the penalised negative log-likelihood at v.
	objective := func(v []float64) float64 {
		f := 0.0
		for _, r := range rows {
			load(r)
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
		for _, r := range rows {
			load(r)
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
	m := &Model{Version: ModelVersion, Bias: round(bias), Weights: map[string]float64{}}
	for j, i := range idx {
		m.Weights[features[i].name] = round(w[j+ng])
	}
	m.Trained = TrainInfo{Rows: len(rows), Positives: pos, Lambda: o.Lambda, Prior: "none", Without: o.Without}
	if o.Prior != nil {
		m.Trained.Prior = "default model"
	}
	return m, nil
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
