package mbox

import (
	"io"
	"net"
	"sync"
	"testing"
)

// CutProxy forwards TCP connections to a server and can cut the
// connection in the middle of a server answer, to test reconnects. It is
// exported for the external Dovecot tests.
type CutProxy struct {
	ln     net.Listener
	target string

	mu     sync.Mutex
	armed  bool
	left   int64 // server bytes still forwarded before the cut
	cuts   int
	conns  int
	active map[net.Conn]bool
	wg     sync.WaitGroup
}

// NewCutProxy listens on 127.0.0.1 and forwards to target until the test
// ends.
func NewCutProxy(t testing.TB, target string) *CutProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &CutProxy{ln: ln, target: target, active: map[net.Conn]bool{}}
	p.wg.Add(1)
	go p.accept()
	t.Cleanup(p.close)
	return p
}

// Addr is the proxy's HOST:PORT.
func (p *CutProxy) Addr() string { return p.ln.Addr().String() }

// CutAfter arms a single cut: after n more bytes from the server (on any
// connection) both ends of that connection are closed.
func (p *CutProxy) CutAfter(n int64) {
	p.mu.Lock()
	p.armed, p.left = true, n
	p.mu.Unlock()
}

// Cuts is how many connections were cut; Conns how many were accepted.
func (p *CutProxy) Cuts() int  { p.mu.Lock(); defer p.mu.Unlock(); return p.cuts }
func (p *CutProxy) Conns() int { p.mu.Lock(); defer p.mu.Unlock(); return p.conns }

func (p *CutProxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns++
		p.active[c], p.active[s] = true, true
		p.mu.Unlock()
		p.wg.Add(2)
		go func() { defer p.wg.Done(); io.Copy(s, c); s.Close(); c.Close() }()
		go func() { defer p.wg.Done(); p.down(c, s) }()
	}
}

// down copies server → client, cutting when armed.
func (p *CutProxy) down(c, s net.Conn) {
	defer func() {
		c.Close()
		s.Close()
		p.mu.Lock()
		delete(p.active, c)
		delete(p.active, s)
		p.mu.Unlock()
	}()
	buf := make([]byte, 32<<10)
	for {
		n, err := s.Read(buf)
		if n > 0 {
			p.mu.Lock()
			send, cut := n, false
			if p.armed {
				if int64(n) >= p.left {
					send, cut = int(p.left), true
					p.armed = false
					p.cuts++
				} else {
					p.left -= int64(n)
				}
			}
			p.mu.Unlock()
			if _, werr := c.Write(buf[:send]); werr != nil || cut {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (p *CutProxy) close() {
	p.ln.Close()
	p.mu.Lock()
	for c := range p.active {
		c.Close()
	}
	p.mu.Unlock()
	p.wg.Wait()
}
