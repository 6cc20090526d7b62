package inflate

import (
	"compress/flate"
	"testing"
)

// TestInflateDoesNotAllocate pins decoding at zero allocations after the
// first Reset and Inflate (which allocates the window): fixed, dynamic and
// stored blocks, fed in pieces, with the window reused across Reset.
func TestInflateDoesNotAllocate(t *testing.T) {
	data := jsonText(16<<10, 31)
	streams := [][]byte{
		compress(t, data, flate.BestSpeed, 4000),
		compress(t, data, flate.NoCompression, 0),
		compress(t, []byte("Hello"), flate.DefaultCompression, 0), // fixed block
		compressWindow(t, data, 10),
	}
	var f Inflater
	out := make([]byte, 1000)
	run := func() {
		for k, s := range streams {
			wb := 15
			if k == 3 {
				wb = 10
			}
			f.Reset(wb)
			for len(s) > 0 {
				piece := s[:min(len(s), 333)]
				s = s[len(piece):]
				for len(piece) > 0 || !f.Final() && k != 3 && len(s) == 0 {
					nOut, nIn, err := f.Inflate(out, piece)
					if err != nil {
						t.Fatal(err)
					}
					piece = piece[nIn:]
					if nOut < len(out) && len(piece) == 0 {
						break
					}
				}
			}
		}
	}
	run() // allocates the window
	if n := testing.AllocsPerRun(20, run); n != 0 {
		t.Errorf("Inflate: %v allocations per run; want 0", n)
	}
}
