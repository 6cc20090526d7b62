package reactor

import (
	"io"
	"net"
	"testing"
	"time"
)

// TestHandOver moves a listener and a live connection from one reactor to
// another, as two processes would (descriptors instead of SCM_RIGHTS): the
// client of the moved connection keeps echoing through the second reactor,
// a byte sent while it was detached is not lost, no reset or EOF is seen,
// and new connections are accepted by the second reactor only.
func TestHandOver(t *testing.T) {
	mk := func(tag byte) Factory {
		return FactoryFunc(func(net.Addr) Protocol { return &taggedEcho{tag: tag} })
	}
	a := start(t, mk('a'))
	c := dial(t, a)
	roundTrip(t, c, "hello", "ahello")

	fds, err := a.DupListeners()
	if err != nil || len(fds) != 1 {
		t.Fatalf("DupListeners = %v, %v; want one descriptor", fds, err)
	}
	b := start(t, mk('b'), WithListenerFDs(fds))
	if b.Addr().String() != a.Addr().String() {
		t.Fatalf("second reactor listens on %v; want %v", b.Addr(), a.Addr())
	}
	if err := a.StopAccepting(); err != nil {
		t.Fatal(err)
	}

	// Detach on a's loop; the client sends meanwhile.
	type det struct {
		fd      int
		pending []byte
		err     error
	}
	got := make(chan det, 1)
	a.ForEachProtocol(func(p Protocol) {
		fd, pending, err := Detach(p.(*taggedEcho).Transport)
		got <- det{fd, pending, err}
	})
	d := <-got
	if d.err != nil {
		t.Fatal(d.err)
	}
	if a.Connections() != 0 {
		t.Fatalf("a has %d connections after Detach; want 0", a.Connections())
	}
	if _, err := c.Write([]byte("while detached")); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)
	done := make(chan error, 1)
	moved := &taggedEcho{tag: 'B'}
	made := false
	if err := b.Adopt(d.fd, moved, []byte("[pending]"), func(t Transport) { made = true; moved.Transport = t }, func(err error) { done <- err }); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil || !made {
		t.Fatalf("Adopt: %v, made called: %v", err, made)
	}
	roundTrip(t, c, "", "[pending]Bwhile detached")
	roundTrip(t, c, "again", "Bagain")

	for i := 0; i < 5; i++ {
		n := dial(t, a) // same address
		roundTrip(t, n, "new", "bnew")
		n.Close()
	}
}

type taggedEcho struct {
	BaseProtocol
	tag byte
}

func (e *taggedEcho) DataReceived(data []byte) {
	e.Transport.Write(append([]byte{e.tag}, data...))
}

func roundTrip(t *testing.T, c net.Conn, send, want string) {
	t.Helper()
	if send != "" {
		if _, err := c.Write([]byte(send)); err != nil {
			t.Fatal(err)
		}
	}
	buf := make([]byte, len(want))
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != want {
		t.Fatalf("sent %q, read %q, %v; want %q", send, buf, err, want)
	}
}

// TestStopResumeAccepting: a connection made while the reactor does not
// accept waits in the kernel's backlog and is served once it resumes.
func TestStopResumeAccepting(t *testing.T) {
	r := start(t, FactoryFunc(func(net.Addr) Protocol { return &taggedEcho{tag: 'r'} }))
	if err := r.StopAccepting(); err != nil {
		t.Fatal(err)
	}
	c := dial(t, r)
	c.Write([]byte("x"))
	_ = c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	if n, err := c.Read(make([]byte, 4)); n != 0 || err == nil {
		t.Fatalf("read %d bytes, %v while not accepting; want a timeout", n, err)
	}
	if err := r.ResumeAccepting(); err != nil {
		t.Fatal(err)
	}
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	roundTrip(t, c, "", "rx")
}
