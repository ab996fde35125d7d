// Command radar evaluates the security-fix radar (internal/radar) on
// imported lists and trains the committed default model; see
// doc/radar.md and the radar-eval and radar-model make targets.
//
//	go run ./.ci/radar -lists io-uring=DIR,linux-cifs=DIR eval -from 2025-01-01
//	go run ./.ci/radar -lists ... model -o internal/radar/default_model.json
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"hash/crc32"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/pprof"
	"sort"
	"strings"
	"time"

	"patchtrail/internal/radar"
	"patchtrail/internal/store"
)

// lambda is the -lambda flag; heldOut the lists of -holdout;
// wordsLambda and wordsKept the flags of the learned words.
var (
	lambda      float64
	wordsLambda float64
	wordsKept   int
	heldOut     = map[string]bool{}
)

type list struct {
	name, dir string
	c         *radar.Corpus
	first     time.Time
	last      time.Time
}

func main() {
	lists := flag.String("lists", "", "comma-separated NAME=DATADIR of imported lists")
	vulns := flag.String("vulns", "", "vulns repository (or unpacked vulns-full.tar.xz)")
	dates := flag.String("dates", "", "cve-published-dates.tsv")
	cache := flag.String("cache", "", "keep each list's evidence in DIR/NAME.records (rebuilt when the store is newer)")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile to FILE")
	flag.Float64Var(&lambda, "lambda", 0, "L2 penalty of training (0: radar.Train's default)")
	flag.Float64Var(&wordsLambda, "words-lambda", 0, "L2 penalty of the word weights (0: radar.Train's default)")
	flag.IntVar(&wordsKept, "words-kept", 0, "word weights a model keeps (0: radar.Train's default)")
	holdout := flag.String("holdout", "", "comma-separated lists no model is trained on (tested only)")
	flag.Parse()
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		check(err)
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, os.Interrupt)
		go func() { <-sig; pprof.StopCPUProfile(); os.Exit(130) }()
	}
	if *lists == "" || *vulns == "" || *dates == "" || flag.NArg() == 0 {
		fmt.Fprintln(os.Stderr, "usage: radar -lists NAME=DIR,... -vulns DIR -dates TSV [-cache DIR] (eval [-from DATE] [-test LIST,...] | model -o FILE | explain -list NAME [-from DATE] | dump | ceiling [-from DATE] | rolling [-from DATE] [-months N] | words [flags])")
		os.Exit(2)
	}
	for _, h := range strings.Split(*holdout, ",") {
		if h != "" {
			heldOut[h] = true
		}
	}
	ctx := context.Background()
	pub, err := radar.LoadDatesTSV(*dates)
	check(err)
	t0 := time.Now()
	labels, err := radar.LoadLabels(ctx, *vulns, pub)
	check(err)
	fmt.Fprintf(os.Stderr, "loaded %d CVE titles in %s\n", labels.Len(), time.Since(t0).Round(time.Millisecond))
	var ls []*list
	for _, spec := range strings.Split(*lists, ",") {
		name, dir, ok := strings.Cut(spec, "=")
		if !ok {
			check(fmt.Errorf("bad -lists entry %q (want NAME=DIR)", spec))
		}
		t0 := time.Now()
		c := load(ctx, name, dir, *cache)
		l := &list{name: name, dir: dir, c: c}
		l.first, l.last = c.Span()
		fmt.Fprintf(os.Stderr, "loaded %s (%s .. %s) in %s\n", name, day(l.first), day(l.last), time.Since(t0).Round(time.Millisecond))
		ls = append(ls, l)
	}
	switch flag.Arg(0) {
	case "eval":
		fs := flag.NewFlagSet("eval", flag.ExitOnError)
		from := fs.String("from", "2025-01-01", "window start: training uses CVEs published before it, testing the postings from it on")
		test := fs.String("test", "", "lists to test on (default: all)")
		fs.Parse(flag.Args()[1:])
		t, err := time.Parse("2006-01-02", *from)
		check(err)
		eval(ls, labels, t, *test)
	case "model":
		fs := flag.NewFlagSet("model", flag.ExitOnError)
		out := fs.String("o", "", "write the model to FILE")
		fs.Parse(flag.Args()[1:])
		m := train(ls, labels, time.Time{}, nil, nil)
		if *out == "" {
			os.Stdout.Write(m.Marshal())
			return
		}
		check(os.WriteFile(*out, m.Marshal(), 0o644))
	case "explain":
		// explain -from DATE -list L: the ranking of a list's window with
		// each posting's label and signals, to see what the radar misses.
		fs := flag.NewFlagSet("explain", flag.ExitOnError)
		from := fs.String("from", "2025-01-01", "window start")
		name := fs.String("list", "", "list")
		fs.Parse(flag.Args()[1:])
		t, err := time.Parse("2006-01-02", *from)
		check(err)
		m := train(ls, labels, t, nil, nil)
		for _, l := range ls {
			if l.name != *name {
				continue
			}
			rows := l.c.Units(t, time.Time{}, labels)
			sort.SliceStable(rows, func(i, j int) bool { return m.Score(rows[i]) > m.Score(rows[j]) })
			for i, r := range rows {
				c, _ := labels.First(r.Key, time.Time{})
				var sig []string
				for _, s := range m.Signals(r) {
					sig = append(sig, fmt.Sprintf("%s%+.1f", s.Name, s.Weight))
				}
				fmt.Printf("%d\t%.3f\t%s\t%s\t%s\n", i+1, m.Score(r), c.ID, r.Subject, strings.Join(sig, " "))
			}
		}
	case "dump":
		// dump: every unit of every list as a TSV row (list, date,
		// label, its CVE's publication date, baseline (b), subject,
		// features), to
		// study the features outside Go.
		names := radar.FeatureNames()
		fmt.Printf("list\tdate\tpos\tpublished\tb\tsubject\t%s\n", strings.Join(names, "\t"))
		for _, l := range ls {
			for _, r := range l.c.Units(time.Time{}, time.Time{}, labels) {
				c, pos := labels.First(r.Key, time.Time{})
				p, published := 0, ""
				if pos {
					p, published = 1, day(c.Published)
				}
				fmt.Printf("%s\t%s\t%d\t%s\t%g\t%s", l.name, day(r.Date), p, published, r.WordBaseline, strings.Join(strings.Fields(r.Subject), " "))
				for _, v := range r.X {
					fmt.Printf("\t%.4g", v)
				}
				fmt.Println()
			}
		}
	case "ceiling":
		// ceiling -from DATE: what the signals can say about a list's
		// window at best: a model fitted on the window's own postings
		// and every label (in sample, without the learned words), and
		// the same fitted on half the window's patches and tested on
		// the other half (two folds by subject).
		fs := flag.NewFlagSet("ceiling", flag.ExitOnError)
		from := fs.String("from", "2025-01-01", "window start")
		fs.Parse(flag.Args()[1:])
		t, err := time.Parse("2006-01-02", *from)
		check(err)
		ceiling(ls, labels, t)
	case "rolling":
		// rolling -from DATE -months N: the window scored as a radar
		// retrained every N months would score it: each period's
		// postings by a model trained on every list's postings before
		// the period, labelled by the CVEs published before it.
		fs := flag.NewFlagSet("rolling", flag.ExitOnError)
		from := fs.String("from", "2025-01-01", "window start")
		months := fs.Int("months", 1, "months between trainings")
		fs.Parse(flag.Args()[1:])
		t, err := time.Parse("2006-01-02", *from)
		check(err)
		rolling(ls, labels, t, *months)
	case "words":
		// words: the learned text signal measured beside the regression
		// (words.go).
		wordsEval(ctx, ls, labels, flag.Args()[1:], *cache)
	default:
		check(fmt.Errorf("unknown command %q", flag.Arg(0)))
	}
}

