package radar

import (
	"math"
	"regexp"
	"sort"
	"strings"
)

// The learned words: besides the hand-written lexicons, the model weighs
// the words of a patch posting's subject and changelog as the fixes that
// got a CVE used them. A posting's word score is the sum of the weights
// of its distinct words divided by the square root of their number (a
// long changelog says more words, not more of a fix), and it is one
// feature of the regression ("words"), whose weight is fitted with the
// others. The word weights come from a logistic regression of the label
// on the words, trained pooled with one bias per list; only words that
// at least three of the training lists use are read (the words of kernel
// developers, not of one subsystem), and the model file keeps the
// largest weights (WordsKept).

// wordRE matches a word: letters, digits and underscores (identifiers
// stay whole); okWord keeps those that start with a letter.
var wordRE = regexp.MustCompile(`[a-z0-9_]+`)

// hexWordRE matches a word that is a commit id.
var hexWordRE = regexp.MustCompile(`^[0-9a-f]{7,}$`)

// trailerLineRE matches the lines of trailers and of address headers
// quoted into a changelog: names and addresses, not words about the bug.
var trailerLineRE = regexp.MustCompile(`(?i)^\s*([a-z][a-z-]*-by|fixes|cc|link|closes|bcc|to|message-id|change-id):`)

// maxWordText bounds the changelog read for words: longer ones are logs.
const maxWordText = 16 << 10

// postingWords returns the distinct words of a patch posting, sorted:
// those of its subject, also as "s:"+word (a word in the subject says
// more than one in the changelog), and of its changelog without trailer
// and quoted lines. The caller blanks CVE ids (scrub).
func postingWords(subject, changelog string) []string {
	seen := map[string]bool{}
	var out []string
	add := func(w string) {
		if !seen[w] {
			seen[w] = true
			out = append(out, w)
		}
	}
	ok := func(w string) bool {
		return len(w) >= 2 && len(w) <= 30 && w[0] >= 'a' && w[0] <= 'z' && !hexWordRE.MatchString(w)
	}
	for _, w := range wordRE.FindAllString(strings.ToLower(subject), -1) {
		if ok(w) {
			add("s:" + w)
			add(w)
		}
	}
	if len(changelog) > maxWordText {
		changelog = changelog[:maxWordText]
	}
	for _, line := range strings.Split(changelog, "\n") {
		if trailerLineRE.MatchString(line) || strings.HasPrefix(strings.TrimSpace(line), ">") {
			continue
		}
		for _, w := range wordRE.FindAllString(strings.ToLower(line), -1) {
			if ok(w) {
				add(w)
			}
		}
	}
	sort.Strings(out)
	return out
}

// wordScore is a posting's word score under weights w.
func wordScore(w map[string]float64, words []string) float64 {
	return wordScoreOf(w, words, len(words))
}

// wordScoreOf is wordScore of a posting with n distinct words of which
// words are those w may weigh (mail.keepWords); n 0 means len(words).
func wordScoreOf(w map[string]float64, words []string, n int) float64 {
	if n == 0 {
		n = len(words)
	}
	if len(w) == 0 || len(words) == 0 {
		return 0
	}
	z := 0.0
	for _, t := range words {
		z += w[t]
	}
	return z / math.Sqrt(float64(n))
}

// topWords returns the n words of the posting that move its word score
// most in the direction of the score.
func topWords(w map[string]float64, words []string, n int) []string {
	s := wordScore(w, words)
	var ts []string
	for _, t := range words {
		if v := w[t]; v != 0 && (v > 0) == (s > 0) {
			ts = append(ts, t)
		}
	}
	sort.SliceStable(ts, func(i, j int) bool { return math.Abs(w[ts[i]]) > math.Abs(w[ts[j]]) })
	if len(ts) > n {
		ts = ts[:n]
	}
	return ts
}

// wordMinPostings and wordMinLists select the words the word model
// reads: used in at least wordMinPostings postings by each of at least
// wordMinLists of the lists it is trained on (all of them when fewer).
const (
	wordMinPostings = 5
	wordMinLists    = 3
)

