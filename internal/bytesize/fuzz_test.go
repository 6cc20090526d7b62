package bytesize

import (
	"strconv"
	"testing"
)

// FuzzParse: whatever Parse accepts, Format writes back to the same value,
// and a plain number of bytes reads as strconv.ParseInt reads it.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"0", "1048576", "512KiB", "64 MiB", "1.5GiB", "64MB", "-1", "0.3KiB", "7EiB", "8EiB", ".5kib", "1e6"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, err := Parse(s)
		if err != nil {
			return
		}
		if n < 0 {
			t.Fatalf("Parse(%q) = %d; negative", s, n)
		}
		back, err := Parse(Format(n))
		if err != nil || back != n {
			t.Fatalf("Parse(Format(Parse(%q) = %d) = %q) = %d, %v; want %d", s, n, Format(n), back, err, n)
		}
		if m, err := strconv.ParseInt(s, 10, 64); err == nil && m >= 0 && m != n {
			t.Fatalf("Parse(%q) = %d; strconv.ParseInt says %d", s, n, m)
		}
	})
}

// FuzzFormat: every size survives Format then Parse.
func FuzzFormat(f *testing.F) {
	for _, n := range []int64{0, 1, 1023, 1024, 1536, 64 << 20, 1 << 62, 1<<63 - 1} {
		f.Add(n)
	}
	f.Fuzz(func(t *testing.T, n int64) {
		if n < 0 {
			n = -(n + 1) // every non-negative value, MaxInt64 included
		}
		s := Format(n)
		back, err := Parse(s)
		if err != nil || back != n {
			t.Fatalf("Parse(Format(%d) = %q) = %d, %v", n, s, back, err)
		}
	})
}
