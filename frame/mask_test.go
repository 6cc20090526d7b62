package frame

import (
	"bytes"
	"testing"
)

// TestMaskAgainstPlainLoop checks the fast Mask against the obvious loop of
// RFC 6455 §5.3 for every length 0..100, every key offset (including ones
// past 3), several keys, and unaligned starts inside a buffer.
func TestMaskAgainstPlainLoop(t *testing.T) {
	keys := [][4]byte{{0, 0, 0, 0}, {1, 2, 3, 4}, key1, key2, {0xff, 0xff, 0xff, 0xff}}
	for _, key := range keys {
		for n := 0; n <= 100; n++ {
			for pos := 0; pos < 8; pos++ {
				for start := 0; start < 3; start++ {
					buf := seq(start + n + 3)
					want := bytes.Clone(buf)
					maskPlain(key, pos, want[start:start+n])
					if next := Mask(key, pos, buf[start:start+n]); next != (pos+n)&3 {
						t.Fatalf("Mask(%v, %d, %d bytes) = %d; want %d", key, pos, n, next, (pos+n)&3)
					}
					if !bytes.Equal(buf, want) {
						t.Fatalf("Mask(%v, %d, %d bytes at %d) =\n%x; want\n%x", key, pos, n, start, buf, want)
					}
				}
			}
		}
	}
}

// TestMaskChained checks that masking in pieces, passing on the returned
// offset, equals masking whole, for every split of a 100-byte buffer.
func TestMaskChained(t *testing.T) {
	whole := seq(100)
	Mask(key1, 0, whole)
	for a := 0; a <= 100; a++ {
		for b := a; b <= 100; b += 7 {
			buf := seq(100)
			pos := Mask(key1, 0, buf[:a])
			pos = Mask(key1, pos, buf[a:b])
			Mask(key1, pos, buf[b:])
			if !bytes.Equal(buf, whole) {
				t.Fatalf("Mask split at %d and %d differs from whole", a, b)
			}
		}
	}
}

// TestMaskInvolution: masking twice restores the data (§5.3: "the same
// algorithm applies regardless of the direction of the translation").
func TestMaskInvolution(t *testing.T) {
	buf := seq(1000)
	Mask(key2, 3, buf)
	Mask(key2, 3, buf)
	if !bytes.Equal(buf, seq(1000)) {
		t.Fatal("Mask twice did not restore the data")
	}
}