// load reads a list's evidence from its store, or from the cache when
// that is newer than the store.
func load(ctx context.Context, name, dir, cache string) *radar.Corpus {
	path := filepath.Join(cache, name+".records")
	if cache != "" {
		cs, err1 := os.Stat(path)
		ss, err2 := os.Stat(filepath.Join(dir, "store.db"))
		if err1 == nil && err2 == nil && cs.ModTime().After(ss.ModTime()) {
			c, err := radar.LoadRecordFile(path)
			if err == nil {
				return c
			}
			fmt.Fprintf(os.Stderr, "%v: reading %s again\n", err, name)
		}
	}
	st, err := store.Open(ctx, dir, &store.Options{ReadOnly: true})
	check(err)
	defer st.Close()
	c, err := radar.Load(ctx, st, nil)
	check(err)
	if cache != "" {
		check(os.MkdirAll(cache, 0o755))
		f, err := os.Create(path + ".tmp")
		check(err)
		check(c.WriteRecords(f))
		check(f.Close())
		check(os.Rename(path+".tmp", path))
	}
	return c
}

func day(t time.Time) string { return t.Format("2006-01-02") }

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "radar:", err)
		os.Exit(1)
	}
}

// train fits a model on the postings of the lists dated before until
// (all when zero), labelled by the CVEs published before until.
func train(ls []*list, labels *radar.Labels, until time.Time, without []radar.Group, skip map[string]bool) *radar.Model {
	var ex []radar.Example
	var info []string
	group := 0
	for _, l := range ls {
		if skip[l.name] || heldOut[l.name] {
			continue
		}
		rows := l.c.Units(time.Time{}, until, labels)
		for _, r := range rows {
			_, pos := labels.First(r.Key, until)
			ex = append(ex, radar.Example{X: r.X, Positive: pos, Group: group, Words: r.Words})
		}
		group++
		end := l.last
		if !until.IsZero() && until.Before(end) {
			end = until
		}
		info = append(info, fmt.Sprintf("%s %s..%s", l.name, day(l.first), day(end)))
	}
	m, err := radar.Train(ex, &radar.TrainOptions{Without: without, Lambda: lambda, WordsLambda: wordsLambda, WordsKept: wordsKept})
	check(err)
	m.Trained.Lists = info
	if !until.IsZero() {
		m.Trained.Until = day(until)
	}
	return m
}

