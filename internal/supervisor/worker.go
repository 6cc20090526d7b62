package supervisor

import (
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"sync"
	"syscall"
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
	index int
	f     *os.File
	gone  chan struct{}
	once  sync.Once
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
	l := &Link{index: i, f: f, gone: make(chan struct{})}
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

// Gone is closed when the parent has exited (the link reads end-of-file or
// fails): the worker should then shut down as on SIGTERM.
func (l *Link) Gone() <-chan struct{} { return l.gone }

// watch reads the link until it ends. The parent never writes to it, so a
// read returns only at the parent's exit.
func (l *Link) watch() {
	var b [16]byte
	for {
		if _, err := l.f.Read(b[:]); err != nil { // io.EOF, or the link broke
			l.once.Do(func() { close(l.gone) })
			return
		}
	}
}

// readyByte is what a worker writes on the link when it is ready.
const readyByte = 'R'
