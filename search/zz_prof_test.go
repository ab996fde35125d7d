package search
import ("testing";"os";"context";"time")
func TestZZBuild(t *testing.T){
	dir := "/tmp/ptix"
	if _, err := os.Stat(dir); err == nil { t.Skip("exists") }
	git := corpusGit(t)
	var docs []*Doc
	readCorpus(t, git, 0, func(raw []byte){ if d := corpusDoc(raw); d != nil { docs = append(docs, d) } })
	ix, err := Open(dir, nil); if err != nil { t.Fatal(err) }
	st := time.Now(); c0 := cpuTime()
	indexAll(t, ix, docs, 2000)
	ix.Close()
	t.Logf("%d docs in %v cpu %v size %d", len(docs), time.Since(st), cpuTime()-c0, dirSize(dir))
}
func TestZZQuery(t *testing.T){
	ix, err := Open("/tmp/ptix", &Options{ReadOnly: true}); if err != nil { t.Fatal(err) }
	defer ix.Close()
	for _, q := range []string{"io_uring", "s:io_uring", "f:axboe@kernel.dk", "nq:io_uring", "dfn:fs/io_uring.c"} {
		for _, th := range []bool{false,true} {
		st := time.Now()
		var r *Result
		for i:=0;i<10;i++ { r, err = ix.Search(context.Background(), q, &SearchOptions{Threads: th}); if err != nil { t.Fatal(err) } }
		t.Logf("%s threads=%v: %d hits total %d, %v/query", q, th, len(r.Hits), r.Total, time.Since(st)/10)
		}
	}
}