// trainOwn is what `patchtrail radar train --until` does on a data
// directory holding only this list, with prior as the default model.
func trainOwn(l *list, labels *radar.Labels, until time.Time, prior *radar.Model) *radar.Model {
	m, err := radar.TrainOwn(l.c.Units(time.Time{}, until, labels), labels, until, prior)
	if errors.Is(err, radar.ErrNoLabels) {
		return prior
	}
	check(err)
	fmt.Fprintf(os.Stderr, "%s: radar train --until %s: %s\n", l.name, day(until), m.Trained.Validation.Chosen)
	return m
}

type result struct {
	name string
	m    radar.Metrics
}

func eval(ls []*list, labels *radar.Labels, from time.Time, test string) {
	tests := map[string]bool{}
	for _, t := range strings.Split(test, ",") {
		if t != "" {
			tests[t] = true
		}
	}
	pooled := train(ls, labels, from, nil, nil)
	noThread := train(ls, labels, from, []radar.Group{radar.GroupThread}, nil)
	noDiff := train(ls, labels, from, []radar.Group{radar.GroupDiff}, nil)
	noHist := train(ls, labels, from, []radar.Group{radar.GroupHistory}, nil)
	noWords := train(ls, labels, from, []radar.Group{radar.GroupWords}, nil)
	fmt.Printf("Pooled model trained with --until %s on: %s (%d rows, %d positives)\n\n", day(from),
		strings.Join(pooled.Trained.Lists, "; "), pooled.Trained.Rows, pooled.Trained.Positives)
	for _, l := range ls {
		if len(tests) > 0 && !tests[l.name] {
			continue
		}
		rows := l.c.Units(from, time.Time{}, labels)
		unseen := train(ls, labels, from, nil, map[string]bool{l.name: true})
		unseenNoWords := train(ls, labels, from, []radar.Group{radar.GroupWords}, map[string]bool{l.name: true})
		own := trainOwn(l, labels, from, unseen)
		score := func(f func(r *radar.Row) float64) radar.Metrics {
			var us []radar.Scored
			for _, r := range rows {
				c, pos := labels.First(r.Key, time.Time{})
				s := radar.Scored{Score: f(r), Positive: pos, Tie: r.MessageID}
				if pos {
					s.Days = radar.Days(r.Date, c.Published)
				}
				us = append(us, s)
			}
			return radar.Evaluate(us)
		}
		res := []result{
			{"baseline (a) Fixes: or Cc: stable", score(func(r *radar.Row) float64 { return r.TagBaseline })},
			{"baseline (b) words + sanitizers + tags", score(func(r *radar.Row) float64 { return r.WordBaseline })},
			{"radar, pooled (the lists trained on)", score(pooled.Score)},
			{"radar, this list unseen", score(unseen.Score)},
			{"radar, this list unseen, without the learned words", score(unseenNoWords.Score)},
			{"radar, this list unseen, then `radar train --until` on it", score(own.Score)},
			{"radar without thread signals", score(noThread.Score)},
			{"radar without diff signals", score(noDiff.Score)},
			{"radar without history signals", score(noHist.Score)},
			{"radar without the learned words", score(noWords.Score)},
		}
		m := res[0].m
		fmt.Printf("### %s, %s .. %s: %d postings, %d positives\n\n", l.name, day(from), day(l.last), m.Units, m.Positives)
		fmt.Println("| ranking | ROC AUC | AP | AP / (b) | P@50 | positives in top 10 % | median days to CVE (top 10 %) |")
		fmt.Println("|---|---|---|---|---|---|---|")
		base := res[1].m.AP
		for _, r := range res {
			md := "–"
			if r.m.MedianDays >= 0 {
				md = fmt.Sprintf("%.0f", r.m.MedianDays)
			}
			ratio := 0.0
			if base > 0 {
				ratio = r.m.AP / base
			}
			fmt.Printf("| %s | %.3f | %.3f | %.2f× | %.2f | %d | %s |\n", r.name, r.m.AUC, r.m.AP, ratio, r.m.P50, r.m.TopPos, md)
		}
		fmt.Println()
	}
	fmt.Println("Weights of the pooled model:")
	names := radar.FeatureNames()
	sort.SliceStable(names, func(i, j int) bool { return abs(pooled.Weights[names[i]]) > abs(pooled.Weights[names[j]]) })
	for _, n := range names {
		fmt.Printf("  %-20s %-8s %+.3f\n", n, radar.FeatureGroup(n), pooled.Weights[n])
	}
	words := make([]string, 0, len(pooled.Words))
	for w := range pooled.Words {
		words = append(words, w)
	}
	sort.Slice(words, func(i, j int) bool {
		if pooled.Words[words[i]] != pooled.Words[words[j]] {
			return pooled.Words[words[i]] > pooled.Words[words[j]]
		}
		return words[i] < words[j]
	})
	fmt.Printf("\nWords of the pooled model (%d; the 30 largest and smallest weights):\n", len(words))
	for i, w := range words {
		if i < 30 || i >= len(words)-30 {
			fmt.Printf("  %-20s %+.3f\n", w, pooled.Words[w])
		}
	}
}

