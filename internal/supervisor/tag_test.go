package supervisor

import (
	"bytes"
	"strings"
	"sync"
	"testing"
)

func TestTagger(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"plain lines", "a\nbc\n", "worker=7 a\nworker=7 bc\n"},
		{"empty line", "\n", "worker=7 \n"},
		{"unfinished last line", "a\nb", "worker=7 a\nworker=7 b\n"},
		{"json record", `{"time":"t","msg":"m"}` + "\n", `{"worker":7,"time":"t","msg":"m"}` + "\n"},
		{"empty json object", "{}\n", `{"worker":7}` + "\n"},
		{"json with space", `{ "a":1}` + "\n", `{"worker":7, "a":1}` + "\n"},
		{"brace later is not json", `x {"a":1}` + "\n", `worker=7 x {"a":1}` + "\n"},
		{"mixed", "text\n{\"a\":1}\n", "worker=7 text\n{\"worker\":7,\"a\":1}\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Whole, and split at every byte: the same lines come out.
			for split := 0; split <= len(tc.in); split++ {
				var out bytes.Buffer
				tg := newTagger(new(sync.Mutex), &out, 7)
				tg.Write([]byte(tc.in[:split]))
				tg.Write([]byte(tc.in[split:]))
				tg.Close()
				if out.String() != tc.want {
					t.Errorf("split at %d: tagged %q = %q; want %q", split, tc.in, out.String(), tc.want)
				}
			}
		})
	}
}

// TestTaggerLongLine: a line longer than maxLine comes out in tagged pieces
// of maxLine bytes; the tagger holds no more than that.
func TestTaggerLongLine(t *testing.T) {
	var out bytes.Buffer
	tg := newTagger(new(sync.Mutex), &out, 0)
	long := strings.Repeat("x", 2*maxLine+10)
	for i := 0; i < len(long); i += 1000 {
		tg.Write([]byte(long[i:min(i+1000, len(long))]))
		if len(tg.buf) > maxLine {
			t.Fatalf("tagger holds %d bytes; want at most %d", len(tg.buf), maxLine)
		}
	}
	tg.Write([]byte("\n"))
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != 3 || len(lines[0]) != len("worker=0 ")+maxLine || len(lines[2]) != len("worker=0 ")+10 {
		t.Errorf("long line came out as %d lines of lengths %d...", len(lines), len(lines[0]))
	}
}

// FuzzTagger: whatever a worker writes, in whatever pieces, the tagged
// output is its lines in order, each with its tag, none over maxLine bytes
// of the worker's own text, and nothing is lost: removing the tags gives
// back the input (a missing final newline added).
func FuzzTagger(f *testing.F) {
	f.Add([]byte("a\nb\n"), uint8(1))
	f.Add([]byte(`{"msg":"x"}`+"\n{}\n{"), uint8(3))
	f.Add([]byte("no newline"), uint8(0))
	f.Add([]byte("\n\n\n"), uint8(2))
	f.Fuzz(func(t *testing.T, in []byte, step uint8) {
		var out bytes.Buffer
		tg := newTagger(new(sync.Mutex), &out, 3)
		n := int(step)%7 + 1
		for i := 0; i < len(in); i += n {
			tg.Write(in[i:min(i+n, len(in))])
		}
		tg.Close()
		var back []byte
		for _, line := range strings.SplitAfter(out.String(), "\n") {
			if line == "" {
				continue
			}
			switch {
			case strings.HasPrefix(line, "worker=3 "):
				line = strings.TrimPrefix(line, "worker=3 ")
			case strings.HasPrefix(line, `{"worker":3,`):
				line = "{" + strings.TrimPrefix(line, `{"worker":3,`)
			case strings.HasPrefix(line, `{"worker":3`):
				line = "{" + strings.TrimPrefix(line, `{"worker":3`)
			default:
				t.Fatalf("untagged line %q", line)
			}
			if len(line) > maxLine+1 {
				t.Fatalf("a tagged line carries %d bytes; want at most %d", len(line)-1, maxLine)
			}
			back = append(back, line...)
		}
		want := in
		if len(want) > 0 && want[len(want)-1] != '\n' {
			want = append(append([]byte{}, want...), '\n')
		}
		long := false
		for _, line := range bytes.Split(want, []byte("\n")) {
			long = long || len(line) > maxLine
		}
		if !long && !bytes.Equal(back, want) || long && !bytes.Equal(stripSplits(back), stripSplits(want)) {
			t.Fatalf("tagged %q, untagged %q; want %q", out.String(), back, want)
		}
	})
}

// stripSplits drops newlines, for comparing output whose long lines were
// cut into pieces (each piece ends with a newline the input did not have).
func stripSplits(b []byte) []byte { return bytes.ReplaceAll(b, []byte("\n"), nil) }
