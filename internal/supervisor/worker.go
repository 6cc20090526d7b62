package supervisor

import (
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// EnvWorker is the environment variable that tells a process it is worker
// i of a Supervisor, as a decimal index from 0.
const EnvWorker = "WSREACTOR_WORKER"

// linkFD is the descriptor number of the parent link in a worker
// (exec.Cmd.ExtraFiles[0]).
const linkFD = 3

// Link is a worker's side of the connection to its parent. Its methods are
// safe from any goroutine.
type Link struct {
	index    int
	f        *os.File
	gone     chan struct{}
	once     sync.Once
	handoffs chan int
}

// Attach reports whether this process is a worker (EnvWorker is set) and, if
// so, returns its link to the parent. It starts watching the link at once:
// Gone is closed when the parent exits, however it exits. It also ignores
// SIGPIPE, so that once the parent is gone, writes to stdout and stderr
// (pipes to the dead parent) fail with EPIPE instead of killing the worker
// before it has drained its clients. Call it once, early in main.
func Attach() (*Link, bool, error) {
	v, ok := os.LookupEnv(EnvWorker)
	if !ok {
		return nil, false, nil
	}
	i, err := strconv.Atoi(v)
	if err != nil || i < 0 {
		return nil, true, fmt.Errorf("supervisor: %s=%q: want a worker index from 0", EnvWorker, v)
	}
	syscall.SetNonblock(linkFD, true) // read it in the poller, not on a thread
	f := os.NewFile(linkFD, "supervisor-link")
	if f == nil {
		return nil, true, fmt.Errorf("supervisor: %s=%q but no parent link on descriptor %d", EnvWorker, v, linkFD)
	}
	syscall.CloseOnExec(linkFD)
	signal.Ignore(syscall.SIGPIPE)
	l := &Link{index: i, f: f, gone: make(chan struct{}), handoffs: make(chan int, 4)}
	go l.watch()
	return l, true, nil
}

// Index is the worker's index, 0 to the number of workers - 1.
func (l *Link) Index() int { return l.index }

// Ready tells the parent the worker serves (it listens). The parent counts
// a worker that exits before Ready as one that failed to start.
func (l *Link) Ready() error {
	if _, err := l.f.Write([]byte{readyByte}); err != nil {
		return fmt.Errorf("supervisor: telling the parent we are ready: %w", err)
	}
	return nil
}

// HandOverFailed tells the parent that a hand-over it asked for (a
// descriptor from Handoffs) failed and this worker serves on.
func (l *Link) HandOverFailed() error {
	if _, err := l.f.Write([]byte{failedByte}); err != nil {
		return fmt.Errorf("supervisor: telling the parent the hand-over failed: %w", err)
	}
	return nil
}

// Gone is closed when the parent has exited (the link reads end-of-file or
// fails): the worker should then shut down as on SIGTERM.
func (l *Link) Gone() <-chan struct{} { return l.gone }

// Handoffs delivers the descriptors the parent sends with
// Supervisor.HandOver: each is the old side's end of a handoff channel to
// this worker's replacement, to hand every connection over to and then
// exit with status 0 (or, if that fails, say HandOverFailed and serve on).
// The descriptors are close-on-exec and the receiver's.
func (l *Link) Handoffs() <-chan int { return l.handoffs }

// watch reads the link until it ends. The parent writes to it only to hand
// over a descriptor (handoffByte with SCM_RIGHTS), so a read otherwise
// returns only at the parent's exit.
func (l *Link) watch() {
	defer l.once.Do(func() { close(l.gone) })
	rc, err := l.f.SyscallConn()
	if err != nil {
		return
	}
	var b [16]byte
	oob := make([]byte, unix.CmsgSpace(4*4))
	for {
		var n, oobn int
		var rerr error
		err := rc.Read(func(fd uintptr) bool {
			n, oobn, rerr = recvLink(int(fd), b[:1], oob)
			return rerr != unix.EAGAIN
		})
		if err != nil || rerr != nil || n == 0 { // end-of-file, or the link broke
			return
		}
		fds := rights(oob[:oobn])
		if b[0] == handoffByte && len(fds) == 1 {
			l.handoffs <- fds[0]
			continue
		}
		for _, fd := range fds { // nothing we asked for
			unix.Close(fd)
		}
	}
}

// rights returns the descriptors passed in a control message.
func rights(oob []byte) []int {
	msgs, err := unix.ParseSocketControlMessage(oob)
	if err != nil {
		return nil
	}
	var fds []int
	for _, m := range msgs {
		got, err := unix.ParseUnixRights(&m)
		if err == nil {
			fds = append(fds, got...)
		}
	}
	return fds
}

// What a worker and its parent write on the link.
const (
	readyByte   = 'R' // worker: it serves
	failedByte  = 'F' // worker: the hand-over asked for failed; it serves on
	handoffByte = 'U' // parent: hand over to the peer of the descriptor attached
)