// wordVocabulary lists the words the word model may weigh, given the
// rows it is trained on.
func wordVocabulary(rows []Example, in []int) map[string]int {
	type key struct {
		w string
		g int
	}
	n := map[key]int{}
	present := map[int]bool{}
	for _, i := range in {
		present[rows[i].Group] = true
		for _, t := range rows[i].Words {
			n[key{t, rows[i].Group}]++
		}
	}
	lists := map[string]int{}
	for k, c := range n {
		if c >= wordMinPostings {
			lists[k.w]++
		}
	}
	need := min(wordMinLists, len(present))
	var words []string
	for w, c := range lists {
		if c >= need {
			words = append(words, w)
		}
	}
	sort.Strings(words)
	v := make(map[string]int, len(words))
	for i, w := range words {
		v[w] = i
	}
	return v
}

// trainWords fits the word weights on rows[in]: a logistic regression of
// the label on the posting's words (each 1/√n, n its number of words),
// with one bias per group, L2 penalty lambda, by Adagrad over the rows in
// a fixed pseudo-random order per pass: the same rows give the same
// weights. It keeps the kept largest weights (all when kept is 0).
func trainWords(rows []Example, in []int, groups int, lambda float64, kept int) map[string]float64 {
	const (
		passes = 8
		eta    = 0.1
	)
	vocab := wordVocabulary(rows, in)
	nv := len(vocab)
	w := make([]float64, nv+groups)
	g2 := make([]float64, len(w))
	np := make([]float64, groups)
	nn := make([]float64, groups)
	for _, i := range in {
		nn[rows[i].Group]++
		if rows[i].Positive {
			np[rows[i].Group]++
		}
	}
	for g := range groups {
		p := (np[g] + 0.5) / (nn[g] + 1)
		w[nv+g] = math.Log(p / (1 - p))
	}
	idx := make([][]int, len(rows))
	for _, i := range in {
		for _, t := range rows[i].Words {
			if j, ok := vocab[t]; ok {
				idx[i] = append(idx[i], j)
			}
		}
	}
	reg := lambda / float64(len(in))
	order := append([]int(nil), in...)
	for p := range passes {
		sort.Slice(order, func(a, b int) bool { return mix(order[a], p) < mix(order[b], p) })
		for _, i := range order {
			b := nv + rows[i].Group
			v := 1.0
			if n := len(rows[i].Words); n > 0 {
				v = 1 / math.Sqrt(float64(n))
			}
			z := 0.0
			for _, j := range idx[i] {
				z += w[j]
			}
			z = w[b] + v*z
			y := 0.0
			if rows[i].Positive {
				y = 1
			}
			g := sigmoid(z) - y
			g2[b] += g * g
			w[b] -= eta * g / math.Sqrt(g2[b]+1e-8)
			for _, j := range idx[i] {
				gj := g*v + reg*w[j]
				g2[j] += gj * gj
				w[j] -= eta * gj / math.Sqrt(g2[j]+1e-8)
			}
		}
	}
	words := make([]string, nv)
	for t, j := range vocab {
		words[j] = t
	}
	sort.SliceStable(words, func(a, b int) bool {
		wa, wb := math.Abs(round(w[vocab[words[a]]])), math.Abs(round(w[vocab[words[b]]]))
		if wa != wb {
			return wa > wb
		}
		return words[a] < words[b]
	})
	if kept > 0 && len(words) > kept {
		words = words[:kept]
	}
	out := make(map[string]float64, len(words))
	for _, t := range words {
		if v := round(w[vocab[t]]); v != 0 {
			out[t] = v
		}
	}
	return out
}

// mix is a fixed hash of a row and a pass: the order of a pass.
func mix(i, pass int) uint64 {
	x := uint64(i)*0x9e3779b97f4a7c15 + uint64(pass+1)*0xbf58476d1ce4e5b9
	x ^= x >> 31
	x *= 0x94d049bb133111eb
	x ^= x >> 29
	return x
}

// outOfFoldWords gives every row a word score from word weights trained
// without its fold: with several groups (lists) a fold is a group, so a
// list's scores come from the other lists, as a list never trained on
// will be scored; with one group, five folds by row.
func outOfFoldWords(rows []Example, groups int, lambda float64, kept int) []float64 {
	fold := func(i int) int { return rows[i].Group }
	folds := groups
	if groups < 2 {
		folds = 5
		fold = func(i int) int { return i % 5 }
	}
	out := make([]float64, len(rows))
	for f := range folds {
		var in []int
		for i := range rows {
			if fold(i) != f {
				in = append(in, i)
			}
		}
		w := trainWords(rows, in, groups, lambda, kept)
		for i := range rows {
			if fold(i) == f {
				out[i] = wordScore(w, rows[i].Words)
			}
		}
	}
	return out
}
