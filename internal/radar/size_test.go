package radar

import (
	"testing"
	"unsafe"
)

// TestMailSize: an update holds a mail for every patch posting of the
// store, so its size class is most of the update's heap; 320 bytes is
// the class it fits since its small fields share a word.
func TestMailSize(t *testing.T) {
	if n := unsafe.Sizeof(mail{}); n > 320 {
		t.Errorf("mail is %d bytes, past the 320-byte size class", n)
	}
}
