package radar

import (
	"regexp"
	"sort"
	"strings"

	"patchtrail/internal/patch"
)

// Shape is what a patch's diff does, in terms that hold in any
// subsystem: the checks it adds, the locking and freeing it changes.
type Shape struct {
	BoundsCheck  bool     `json:"boundscheck,omitempty"`  // adds a comparison of a length, size, index or count
	NullCheck    bool     `json:"nullcheck,omitempty"`    // adds a NULL (or IS_ERR) check
	ErrorExit    bool     `json:"errorexit,omitempty"`    // adds an early error return (-EINVAL, -EFAULT, ...)
	OverflowHelp bool     `json:"overflowhelp,omitempty"` // adds check_*_overflow, array_size, struct_size, min_t, clamp
	LockAdded    bool     `json:"lockadded,omitempty"`    // adds lock/unlock calls or memory-ordering primitives
	LockMoved    bool     `json:"lockmoved,omitempty"`    // lock calls both removed and added
	FreeReorder  bool     `json:"freereorder,omitempty"`  // free/put calls both removed and added
	FreeAdded    bool     `json:"freeadded,omitempty"`    // free/put calls only added (a leak plugged)
	FreeRemoved  bool     `json:"freeremoved,omitempty"`  // free/put calls only removed (a double free or early free)
	Nospec       bool     `json:"nospec,omitempty"`       // adds array_index_nospec
	ZeroInit     bool     `json:"zeroinit,omitempty"`     // adds zeroing (memset 0, kzalloc, = {}, __GFP_ZERO)
	ZeroCopyOut  bool     `json:"zerocopyout,omitempty"`  // zeroing added where data is copied to user space
	Refcount     bool     `json:"refcount,omitempty"`     // changes reference counting (get/put, refcount_, kref_)
	UserCopy     bool     `json:"usercopy,omitempty"`     // touches copy_{from,to}_user, get_user, put_user
	InputCheck   bool     `json:"inputcheck,omitempty"`   // adds a bounds check in a hunk that reads input: a length from a buffer, a packet, a message or user space
	KernelCode   bool     `json:"kernelcode,omitempty"`   // touches kernel source (not only tools, docs, tests)
	Lines        int      `json:"lines,omitempty"`        // lines added plus removed
	Files        int      `json:"files,omitempty"`
	Functions    []string `json:"functions,omitempty"` // functions the hunks are in (hunk headers), sorted
	Paths        []string `json:"paths,omitempty"`
}

var (
	ifRE        = regexp.MustCompile(`^\s*(}\s*else\s+)?if\s*\(|^\s*(WARN_ON|WARN_ON_ONCE|BUG_ON|unlikely|likely)\s*\(|&&|\|\|`)
	cmpRE       = regexp.MustCompile(`[<>]=?|!=|==`)
	lengthRE    = regexp.MustCompile(`(?i)len|size|sz\b|count|cnt|\bnr|num|max|min|idx|index|off(set)?\b|offs|bound|limit|end\b|pos\b|_left|remain|avail|capacity|\bi\b|\bn\b|ARRAY_SIZE|sizeof`)
	nullRE      = regexp.MustCompile(`if\s*\(\s*!\s*[\w.>\-\[\]()*]+\s*\)|[!=]=\s*NULL|NULL\s*[!=]=|IS_ERR_OR_NULL|IS_ERR\(|PTR_ERR_OR_ZERO`)
	errExitRE   = regexp.MustCompile(`return\s+-E[A-Z0-9]+|=\s*-E(INVAL|FAULT|OVERFLOW|RANGE|2BIG|NOSPC|NOMEM|PERM|ACCES|BADF|NOENT|BUSY|AGAIN|NODEV|NXIO|MSGSIZE|OPNOTSUPP|E?XIST)\b|goto\s+\w*(err|fail|out|unlock|free|put|release|bad)`)
	overflowRE  = regexp.MustCompile(`check_(add|sub|mul)_overflow|\barray_size\(|\barray3?_size\(|\bstruct_size\(|\bsize_(add|mul|sub)\(|\boverflows_type\(|\bmin_t\(|\bmax_t\(|\bclamp(_t|_val)?\(|\bmin\(|\bumin\(|\bsafe_\w+\(`)
	lockRE      = regexp.MustCompile(`\b\w*(spin_|mutex_|rwsem|read_|write_|raw_|seq|bit_|_irq|_bh)?(un)?lock\w*\s*\(|\brcu_read_(un)?lock\w*\(|\bsynchronize_rcu\w*\(|\bcall_rcu\(|\bkfree_rcu\(|\b(scoped_)?guard\s*\(|\bREAD_ONCE\(|\bWRITE_ONCE\(|\bsmp_(r|w)?mb\w*\(|\bsmp_load_acquire\(|\bsmp_store_release\(|\b(down|up)_(read|write)\w*\(|\batomic\w*_(cmpxchg|xchg)\(|\bcmpxchg\(|\block_(sock|page|folio)\(`)
	freeRE      = regexp.MustCompile(`\bk(v|z)?free\w*\(|\bvfree\(|\bfree_\w+\(|\b\w+_free\(|\b\w+_put\w*\(|\bput_\w+\(|\b\w*_release\(|\b\w+_destroy\(|\b[dfi]put\(|\bkmem_cache_free\(|\bbio_put\(|\bfolio_put\(|\bsock_put\(|\bdev_put\(`)
	nospecRE    = regexp.MustCompile(`array_index_nospec|array_index_mask_nospec|barrier_nospec`)
	zeroRE      = regexp.MustCompile(`memset\s*\([^,]+,\s*0\s*,|\bk(v)?zalloc\w*\(|\bk(v)?calloc\(|\bkmem_cache_zalloc\(|__GFP_ZERO|=\s*\{\s*0?\s*\}\s*;|memzero_explicit\(|\bzero_\w+\(|\bclear_user\(|\bmemset_after\(|\bmemset_startat\(`)
	refRE       = regexp.MustCompile(`\brefcount_\w+\(|\bkref_\w+\(|\batomic\w*_(inc|dec)\w*\(|\b\w+_get\w*\(|\b\w+_put\w*\(|\bget_\w+\(|\bput_\w+\(|\bpercpu_ref_\w+\(|\bget_file\(|\bfget\w*\(|\bfdget\w*\(|\bsock_hold\(|\bdev_hold\(`)
	userCopyRE  = regexp.MustCompile(`\bcopy_(from|to)_user\w*\(|\b(get|put)_user\(|\bstrncpy_from_user\(|\bmemdup_user\w*\(|\bcopy_to_iter\(|\bcopy_from_iter\(|\bunsafe_(get|put)_user\(|\bnla_put\w*\(|\bsimple_read_from_buffer\(|\bcopy_struct_from_user\(|\buser_access_begin\(`)
	hunkFuncRE  = regexp.MustCompile(`([A-Za-z_]\w*)\s*\(`)
	kernelPaths = map[string]bool{"arch": true, "block": true, "certs": true, "crypto": true, "drivers": true, "fs": true, "include": true, "init": true, "io_uring": true, "ipc": true, "kernel": true, "lib": true, "mm": true, "net": true, "rust": true, "security": true, "sound": true, "virt": true}
)

