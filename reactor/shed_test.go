package reactor

import (
	"log"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/panjf2000/gnet/v2"
)

// The reactor's handler must implement the patched gnet's optional
// interface, or sheds at the descriptor limit would go uncounted (and the
// build would be on a stock gnet, which stops at the first EMFILE).
var _ gnet.AcceptErrorHandler = (*handler)(nil)

// logLines splits what was logged into lines.
func logLines(s *syncBuffer) []string {
	return strings.FieldsFunc(s.String(), func(r rune) bool { return r == '\n' })
}

// TestShedLogOncePerInterval: every shed and pause is counted, and a flood
// of them gives one log line per ShedLogInterval with the interval's
// counts, not one line per connection; a quiet interval gives none.
func TestShedLogOncePerInterval(t *testing.T) {
	fc := NewFakeClock(time.Unix(0, 0))
	var out syncBuffer
	r := New(WithClock(fc), WithLogger(log.New(&out, "", 0)))
	h := &handler{r: r}

	for range 500 {
		h.OnAcceptError(syscall.EMFILE, 1)
	}
	h.OnAcceptError(syscall.ENFILE, 0)
	if got := r.AcceptStats(); got != (AcceptStats{Shed: 500, Pauses: 1}) {
		t.Fatalf("AcceptStats() = %+v; want 500 shed, 1 pause", got)
	}
	if l := logLines(&out); len(l) != 0 {
		t.Fatalf("logged before the interval ended: %q", l)
	}
	fc.Advance(ShedLogInterval)
	l := logLines(&out)
	want := "reactor: open-file limit reached (accept: too many open files in system): shed 500 connections in the last 1s, listener paused 1 times"
	if len(l) != 1 || l[0] != want {
		t.Fatalf("after one interval, log = %q; want [%q]", l, want)
	}

	for range 3 {
		h.OnAcceptError(syscall.EMFILE, 1)
	}
	fc.Advance(ShedLogInterval / 2)
	h.OnAcceptError(syscall.EMFILE, 1)
	fc.Advance(ShedLogInterval / 2)
	if l := logLines(&out); len(l) != 2 || !strings.Contains(l[1], "shed 4 connections") {
		t.Fatalf("second interval: log = %q; want a second line with 4 shed", l)
	}
	fc.Advance(5 * ShedLogInterval)
	if l := logLines(&out); len(l) != 2 {
		t.Fatalf("quiet intervals logged: %q", l[2:])
	}
	if got := r.AcceptStats().Shed; got != 504 {
		t.Errorf("AcceptStats().Shed = %d; want 504", got)
	}
}
