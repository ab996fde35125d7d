package main

// words: the offline measurement of the learned words (doc/radar.md,
// "Third round"): a bag of the words of the subject and changelog, a
// logistic model trained pooled on the training lists (one bias per
// list), whose out-of-fold score is one more input of a regression
// (radar.Train, given the text score as its words feature). Printed per list
// beside the same regression without it, in the same run, with the
// protocol of eval. The variants of the doc's table are its flags:
//
//	go run ./.ci/radar -lists ... -holdout ... words -norm -foldlist -keep 300 -lt 1000
//
// (radar.Train's words are -norm -foldlist -keep 300 -lt 1000, except
// that it chooses the vocabulary in each fold where the tool chooses it
// once from all training rows: the two differ in the third decimal. The
// tool reads the words of every unit from the stores once and keeps
// them in DIR/NAME.tokens of -cache).

import (
	"context"
	"encoding/gob"
	"flag"
	"fmt"
	"hash/fnv"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"patchtrail/internal/message"
	"patchtrail/internal/patch"
	"patchtrail/internal/radar"
	"patchtrail/internal/store"
)

var (
	cveRE     = regexp.MustCompile(`(?i)CVE-\d{4}-\d+`)
	trailerRE = regexp.MustCompile(`(?i)^\s*([a-z][a-z-]*-by|fixes|cc|link|closes|bcc|to|message-id|change-id):`)
	tokenRE   = regexp.MustCompile(`[a-z0-9_]+`)
	hexRE     = regexp.MustCompile(`^[0-9a-f]{7,}$`)
)

// docTokens returns the distinct words of a patch posting: the subject's
// (prefixed "s:") and the changelog's, trailer lines and quoted lines
// left out, CVE ids blanked.
func docTokens(pm *message.Message) []string {
	sub := patch.ParseSubject(pm.Subject)
	seen := map[string]bool{}
	var out []string
	add := func(t string) {
		if !seen[t] {
			seen[t] = true
			out = append(out, t)
		}
	}
	for _, w := range tokenRE.FindAllString(strings.ToLower(cveRE.ReplaceAllString(sub.Normalized, " ")), -1) {
		if len(w) >= 2 && len(w) <= 30 && w[0] >= 'a' && !hexRE.MatchString(w) {
			add("s:" + w)
			add(w)
		}
	}
	log := pm.Text
	if i := strings.Index(log, "\ndiff --git "); i >= 0 {
		log = log[:i]
	}
	if i := strings.Index(log, "\n---\n"); i >= 0 {
		log = log[:i]
	}
	if len(log) > 16<<10 {
		log = log[:16<<10]
	}
	log = cveRE.ReplaceAllString(log, " ")
	for _, line := range strings.Split(log, "\n") {
		if trailerRE.MatchString(line) || strings.HasPrefix(strings.TrimSpace(line), ">") {
			continue
		}
		for _, w := range tokenRE.FindAllString(strings.ToLower(line), -1) {
			if len(w) >= 2 && len(w) <= 30 && w[0] >= 'a' && !hexRE.MatchString(w) {
				add(w)
			}
		}
	}
	if diffWords {
		body := pm.Text
		if i := strings.Index(body, "\ndiff --git "); i >= 0 {
			body = body[i:]
			if len(body) > 16<<10 {
				body = body[:16<<10]
			}
			for _, line := range strings.Split(body, "\n") {
				if len(line) < 2 || line[0] != '+' && line[0] != '-' || strings.HasPrefix(line, "+++") || strings.HasPrefix(line, "---") {
					continue
				}
				p := line[:1] + ":"
				for _, w := range tokenRE.FindAllString(strings.ToLower(line[1:]), -1) {
					if len(w) >= 2 && len(w) <= 30 && w[0] >= 'a' && !hexRE.MatchString(w) {
						add(p + w)
					}
				}
			}
		}
	}
	sort.Strings(out)
	return out
}

var (
	diffWords  bool
	replyWords bool
)

