package handoff

import (
	"bytes"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// fakeSource holds n socketpairs: it hands over one end of each (the
// "connection") and keeps the other (the "client").
type fakeSource struct {
	t        *testing.T
	conns    []int // server ends not yet detached
	clients  []int
	listener int
	resumed  []int
	accept   bool
	mu       sync.Mutex
}

func newFakeSource(t *testing.T, n int) *fakeSource {
	s := &fakeSource{t: t, accept: true}
	for i := 0; i < n; i++ {
		p, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM, 0) // no exec in this test: close-on-exec is not needed (and macOS has no SOCK_CLOEXEC)
		if err != nil {
			t.Fatal(err)
		}
		s.conns = append(s.conns, p[0])
		s.clients = append(s.clients, p[1])
	}
	l, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM, 0) // no exec in this test: close-on-exec is not needed (and macOS has no SOCK_CLOEXEC)
	if err != nil {
		t.Fatal(err)
	}
	s.listener = l
	t.Cleanup(func() { CloseFDs(s.clients); CloseFDs(s.conns); CloseFDs(s.resumed); unix.Close(l) })
	return s
}

func (s *fakeSource) Listeners() ([]int, error) {
	fd, err := unix.Dup(s.listener)
	return []int{fd}, err
}
func (s *fakeSource) StopAccepting() error   { s.accept = false; return nil }
func (s *fakeSource) ResumeAccepting() error { s.accept = true; return nil }
func (s *fakeSource) Detach(max int) ([]int, [][]byte, int, error) {
	n := min(max, len(s.conns))
	fds := s.conns[:n:n]
	s.conns = s.conns[n:]
	var recs [][]byte
	for _, fd := range fds {
		recs = append(recs, []byte(fmt.Sprintf("state of %d", fd)))
	}
	return fds, recs, 0, nil
}
func (s *fakeSource) Resume(fds []int, _ [][]byte) { s.resumed = append(s.resumed, fds...) }

type fakeSink struct {
	listened []int
	adopted  []int
	recs     [][]byte
	refuse   int // refuse the batch number refuse (1-based); 0 never
	batches  int
}

func (k *fakeSink) Listen(fds []int) error { k.listened = fds; return nil }
func (k *fakeSink) Check(recs [][]byte) error {
	k.batches++
	if k.batches == k.refuse {
		return errors.New("refused by test")
	}
	return nil
}
func (k *fakeSink) Adopt(fds []int, recs [][]byte) {
	k.adopted = append(k.adopted, fds...)
	for _, r := range recs {
		k.recs = append(k.recs, append([]byte(nil), r...))
	}
}

func exchange(t *testing.T, src *fakeSource, sink *fakeSink, takeVersion int) (GiveResult, error, TakeResult, error) {
	t.Helper()
	a, bf, err := Pair()
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := FromFD(int(bf.Fd()))
	if err != nil {
		t.Fatal(err)
	}
	defer bf.Close()
	var tr TakeResult
	var terr error
	done := make(chan struct{})
	go func() {
		defer close(done)
		tr, terr = Take(b, sink, TakeOptions{StateVersion: takeVersion, Timeout: 5 * time.Second})
	}()
	aborted := 0
	gr, gerr := Give(a, src, GiveOptions{StateVersion: 1, ReadyTimeout: 5 * time.Second, AckTimeout: 5 * time.Second,
		Abort: func() { aborted++; <-done }})
	<-done
	if gerr != nil && aborted != 1 && !errors.Is(gerr, ErrRefused) {
		t.Errorf("Give failed (%v) with Abort called %d times; want once", gerr, aborted)
	}
	return gr, gerr, tr, terr
}

// TestGiveTake hands 600 connections (3 batches) over and checks every
// descriptor arrived as the same socket with its record, in order.
func TestGiveTake(t *testing.T) {
	src := newFakeSource(t, 600)
	clients := append([]int(nil), src.clients...)
	sink := &fakeSink{}
	gr, gerr, tr, terr := exchange(t, src, sink, 1)
	if gerr != nil || terr != nil {
		t.Fatalf("Give: %v; Take: %v", gerr, terr)
	}
	if gr.HandedOver != 600 || tr.Adopted != 600 || tr.HandedOver != 600 || tr.LongestWait != gr.LongestWait || gr.Batches != 3 || len(sink.listened) != 1 || src.accept {
		t.Fatalf("Give %+v, Take %+v, listeners %v, accepting %v", gr, tr, sink.listened, src.accept)
	}
	for i, fd := range sink.adopted {
		msg := []byte(fmt.Sprint("hello ", i))
		if _, err := unix.Write(clients[i], msg); err != nil {
			t.Fatal(err)
		}
		buf := make([]byte, 64)
		n, err := unix.Read(fd, buf)
		if err != nil || !bytes.Equal(buf[:n], msg) {
			t.Fatalf("connection %d: read %q, %v; want %q", i, buf[:n], err, msg)
		}
		if !bytes.HasPrefix(sink.recs[i], []byte("state of ")) {
			t.Fatalf("record %d = %q", i, sink.recs[i])
		}
		unix.Close(fd)
	}
}

// TestGiveResumesOnNack: the second batch is refused; the connections of
// that batch are resumed (the first batch's stay handed over), accepting
// resumes, and Give reports the refusal.
func TestGiveResumesOnNack(t *testing.T) {
	src := newFakeSource(t, 600)
	sink := &fakeSink{refuse: 2}
	gr, gerr, _, terr := exchange(t, src, sink, 1)
	if !errors.Is(gerr, ErrRefused) || terr == nil {
		t.Fatalf("Give: %v; Take: %v; want both to fail", gerr, terr)
	}
	if gr.HandedOver != 250 || len(src.resumed) != 250 || !src.accept {
		t.Fatalf("handed over %d, resumed %d, accepting %v; want 250, 250, true", gr.HandedOver, len(src.resumed), src.accept)
	}
	CloseFDs(sink.adopted)
}

// TestTakeRefusesVersion: a new process that reads another state version
// refuses at the Offer; nothing is taken, the old keeps accepting.
func TestTakeRefusesVersion(t *testing.T) {
	src := newFakeSource(t, 10)
	sink := &fakeSink{}
	gr, gerr, _, terr := exchange(t, src, sink, 2)
	if !errors.Is(gerr, ErrRefused) || !errors.Is(terr, ErrRefused) {
		t.Fatalf("Give: %v; Take: %v; want ErrRefused from both", gerr, terr)
	}
	if gr.HandedOver != 0 || len(src.conns) != 10 || !src.accept || sink.listened != nil {
		t.Fatalf("after a refusal: %+v, %d conns left, accepting %v", gr, len(src.conns), src.accept)
	}
}

// TestRecvLargeMessage: a body larger than one packet arrives whole.
func TestRecvLargeMessage(t *testing.T) {
	a, bf, err := Pair()
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	defer bf.Close()
	b, _ := FromFD(int(bf.Fd()))
	big := bytes.Repeat([]byte("0123456789"), 50000)
	go a.Send(9, big, nil, 5*time.Second)
	kind, body, _, err := b.Recv(nil, 5*time.Second)
	if err != nil || kind != 9 || !bytes.Equal(body, big) {
		t.Fatalf("Recv = %d, %d bytes, %v; want 9, %d bytes", kind, len(body), err, len(big))
	}
	if _, _, _, err := b.Recv(nil, 50*time.Millisecond); !errors.Is(err, ErrTimeout) {
		t.Fatalf("Recv with nothing sent = %v; want ErrTimeout", err)
	}
}
