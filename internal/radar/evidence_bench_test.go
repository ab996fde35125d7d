package radar

import (
	"testing"

	"patchtrail/internal/message"
	"patchtrail/internal/patch"
	"patchtrail/internal/testcorpus"
)

// BenchmarkEvidence reads the evidence of the first 3,000 messages of
// the io-uring epoch (PATCHTRAIL_CORPUS), parsed and analysed beforehand:
// the radar's share of an import's parse workers.
func BenchmarkEvidence(b *testing.B) {
	type parsed struct {
		pm *message.Message
		a  *patch.Analysis
	}
	var msgs []parsed
	testcorpus.Messages(b, func(i int, _ string, raw []byte) {
		if i >= 3000 {
			return
		}
		pm, err := message.Parse(raw, nil)
		if err != nil {
			return
		}
		msgs = append(msgs, parsed{pm, patch.Analyze(pm)})
	})
	b.ResetTimer()
	for range b.N {
		for _, p := range msgs {
			Evidence(p.pm, p.a)
		}
	}
}