// replyTokens are the words ("r:"+word) of the replies to a posting by
// others than its sender within two weeks (non-quoted text, trailer
// lines left out); seen caches the words of each reply.
func replyTokens(ctx context.Context, st *store.Store, sm *store.Message, seen map[int64][]string, mu *sync.Mutex) []string {
	msgs, err := st.ThreadMessages(ctx, sm.Thread)
	if err != nil {
		return nil
	}
	parent := map[string]string{}
	for _, m := range msgs {
		parent[m.MessageID] = m.Parent
	}
	under := func(mid string) bool {
		for i := 0; i < 50 && mid != ""; i++ {
			mid = parent[mid]
			if mid == sm.MessageID {
				return true
			}
		}
		return false
	}
	from := strings.ToLower(sm.FromEmail)
	horizon := sm.Date.Add(radar.Horizon)
	set := map[string]bool{}
	for _, m := range msgs {
		if strings.ToLower(m.FromEmail) == from || m.Date.After(horizon) || !under(m.MessageID) {
			continue
		}
		mu.Lock()
		ws, ok := seen[m.ID]
		mu.Unlock()
		if !ok {
			raw, err := st.Raw(ctx, m.ID)
			if err != nil {
				continue
			}
			pm, err := message.Parse(raw, nil)
			if err != nil {
				continue
			}
			text := pm.NonQuoted
			if len(text) > 16<<10 {
				text = text[:16<<10]
			}
			text = cveRE.ReplaceAllString(text, " ")
			ss := map[string]bool{}
			for _, line := range strings.Split(text, "\n") {
				if trailerRE.MatchString(line) {
					continue
				}
				for _, w := range tokenRE.FindAllString(strings.ToLower(line), -1) {
					if len(w) >= 2 && len(w) <= 30 && w[0] >= 'a' && !hexRE.MatchString(w) && !ss[w] {
						ss[w] = true
						ws = append(ws, "r:"+w)
					}
				}
			}
			mu.Lock()
			seen[m.ID] = ws
			mu.Unlock()
		}
		for _, w := range ws {
			set[w] = true
		}
	}
	out := make([]string, 0, len(set))
	for w := range set {
		out = append(out, w)
	}
	sort.Strings(out)
	return out
}

// tokensOf reads the words of every row's posting from the list's store,
// cached in DIR/NAME.tokens.
func tokensOf(ctx context.Context, l *list, rows []*radar.Row, cache string) map[string][]string {
	path := filepath.Join(cache, l.name+".tokens")
	if diffWords {
		path += "-diff"
	}
	if replyWords {
		path += "-replies"
	}
	toks := map[string][]string{}
	if f, err := os.Open(path); err == nil {
		err = gob.NewDecoder(f).Decode(&toks)
		f.Close()
		if err == nil {
			return toks
		}
	}
	st, err := store.Open(ctx, l.dir, &store.Options{ReadOnly: true})
	check(err)
	defer st.Close()
	var mu sync.Mutex
	seen := map[int64][]string{}
	work := make(chan string)
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for mid := range work {
				sm, err := st.MessageByID(ctx, mid)
				if err != nil {
					continue
				}
				raw, err := st.Raw(ctx, sm.ID)
				if err != nil {
					continue
				}
				pm, err := message.Parse(raw, nil)
				if err != nil {
					continue
				}
				t := docTokens(pm)
				if replyWords {
					t = append(t, replyTokens(ctx, st, sm, seen, &mu)...)
					sort.Strings(t)
				}
				mu.Lock()
				toks[mid] = t
				mu.Unlock()
			}
		}()
	}
	for _, r := range rows {
		work <- r.MessageID
	}
	close(work)
	wg.Wait()
	f, err := os.Create(path + ".tmp")
	check(err)
	check(gob.NewEncoder(f).Encode(toks))
	check(f.Close())
	check(os.Rename(path+".tmp", path))
	return toks
}

// wrow is one unit of the measurement.
type wrow struct {
	list  int
	x     []float64
	toks  []string
	pos   bool // label as training sees it (CVEs published before from)
	test  bool // in the window
	tpos  bool // label of the window (any CVE)
	fold  int
	mid   string
	base  float64
	pdays float64
}

