package proxyproto

import (
	"strings"
	"testing"
)

// FuzzParser feeds arbitrary bytes to a Parser, whole and in chunks of a
// fuzz-chosen size, and checks that:
//   - it never panics, and never reads past what it was given;
//   - the chunked result (end of header, Header, error) equals the whole one;
//   - an error wraps ErrNotProxy or ErrInvalid and starts "proxyproto: ";
//   - an accepted header, written again with AppendHeader in its version,
//     parses to the same Header (what a version 2 header skips, TLVs and
//     addresses of a LOCAL command, is not written again).
//
// The seed corpus is committed in testdata/fuzz/FuzzParser.
func FuzzParser(f *testing.F) {
	for _, c := range ppCases() {
		f.Add(c.in, uint16(len(c.in)/3))
	}
	f.Fuzz(func(t *testing.T, data []byte, chunk uint16) {
		whole := ppFeed(data, max(len(data), 1))
		size := int(chunk)%max(len(data), 1) + 1
		if got := ppFeed(data, size); got != whole {
			t.Fatalf("Feed(%q) in chunks of %d:\n got %+v\nwant %+v (whole)", data, size, got, whole)
		}
		if whole.err != "" {
			if whole.is == nil || !strings.HasPrefix(whole.err, "proxyproto: ") {
				t.Fatalf("Feed(%q) error %q: want one wrapping ErrNotProxy or ErrInvalid", data, whole.err)
			}
			return
		}
		if whole.end < 0 {
			if len(data) > MaxV1Length && data[0] == 'P' {
				t.Fatalf("Feed(%q): a version 1 line longer than %d bytes neither ended nor failed", data, MaxV1Length)
			}
			return
		}
		if whole.end > len(data) {
			t.Fatalf("Feed(%q) ended at %d, past the input", data, whole.end)
		}
		h := whole.h
		again := AppendHeader(nil, h)
		if got := ppFeed(again, len(again)); got.err != "" || got.h != h {
			t.Fatalf("Feed(%q) = %+v; written again as %q it parses as %+v", data, h, again, got)
		}
	})
}
