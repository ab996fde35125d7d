package radar

import (
	"testing"
	"unsafe"
)

// TestMailSize: an update holds a mail for every patch posting of the
// store, so its size class is most of the update's heap; 176 bytes is
// the class it fits with what slim postings drop behind two pointers.
func TestMailSize(t *testing.T) {
	if n := unsafe.Sizeof(mail{}); n > 176 {
		t.Errorf("mail is %d bytes, past the 176-byte size class", n)
	}
}