// inputRE matches code reading what another party controls: a
// length or field decoded from a buffer (le16_to_cpu,
// get_unaligned), a packet (skb), a netlink message (nla_, nlmsg_),
// user space, or a length field of a header, descriptor, message
// or frame. Generic to parsers of any subsystem.
var inputRE = regexp.MustCompile(`\b(le|be)(16|32|64)_to_cpup?\(|\bget_unaligned\w*\(|\bskb->(len|data|data_len)\b|\bskb_(pull|header_pointer|headlen|tail_pointer|network_offset|transport_offset)\w*\(|\bpskb_may_pull\(|\bnla_(len|data|get_\w+|parse\w*)\(|\bnlmsg_(len|data|parse\w*)\(|\bcopy_from_user\w*\(|\bmemdup_user\w*\(|\bget_user\(|\bcopy_from_iter\w*\(|\b\w*(hdr|header|desc|msg|pkt|packet|frame|buf|cmd|rsp|resp|req|ev|event|tlv|attr|opt|entry|rec|record)\w*(->|\.)\w*(len|length|size|count|num|cnt|offset|off)\w*\b`)

// kernelSource reports whether a path is kernel code: under one of the
// kernel tree's source directories and not a test.
func kernelSource(p string) bool {
	top, _, ok := strings.Cut(p, "/")
	if !ok || !kernelPaths[top] {
		return false
	}
	return !strings.Contains(p, "/selftests/") && !strings.Contains(p, "/tests/")
}

// pat is a line pattern with the lowercase anchors one of which every
// match holds.
type pat struct {
	anchors []string
	re      *regexp.Regexp
}

func (p pat) match(line, lower string) bool {
	for _, a := range p.anchors {
		if strings.Contains(lower, a) {
			return p.re.MatchString(line)
		}
	}
	return false
}