func abs(f float64) float64 {
	if f < 0 {
		return -f
	}
	return f
}

// ceiling prints, per list, baseline (b) and the two fits the ceiling
// command describes (at the -lambda penalty, radar.Train's by default).
func ceiling(ls []*list, labels *radar.Labels, from time.Time) {
	fmt.Printf("| list | postings | positives | (b) AP | in sample AUC | in sample AP/(b) | two folds AUC | two folds AP/(b) |\n|---|---|---|---|---|---|---|---|\n")
	for _, l := range ls {
		rows := l.c.Units(from, time.Time{}, labels)
		// Each row's label and fold (by subject key, so a patch's
		// versions and reposts stay together), read once.
		pos := make([]bool, len(rows))
		fold := make([]bool, len(rows))
		for i, r := range rows {
			_, pos[i] = labels.First(r.Key, time.Time{})
			fold[i] = crc32.ChecksumIEEE([]byte(r.Key))%2 == 0
		}
		fit := func(in func(i int) bool) *radar.Model {
			var ex []radar.Example
			for i, r := range rows {
				if in(i) {
					ex = append(ex, radar.Example{X: r.X, Positive: pos[i]})
				}
			}
			m, err := radar.Train(ex, &radar.TrainOptions{Without: []radar.Group{radar.GroupWords}, Lambda: lambda})
			if err != nil {
				fmt.Fprintf(os.Stderr, "%s: %v\n", l.name, err)
				return nil
			}
			return m
		}
		all := fit(func(int) bool { return true })
		even := fit(func(i int) bool { return fold[i] })
		odd := fit(func(i int) bool { return !fold[i] })
		if all == nil || even == nil || odd == nil {
			continue
		}
		metrics := func(score func(i int) float64) radar.Metrics {
			us := make([]radar.Scored, len(rows))
			for i, r := range rows {
				us[i] = radar.Scored{Score: score(i), Positive: pos[i], Tie: r.MessageID}
			}
			return radar.Evaluate(us)
		}
		b := metrics(func(i int) float64 { return rows[i].WordBaseline })
		in := metrics(func(i int) float64 { return all.Score(rows[i]) })
		cv := metrics(func(i int) float64 {
			if fold[i] {
				return odd.Score(rows[i])
			}
			return even.Score(rows[i])
		})
		fmt.Printf("| %s | %d | %d | %.3f | %.3f | %.2f× | %.3f | %.2f× |\n", l.name, b.Units, b.Positives, b.AP, in.AUC, in.AP/b.AP, cv.AUC, cv.AP/b.AP)
	}
}

