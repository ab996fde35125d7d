package radar

import (
	"sync"
)

// The anchors of the text lexicons, found in one pass.
//
// A lexicon term runs its regular expression only on the lines that
// hold one of its anchors (text.match). Looking each anchor up with
// strings.Index read a text once per anchor: about a hundred
// anchors, one scan each, were most of the time the radar's evidence took in an
// import's parse workers. An Aho-Corasick automaton over every anchor
// finds all their occurrences in one scan of the lowercased text
// instead, and text.match reads the occurrences of its anchors from
// there, in the order strings.Index would have found them.

// anchorIDs numbers the distinct anchors of the lexicons built by terms,
// in the order they were first named.
var (
	anchorMu   sync.Mutex
	anchorIDs  = map[string]int{}
	anchorList []string
)

// internAnchors returns the ids of anchors, registering the new ones.
// Only the package's lexicon declarations call it (at init), before the
// automaton is built (theAutomaton: 111 anchors, 564 states over 29 byte
// classes, a 65 KB table).
func internAnchors(anchors []string) []int {
	anchorMu.Lock()
	defer anchorMu.Unlock()
	ids := make([]int, len(anchors))
	for i, a := range anchors {
		id, ok := anchorIDs[a]
		if !ok {
			if a == "" {
				panic("radar: empty anchor")
			}
			id = len(anchorList)
			anchorIDs[a] = id
			anchorList = append(anchorList, a)
		}
		ids[i] = id
	}
	return ids
}

// anchorNames are the anchors of ids.
func anchorNames(ids []int) []string {
	anchorMu.Lock()
	defer anchorMu.Unlock()
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = anchorList[id]
	}
	return out
}

// automaton is a deterministic Aho-Corasick automaton over byte
// classes: the bytes no anchor holds share class 0.
type automaton struct {
	class    [256]uint8
	nclass   int
	delta    []int32 // state*nclass + class: the next state
	outStart []int32 // outStart[s]..outStart[s+1]: the anchors ending at state s
	outIDs   []int32
	length   []int32 // of each anchor
	anchors  int
}

var (
	acOnce sync.Once
	ac     *automaton
)

// theAutomaton is the automaton of every anchor registered by the
// package's lexicons.
func theAutomaton() *automaton {
	acOnce.Do(func() {
		anchorMu.Lock()
		defer anchorMu.Unlock()
		ac = buildAutomaton(anchorList)
	})
	return ac
}

func buildAutomaton(anchors []string) *automaton {
	a := &automaton{anchors: len(anchors)}
	for _, s := range anchors {
		for i := 0; i < len(s); i++ {
			if a.class[s[i]] == 0 {
				a.nclass++
				a.class[s[i]] = uint8(a.nclass)
			}
		}
		a.length = append(a.length, int32(len(s)))
	}
	a.nclass++ // class 0
	// The trie: goto[s*nclass+c], -1 where there is no edge.
	var gotoT []int32
	newState := func() int32 {
		for range a.nclass {
			gotoT = append(gotoT, -1)
		}
		return int32(len(gotoT)/a.nclass - 1)
	}
	newState()
	own := [][]int32{nil}
	for id, s := range anchors {
		st := int32(0)
		for i := 0; i < len(s); i++ {
			c := int(a.class[s[i]])
			nx := gotoT[int(st)*a.nclass+c]
			if nx < 0 {
				nx = newState()
				own = append(own, nil)
				gotoT[int(st)*a.nclass+c] = nx
			}
			st = nx
		}
		own[st] = append(own[st], int32(id))
	}
	n := len(own)
	fail := make([]int32, n)
	a.delta = make([]int32, n*a.nclass)
	outs := make([][]int32, n)
	outs[0] = own[0]
	// Breadth first: a state's failure state is shallower, so done.
	queue := []int32{}
	for c := range a.nclass {
		nx := gotoT[c]
		if nx < 0 {
			a.delta[c] = 0
			continue
		}
		a.delta[c] = nx
		fail[nx] = 0
		queue = append(queue, nx)
	}
	for len(queue) > 0 {
		s := queue[0]
		queue = queue[1:]
		outs[s] = append(append([]int32(nil), own[s]...), outs[fail[s]]...)
		for c := range a.nclass {
			nx := gotoT[int(s)*a.nclass+c]
			if nx < 0 {
				a.delta[int(s)*a.nclass+c] = a.delta[int(fail[s])*a.nclass+c]
				continue
			}
			a.delta[int(s)*a.nclass+c] = nx
			fail[nx] = a.delta[int(fail[s])*a.nclass+c]
			queue = append(queue, nx)
		}
	}
	a.outStart = make([]int32, n+1)
	for s := range n {
		a.outStart[s+1] = a.outStart[s] + int32(len(outs[s]))
		a.outIDs = append(a.outIDs, outs[s]...)
	}
	return a
}

// occurrences are the start offsets of every anchor in one text: those
// of anchor id are pos[start[id]:start[id+1]], in increasing order.
type occurrences struct {
	start []int32
	pos   []int32
}

// scan finds every occurrence of every anchor in s (lowercase).
func (a *automaton) scan(s string) *occurrences {
	type hit struct{ id, pos int32 }
	var hits []hit
	st := int32(0)
	for i := 0; i < len(s); i++ {
		st = a.delta[int(st)*a.nclass+int(a.class[s[i]])]
		if lo, hi := a.outStart[st], a.outStart[st+1]; lo < hi {
			for _, id := range a.outIDs[lo:hi] {
				hits = append(hits, hit{id, int32(i+1) - a.length[id]})
			}
		}
	}
	o := &occurrences{start: make([]int32, a.anchors+1), pos: make([]int32, len(hits))}
	for _, h := range hits {
		o.start[h.id+1]++
	}
	for id := range a.anchors {
		o.start[id+1] += o.start[id]
	}
	next := append([]int32(nil), o.start[:a.anchors]...)
	for _, h := range hits { // in text order: each anchor's offsets ascend
		o.pos[next[h.id]] = h.pos
		next[h.id]++
	}
	return o
}

// of returns the start offsets of anchor id.
func (o *occurrences) of(id int) []int32 { return o.pos[o.start[id]:o.start[id+1]] }