var (
	ifPat       = pat{[]string{"if", "warn_on", "bug_on", "likely", "&&", "||"}, ifRE}
	nullPat     = pat{[]string{"!", "null", "is_err"}, nullRE}
	errExitPat  = pat{[]string{"-e", "goto"}, errExitRE}
	overflowPat = pat{[]string{"overflow", "_size(", "size_", "min", "max_t", "clamp", "safe_"}, overflowRE}
	lockPat     = pat{[]string{"lock", "rcu", "guard", "_once(", "smp_", "down_", "up_", "xchg"}, lockRE}
	freePat     = pat{[]string{"free", "put", "release", "destroy"}, freeRE}
	nospecPat   = pat{[]string{"nospec"}, nospecRE}
	zeroPat     = pat{[]string{"memset", "zalloc", "calloc", "gfp_zero", "{", "memzero", "zero_", "clear_user"}, zeroRE}
	refPat      = pat{[]string{"ref", "get", "put", "atomic", "hold"}, refRE}
	userCopyPat = pat{[]string{"user", "_iter(", "nla_put", "read_from_buffer"}, userCopyRE}
	inputPat    = pat{[]string{"_to_cpu", "unaligned", "skb", "nla_", "nlmsg_", "user", "_iter", "len", "size", "count", "num", "cnt", "off"}, inputRE}
)

// hasComparison reports whether cmpRE matches l, without running it.
func hasComparison(l string) bool {
	return strings.ContainsAny(l, "<>") || strings.Contains(l, "!=") || strings.Contains(l, "==")
}

// readsInput reports whether a hunk's code reads input another party
// controls (inputRE) in its added, removed or context lines.
func readsInput(h patch.Hunk) bool {
	for _, ls := range [][]string{h.Added, h.Removed, h.Context} {
		for _, l := range ls {
			if code(l) && inputPat.match(l, strings.ToLower(l)) {
				return true
			}
		}
	}
	return false
}

// code reports whether a line is code rather than a comment.
func code(l string) bool {
	t := strings.TrimSpace(l)
	return t != "" && !strings.HasPrefix(t, "/*") && !strings.HasPrefix(t, "*") && !strings.HasPrefix(t, "//")
}

// ShapeOf describes the diffs of a patch mail.
func ShapeOf(ps []patch.Patch) Shape {
	var s Shape
	funcs := map[string]bool{}
	paths := map[string]bool{}
	var lockAdd, lockDel, freeAdd, freeDel bool
	for _, p := range ps {
		for _, f := range p.Files {
			path := f.Path()
			if !paths[path] {
				paths[path] = true
				s.Files++
			}
			kernel := kernelSource(path)
			if kernel {
				s.KernelCode = true
			}
			s.Lines += f.Added + f.Removed
			if !kernel || !(strings.HasSuffix(path, ".c") || strings.HasSuffix(path, ".h") || strings.HasSuffix(path, ".rs")) {
				continue
			}
			zero, copyOut := false, false
			for _, h := range f.Hunks {
				if m := hunkFuncRE.FindStringSubmatch(h.Header); m != nil && len(m[1]) > 2 {
					funcs[m[1]] = true
				}
				bound := false
				for _, l := range h.Added {
					if !code(l) {
						continue
					}
					lo := strings.ToLower(l)
					// Once bound, a hunk's other lines change nothing here.
					if !bound && hasComparison(l) && ifPat.match(l, lo) && lengthRE.MatchString(l) {
						s.BoundsCheck, bound = true, true
					}
					s.NullCheck = s.NullCheck || nullPat.match(l, lo)
					s.ErrorExit = s.ErrorExit || errExitPat.match(l, lo)
					s.OverflowHelp = s.OverflowHelp || overflowPat.match(l, lo)
					lockAdd = lockAdd || lockPat.match(l, lo)
					freeAdd = freeAdd || freePat.match(l, lo)
					s.Nospec = s.Nospec || nospecPat.match(l, lo)
					zero = zero || zeroPat.match(l, lo)
					s.Refcount = s.Refcount || refPat.match(l, lo)
					if !copyOut && userCopyPat.match(l, lo) {
						s.UserCopy, copyOut = true, true
					}
				}
				for _, l := range h.Removed {
					if !code(l) {
						continue
					}
					lo := strings.ToLower(l)
					lockDel = lockDel || lockPat.match(l, lo)
					freeDel = freeDel || freePat.match(l, lo)
					s.Refcount = s.Refcount || refPat.match(l, lo)
					if !copyOut && userCopyPat.match(l, lo) {
						s.UserCopy, copyOut = true, true
					}
				}
				if bound && !s.InputCheck {
					s.InputCheck = readsInput(h)
				}
				if !copyOut {
					for _, l := range h.Context {
						if userCopyPat.match(l, strings.ToLower(l)) {
							s.UserCopy, copyOut = true, true
							break
						}
					}
				}
			}
			if zero {
				s.ZeroInit = true
				if copyOut {
					s.ZeroCopyOut = true
				}
			}
		}
	}
	s.LockAdded = lockAdd
	s.LockMoved = lockAdd && lockDel
	s.FreeReorder = freeAdd && freeDel
	s.FreeAdded = freeAdd && !freeDel
	s.FreeRemoved = freeDel && !freeAdd
	for f := range funcs {
		s.Functions = append(s.Functions, f)
	}
	sort.Strings(s.Functions)
	for p := range paths {
		s.Paths = append(s.Paths, p)
	}
	sort.Strings(s.Paths)
	return s
}
