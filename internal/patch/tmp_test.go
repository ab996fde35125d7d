package patch
import ("testing";"sort";"fmt";"strings")
func TestTmpSubjects(t *testing.T) {
	msgs := corpusDecoded(t)
	sub, lt, pre := map[string]int{}, map[string]int{}, map[string]int{}
	var odd []string
	for _, m := range msgs {
		s := ParseSubject(m.Subject)
		for _, x := range s.Subsystems { sub[x]++ }
		for _, x := range s.ListTags { lt[x]++ }
		for _, x := range s.Prefixes { pre[x]++ }
		if !s.IsPatch && strings.Contains(strings.ToUpper(m.Subject), "PATCH") && len(odd) < 25 { odd = append(odd, m.Subject) }
	}
	dump := func(name string, m map[string]int) {
		type kv struct{k string; v int}
		var l []kv
		for k, v := range m { l = append(l, kv{k,v}) }
		sort.Slice(l, func(i,j int) bool { return l[i].v > l[j].v })
		if len(l) > 40 { l = l[:40] }
		fmt.Println(name, l)
	}
	dump("subsystems", sub); dump("listtags", lt); dump("prefixes", pre)
	fmt.Println(strings.Join(odd, "\n"))
}