// rolling prints, per list, the window's metrics under a radar retrained
// every months months on every list (what a store holding them all and
// trained now and then would rank).
func rolling(ls []*list, labels *radar.Labels, from time.Time, months int) {
	end := from
	for _, l := range ls {
		if l.last.After(end) {
			end = l.last
		}
	}
	scores := map[string][]radar.Scored{}
	base := map[string][]radar.Scored{}
	for p := from; !p.After(end); p = p.AddDate(0, months, 0) {
		next := p.AddDate(0, months, 0)
		var ex []radar.Example
		for g, l := range ls {
			for _, r := range l.c.Units(time.Time{}, p, labels) {
				_, pos := labels.First(r.Key, p)
				ex = append(ex, radar.Example{X: r.X, Positive: pos, Group: g, Words: r.Words})
			}
		}
		m, err := radar.Train(ex, &radar.TrainOptions{Lambda: lambda, WordsLambda: wordsLambda, WordsKept: wordsKept})
		check(err)
		fmt.Fprintf(os.Stderr, "trained until %s: %d rows, %d positives\n", day(p), m.Trained.Rows, m.Trained.Positives)
		for _, l := range ls {
			for _, r := range l.c.Units(p, next, labels) {
				_, pos := labels.First(r.Key, time.Time{})
				scores[l.name] = append(scores[l.name], radar.Scored{Score: m.Score(r), Positive: pos, Tie: r.MessageID})
				base[l.name] = append(base[l.name], radar.Scored{Score: r.WordBaseline, Positive: pos, Tie: r.MessageID})
			}
		}
	}
	fmt.Printf("| list | postings | positives | (b) AP | retrained every %d months: AUC | AP | AP/(b) | P@50 |\n|---|---|---|---|---|---|---|---|\n", months)
	for _, l := range ls {
		b, m := radar.Evaluate(base[l.name]), radar.Evaluate(scores[l.name])
		fmt.Printf("| %s | %d | %d | %.3f | %.3f | %.3f | %.2f× | %.2f |\n", l.name, m.Units, m.Positives, b.AP, m.AUC, m.AP, m.AP/b.AP, m.P50)
	}
}