func wordsEval(ctx context.Context, ls []*list, labels *radar.Labels, args []string, cache string) {
	fs := flag.NewFlagSet("words", flag.ExitOnError)
	fromS := fs.String("from", "2025-01-01", "window start")
	k := fs.Int("k", 5, "folds of the out-of-fold text score")
	minLists := fs.Int("minlists", 3, "a word is kept when at least this many training lists use it (in 5 postings each)")
	lt := fs.Float64("lt", 1, "L2 penalty of the word weights (as radar.Train's WordsLambda)")
	epochs := fs.Int("epochs", 8, "passes of the text model")
	textOnly := fs.Bool("textonly", false, "also print the text model alone")
	foldList := fs.Bool("foldlist", false, "out-of-fold by list: a training list's text score comes from the other lists")
	kc := fs.Bool("kc", false, "the text score counts only for postings that change kernel code (times kernel_code)")
	fs.BoolVar(&replyWords, "replies", false, "also the words (r:) of the replies by others within two weeks")
	fs.BoolVar(&diffWords, "diff", false, "also the words of added (+:) and removed (-:) diff lines")
	subjOnly := fs.Bool("subjonly", false, "only the subject's words")
	fs.BoolVar(&refit, "refit", false, "with -keep: fit the kept words again alone")
	fs.IntVar(&keepWords, "keep", 0, "keep the N largest word weights of each text model (0: all)")
	fs.BoolVar(&normWords, "norm", false, "scale a posting's words by 1/sqrt(their number)")
	fs.Float64Var(&clipText, "clip", 0, "clip the text logit to ±clip (0: no clip)")
	test := fs.String("test", "", "lists to test (default all)")
	fs.Parse(args)
	from, err := time.Parse("2006-01-02", *fromS)
	check(err)
	tests := map[string]bool{}
	for _, t := range strings.Split(*test, ",") {
		if t != "" {
			tests[t] = true
		}
	}
	// Rows of every list.
	var all [][]*wrow
	for li, l := range ls {
		rows := l.c.Units(time.Time{}, time.Time{}, labels)
		toks := tokensOf(ctx, l, rows, cache)
		var ws []*wrow
		for _, r := range rows {
			w := &wrow{list: li, x: r.X, toks: toks[r.MessageID], mid: r.MessageID, base: r.WordBaseline}
			if *subjOnly {
				var st []string
				for _, t := range w.toks {
					if strings.HasPrefix(t, "s:") {
						st = append(st, t)
					}
				}
				w.toks = st
			}
			w.test = !r.Date.Before(from)
			_, w.pos = labels.First(r.Key, from)
			c, tp := labels.First(r.Key, time.Time{})
			w.tpos = tp
			if tp {
				w.pdays = radar.Days(r.Date, c.Published)
			}
			h := fnv.New32a()
			h.Write([]byte(r.Key))
			w.fold = int(h.Sum32() % uint32(*k))
			ws = append(ws, w)
		}
		all = append(all, ws)
		fmt.Fprintf(os.Stderr, "%s: %d rows, %d with words\n", l.name, len(rows), len(toks))
	}
	type res struct{ base, reg, withText, text radar.Metrics }
	results := map[string]res{}
	// One configuration per left-out list (nil: pooled).
	configs := []string{""}
	for _, l := range ls {
		if !heldOut[l.name] {
			configs = append(configs, l.name)
		}
	}
	for _, leave := range configs {
		var trainLists []int
		for li, l := range ls {
			if !heldOut[l.name] && l.name != leave {
				trainLists = append(trainLists, li)
			}
		}
		// Which lists are tested with this configuration.
		var testLists []int
		for li, l := range ls {
			if len(tests) > 0 && !tests[l.name] {
				continue
			}
			if leave == "" && heldOut[l.name] || leave != "" && l.name == leave {
				testLists = append(testLists, li)
			}
		}
		if len(testLists) == 0 {
			continue
		}
		var tr []*wrow
		gi := map[int]int{}
		for g, li := range trainLists {
			gi[li] = g
			for _, w := range all[li] {
				if !w.test {
					tr = append(tr, w)
				}
			}
		}
		vocab := buildVocab(tr, *minLists)
		// Out-of-fold text logits of the training rows.
		oof := make([]float64, len(tr))
		folds := *k
		if *foldList {
			folds = len(trainLists)
			for _, w := range tr {
				w.fold = gi[w.list]
			}
		}
		for f := 0; f < folds; f++ {
			var in []int
			for i, w := range tr {
				if w.fold != f {
					in = append(in, i)
				}
			}
			tm := trainText(tr, in, gi, vocab, *lt, *epochs)
			for i, w := range tr {
				if w.fold == f {
					oof[i] = tm.logit(w.toks)
				}
			}
		}
		var every []int
		for i := range tr {
			every = append(every, i)
		}
		full := trainText(tr, every, gi, vocab, *lt, *epochs)
		// Main regressions (radar.Train): without the words, and with
		// the text score as the words feature.
		kci := -1
		for i, n := range radar.FeatureNames() {
			if n == "kernel_code" && *kc {
				kci = i
			}
		}
		ex := make([]radar.Example, len(tr))
		for i, w := range tr {
			if kci >= 0 {
				oof[i] *= w.x[kci]
			}
			ex[i] = radar.Example{X: w.x, Positive: w.pos, Group: gi[w.list]}
		}
		m0, err := radar.Train(ex, &radar.TrainOptions{Without: []radar.Group{radar.GroupWords}})
		check(err)
		m1, err := radar.Train(ex, &radar.TrainOptions{WordScores: oof})
		check(err)
		fmt.Fprintf(os.Stderr, "config %q: %d training rows, vocabulary %d, text weight %.3f\n", leave, len(tr), len(vocab), m1.Weights["words"])
		for _, li := range testLists {
			var sb, s0, s1, st []radar.Scored
			for _, w := range all[li] {
				if !w.test {
					continue
				}
				tl := full.logit(w.toks)
				if kci >= 0 {
					tl *= w.x[kci]
				}
				x1 := append([]float64(nil), w.x...)
				x1[wordsAt] = tl
				mk := func(s float64) radar.Scored {
					return radar.Scored{Score: s, Positive: w.tpos, Tie: w.mid, Days: w.pdays}
				}
				sb = append(sb, mk(w.base))
				s0 = append(s0, mk(linear(m0, w.x)))
				s1 = append(s1, mk(linear(m1, x1)))
				st = append(st, mk(tl))
			}
			results[ls[li].name] = res{radar.Evaluate(sb), radar.Evaluate(s0), radar.Evaluate(s1), radar.Evaluate(st)}
		}
		if *textOnly && leave == "" {
			printTop(full, vocab, 40)
		}
	}
	fmt.Println("| list | (b) AP | regression AUC | AP | AP/(b) | + text AUC | AP | AP/(b) | text alone AUC | AP/(b) |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|")
	for _, l := range ls {
		r, ok := results[l.name]
		if !ok {
			continue
		}
		b := r.base.AP
		fmt.Printf("| %s | %.3f | %.3f | %.3f | %.2f× | %.3f | %.3f | %.2f× | %.3f | %.2f× |\n", l.name, b,
			r.reg.AUC, r.reg.AP, r.reg.AP/b, r.withText.AUC, r.withText.AP, r.withText.AP/b, r.text.AUC, r.text.AP/b)
	}
}

