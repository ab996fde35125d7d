package regfile

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

func TestOpenDoesNotBlockOnFIFO(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "x.json")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	f, fi, err := Open(fifo) // would block for ever without O_NONBLOCK
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := Kind(fi.Mode()); got != "a FIFO" {
		t.Errorf("Kind = %q, want a FIFO", got)
	}
	reg := filepath.Join(dir, "m")
	if err := os.WriteFile(reg, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	f2, fi2, err := Open(reg)
	if err != nil {
		t.Fatal(err)
	}
	f2.Close()
	if !fi2.Mode().IsRegular() {
		t.Errorf("%s: mode %v, want regular", reg, fi2.Mode())
	}
	if got := Kind(fi2.Mode() | os.ModeDir); got != "a directory" {
		t.Errorf("Kind(dir) = %q", got)
	}
}