// linear is the model's log-odds of x without its bias: rankings within
// a list do not need it.
func linear(m *radar.Model, x []float64) float64 {
	z := 0.0
	for i, n := range radar.FeatureNames() {
		z += m.Weights[n] * x[i]
	}
	return z
}

// wordsAt is the index of the words feature.
var wordsAt = slices.Index(radar.FeatureNames(), "words")

// buildVocab keeps the words used (in at least 5 training postings
// each) by at least minLists lists: words of kernel developers, not of
// one subsystem.
func buildVocab(tr []*wrow, minLists int) map[string]int {
	df := map[string]map[int]int{}
	for _, w := range tr {
		for _, t := range w.toks {
			m := df[t]
			if m == nil {
				m = map[int]int{}
				df[t] = m
			}
			m[w.list]++
		}
	}
	var words []string
	for t, m := range df {
		n := 0
		for _, c := range m {
			if c >= 5 {
				n++
			}
		}
		if n >= minLists {
			words = append(words, t)
		}
	}
	sort.Strings(words)
	v := make(map[string]int, len(words))
	for i, t := range words {
		v[t] = i
	}
	return v
}

var (
	keepWords int
	normWords bool
	clipText  float64
)

type textModel struct {
	w     []float64
	vocab map[string]int
}

func (m *textModel) logit(toks []string) float64 {
	z := 0.0
	for _, t := range toks {
		if i, ok := m.vocab[t]; ok {
			z += m.w[i]
		}
	}
	if normWords && len(toks) > 0 {
		z /= math.Sqrt(float64(len(toks)))
	}
	if clipText > 0 {
		z = math.Max(-clipText, math.Min(clipText, z))
	}
	return z
}

// trainText fits a logistic regression of the label on the words, with
// one bias per list (not kept: the score ranks within a list), by
// Adagrad over the rows in a fixed order: deterministic.
func trainText(tr []*wrow, in []int, gi map[int]int, vocab map[string]int, lambda float64, epochs int) *textModel {
	m := trainText1(tr, in, gi, vocab, lambda, epochs)
	if !refit || keepWords == 0 {
		return m
	}
	var words []string
	for t, i := range vocab {
		if m.w[i] != 0 {
			words = append(words, t)
		}
	}
	sort.Strings(words)
	v := map[string]int{}
	for i, t := range words {
		v[t] = i
	}
	k := keepWords
	keepWords = 0
	m = trainText1(tr, in, gi, v, lambda, epochs)
	keepWords = k
	return m
}

var refit bool

func trainText1(tr []*wrow, in []int, gi map[int]int, vocab map[string]int, lambda float64, epochs int) *textModel {
	nb := len(gi)
	w := make([]float64, len(vocab)+nb)
	g2 := make([]float64, len(w))
	// Biases start at each list's base rate.
	np := make([]float64, nb)
	nn := make([]float64, nb)
	for _, i := range in {
		g := gi[tr[i].list]
		nn[g]++
		if tr[i].pos {
			np[g]++
		}
	}
	for g := range nb {
		p := (np[g] + 0.5) / (nn[g] + 1)
		w[len(vocab)+g] = math.Log(p / (1 - p))
	}
	idx := make([][]int, len(tr))
	for _, i := range in {
		for _, t := range tr[i].toks {
			if j, ok := vocab[t]; ok {
				idx[i] = append(idx[i], j)
			}
		}
	}
	const eta = 0.1
	reg := lambda / float64(len(in))
	order := append([]int(nil), in...)
	for e := 0; e < epochs; e++ {
		// A fixed permutation per epoch.
		sort.Slice(order, func(a, b int) bool {
			return mix(order[a], e) < mix(order[b], e)
		})
		for _, i := range order {
			b := len(vocab) + gi[tr[i].list]
			v := 1.0
			if normWords && len(tr[i].toks) > 0 {
				v = 1 / math.Sqrt(float64(len(tr[i].toks)))
			}
			z := 0.0
			for _, j := range idx[i] {
				z += w[j]
			}
			z = w[b] + v*z
			y := 0.0
			if tr[i].pos {
				y = 1
			}
			g := 1/(1+math.Exp(-z)) - y
			g2[b] += g * g
			w[b] -= eta * g / math.Sqrt(g2[b]+1e-8)
			for _, j := range idx[i] {
				gj := g*v + reg*w[j]
				g2[j] += gj * gj
				w[j] -= eta * gj / math.Sqrt(g2[j]+1e-8)
			}
		}
	}
	w = w[:len(vocab)]
	if keepWords > 0 && keepWords < len(w) {
		a := make([]float64, len(w))
		for i := range w {
			a[i] = math.Abs(w[i])
		}
		sort.Float64s(a)
		cut := a[len(a)-keepWords]
		for i := range w {
			if math.Abs(w[i]) < cut {
				w[i] = 0
			}
		}
	}
	return &textModel{w: w, vocab: vocab}
}

func mix(i, e int) uint64 {
	x := uint64(i)*0x9e3779b97f4a7c15 + uint64(e+1)*0xbf58476d1ce4e5b9
	x ^= x >> 31
	x *= 0x94d049bb133111eb
	x ^= x >> 29
	return x
}

func printTop(m *textModel, vocab map[string]int, n int) {
	type tw struct {
		t string
		w float64
	}
	var ts []tw
	for t, i := range vocab {
		ts = append(ts, tw{t, m.w[i]})
	}
	sort.Slice(ts, func(a, b int) bool { return ts[a].w > ts[b].w })
	for i := 0; i < n && i < len(ts); i++ {
		fmt.Fprintf(os.Stderr, "  %+.3f %s\n", ts[i].w, ts[i].t)
	}
	fmt.Fprintln(os.Stderr, "  ...")
	for i := max(0, len(ts)-n); i < len(ts); i++ {
		fmt.Fprintf(os.Stderr, "  %+.3f %s\n", ts[i].w, ts[i].t)
	}
}
