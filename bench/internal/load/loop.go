//go:build linux

package load

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"time"
	"unsafe"

	"github.com/HdrHistogram/hdrhistogram-go"
	"golang.org/x/sys/unix"
)

// Epoll user data of the loop's eventfd (connections use their slot).
const idEventfd = -1

// Histogram range: 1 ns to 100 s, three significant digits.
const histMax = int64(100 * time.Second)

// target is a connection to open: the index of the connection (echo and idle
// modes) or of the worker (connect mode), and how many attempts failed so far.
type target struct {
	index   int32
	attempt uint32
}

// loop is one client event loop: an epoll instance, the connections it owns,
// their timers (the earliest one bounds each epoll wait), a read buffer shared
// by all of them, and its own counters and histogram. Everything but execute
// runs on the loop's goroutine.
type loop struct {
	r    *runner
	idx  int
	epfd int
	evfd int // eventfd: execute wakes the loop

	events []unix.EpollEvent
	buf    []byte // read buffer, valid during one consume call
	slots  []*conn
	free   []int32
	timers timerHeap
	pwait2 bool          // epoll_pwait2 works (nanosecond timeouts)
	busy   bool          // the last wait returned events: poll once more before blocking
	ts     unix.Timespec // epoll_pwait2 timeout

	mu    sync.Mutex
	tasks []func()
	spare []func()

	rng    *rand.Rand // handshake keys
	hist   *hdrhistogram.Histogram
	runLat int64 // pending run of equal latency samples, see record
	runN   int64
	st     stats
	zin    *inflater // permessage-deflate: decoder for compressed echoes (made on first use)

	checkTodo  []timer // idle mode: connections (id, gen) to check
	checkNext  int
	todo       []target // waiting for a pending-handshake slot
	pending    int      // connects and handshakes in progress
	maxPending int
	srcNext    int
	pumping    bool
	lastRetry  error // the last transient failure that was retried

	now  int64 // loop clock at the current read or timer (ns since run start)
	meas bool  // measuring, as seen at the current read

	sending  bool // traffic running: closed loop sends batches, fixed rate sends on its timers
	draining bool // closing: connections close once their outstanding echoes arrive
	stopping bool // connect mode: workers start no new cycle
	quit     bool
	done     chan struct{}
}

// stats are a loop's counters; msgs, bytes and cycles count the measured window only.
type stats struct {
	msgs, bytes, cycles int64
	mismatches          int64
	errs                [numKinds]int64
	retries             int64
	lingered            int64 // closes where the server sent its close frame but not its FIN within linger
	maxLat              int64
	wireOut, wireIn     int64 // wire bytes of the messages counted in msgs: their request frames, and the frames of their echoes
	zmsgs               int64 // echoes that came compressed (RSV1) in the measured window
}

func newLoop(r *runner, idx int, seed [32]byte) (*loop, error) {
	l := &loop{
		r:          r,
		idx:        idx,
		epfd:       -1,
		evfd:       -1,
		pwait2:     true,
		events:     make([]unix.EpollEvent, 1024),
		buf:        make([]byte, r.cfg.ReadBuffer),
		rng:        rand.New(rand.NewChaCha8(seed)),
		hist:       newHist(),
		maxPending: max(1, r.cfg.MaxPending/r.cfg.Loops),
		done:       make(chan struct{}),
	}
	var err error
	if l.epfd, err = unix.EpollCreate1(unix.EPOLL_CLOEXEC); err != nil {
		return nil, fmt.Errorf("load: epoll_create1: %v", err)
	}
	if l.evfd, err = unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC); err != nil {
		l.closeFds()
		return nil, fmt.Errorf("load: eventfd: %v", err)
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: idEventfd}
	if err = unix.EpollCtl(l.epfd, unix.EPOLL_CTL_ADD, l.evfd, &ev); err != nil {
		l.closeFds()
		return nil, fmt.Errorf("load: epoll_ctl: %v", err)
	}
	return l, nil
}

func (l *loop) closeFds() {
	for _, fd := range []int{l.epfd, l.evfd} {
		if fd >= 0 {
			unix.Close(fd)
		}
	}
}

// execute queues fn to run on the loop's goroutine. Goroutine-safe.
func (l *loop) execute(fn func()) {
	l.mu.Lock()
	l.tasks = append(l.tasks, fn)
	l.mu.Unlock()
	var one [8]byte
	binary.NativeEndian.PutUint64(one[:], 1)
	unix.Write(l.evfd, one[:])
}

// call runs fn on the loop's goroutine and waits for it. Goroutine-safe, but
// never from the loop itself.
func (l *loop) call(fn func()) {
	ch := make(chan struct{})
	l.execute(func() { fn(); close(ch) })
	select {
	case <-ch:
	case <-l.done:
	}
}

// clock is the loop clock: monotonic nanoseconds since the run started.
func (l *loop) clock() int64 { return int64(time.Since(l.r.base)) }

// run is the loop's goroutine: wait for events, dispatch them, fire due timers.
func (l *loop) run() {
	runtime.LockOSThread()
	defer close(l.done)
	defer l.closeFds()
	for !l.quit {
		timeout := int64(-1)
		switch {
		case l.busy:
			timeout = 0
		case len(l.timers) > 0:
			timeout = max(0, l.timers[0].at-l.clock())
		}
		n, err := l.wait(timeout)
		l.busy = n > 0
		if err != nil {
			if err == unix.EINTR {
				continue
			}
			l.r.note(fmt.Sprintf("load: epoll_wait: %v", err))
			l.abortAll()
			return
		}
		for i := 0; i < n; i++ {
			ev := &l.events[i]
			switch ev.Fd {
			case idEventfd:
				var b [8]byte
				unix.Read(l.evfd, b[:])
				l.runTasks()
			default:
				l.onEvent(ev)
			}
		}
		if len(l.timers) > 0 {
			l.runTimers()
		}
	}
	l.abortAll()
}

func (l *loop) runTasks() {
	l.mu.Lock()
	tasks := l.tasks
	l.tasks = l.spare[:0]
	l.mu.Unlock()
	for i, fn := range tasks {
		fn()
		tasks[i] = nil
	}
	l.mu.Lock()
	l.spare = tasks[:0]
	l.mu.Unlock()
}

func (l *loop) onEvent(ev *unix.EpollEvent) {
	if ev.Fd < 0 || int(ev.Fd) >= len(l.slots) {
		return
	}
	c := l.slots[ev.Fd]
	if c == nil || c.gen != uint32(ev.Pad) || c.state == stDone {
		return
	}
	if c.state == stConnecting {
		if ev.Events&(unix.EPOLLOUT|unix.EPOLLERR|unix.EPOLLHUP) == 0 {
			return
		}
		l.now = l.clock()
		if !c.onConnected() {
			return
		}
	} else if ev.Events&unix.EPOLLOUT != 0 && c.hasOutput() {
		l.now = l.clock()
		if !c.flush() {
			return
		}
	}
	if ev.Events&(unix.EPOLLIN|unix.EPOLLRDHUP|unix.EPOLLHUP|unix.EPOLLERR) != 0 {
		c.onReadable()
	}
}

// wait waits for events up to timeout nanoseconds (negative: no limit).
// epoll_pwait2 (Linux 5.11) takes nanoseconds; plain epoll_wait rounds up
// to milliseconds, so a timer may fire late but never early. A zero timeout
// polls without entering the scheduler's blocking-syscall path.
func (l *loop) wait(timeout int64) (int, error) {
	if timeout == 0 {
		r, _, e := unix.RawSyscall6(unix.SYS_EPOLL_WAIT, uintptr(l.epfd), uintptr(unsafe.Pointer(&l.events[0])), uintptr(len(l.events)), 0, 0, 0)
		if e != 0 {
			return 0, e
		}
		return int(r), nil
	}
	if l.pwait2 {
		var ts *unix.Timespec
		if timeout > 0 {
			l.ts = unix.NsecToTimespec(timeout)
			ts = &l.ts
		}
		r, _, e := unix.Syscall6(unix.SYS_EPOLL_PWAIT2, uintptr(l.epfd), uintptr(unsafe.Pointer(&l.events[0])), uintptr(len(l.events)), uintptr(unsafe.Pointer(ts)), 0, 0)
		if e != unix.ENOSYS {
			if e != 0 {
				return 0, e
			}
			return int(r), nil
		}
		l.pwait2 = false
	}
	ms := -1
	if timeout > 0 {
		ms = int((timeout + 999_999) / 1_000_000)
	}
	return unix.EpollWait(l.epfd, l.events, ms)
}

// runTimers fires the due timers.
func (l *loop) runTimers() {
	l.now = l.clock()
	for len(l.timers) > 0 && l.timers[0].at <= l.now && !l.quit {
		l.fire(l.timers.pop())
	}
}

func (l *loop) fire(t timer) {
	switch t.kind {
	case timerRetry:
		l.todo = append(l.todo, target{index: t.id, attempt: t.tok})
		l.pump()
		return
	case timerCheck:
		l.checkSome()
		return
	}
	c := l.slots[t.id]
	if c == nil || c.gen != t.gen || c.state == stDone {
		return
	}
	switch t.kind {
	case timerSend:
		c.onSendTimer()
	case timerDeadline:
		if t.tok == c.dtok {
			c.onDeadline()
		}
	case timerLinger:
		l.st.lingered++
		c.finish(true)
	}
}

// addTimer schedules a timer; it fires from runTimers, after the current events,
// and bounds the next epoll wait.
func (l *loop) addTimer(t timer) {
	l.timers.push(t)
}

// newConn takes a free slot (reusing its conn) for a connection to target.
func (l *loop) newConn(t target) *conn {
	var c *conn
	if n := len(l.free); n > 0 {
		id := l.free[n-1]
		l.free = l.free[:n-1]
		c = l.slots[id]
		gen := c.gen + 1
		*c = conn{id: id, gen: gen}
	} else {
		c = &conn{id: int32(len(l.slots))}
		l.slots = append(l.slots, c)
	}
	c.l = l
	c.fd = -1
	c.target = t
	fs := l.r.fs
	c.b = fs.batches[int(t.index)%len(fs.batches)]
	return c
}

func (l *loop) freeConn(c *conn) {
	c.state = stDone
	c.gen++
	c.hs, c.ctl, c.cbuf, c.times, c.zbuf, c.hist = nil, nil, nil, nil, nil, nil
	l.free = append(l.free, c.id)
}

// pump starts queued connects while fewer than maxPending are in progress.
func (l *loop) pump() {
	if l.pumping {
		return // a dial that failed at once called back in; the outer pump goes on
	}
	l.pumping = true
	defer func() { l.pumping = false }()
	for l.pending < l.maxPending && len(l.todo) > 0 && !l.quit {
		t := l.todo[0]
		l.todo = l.todo[1:]
		if len(l.todo) == 0 {
			l.todo = l.todo[:0:0]
		}
		if l.r.cfg.Mode == ModeConnect && l.stopping {
			l.dropWorker(t)
			continue
		}
		l.dial(t)
	}
}

// dropWorker ends a connect-mode worker that was waiting to (re)connect when
// the run stopped; one still retrying a failed connect counts as an error.
func (l *loop) dropWorker(t target) {
	l.r.workers.Add(-1)
	if t.attempt > 0 {
		l.st.errs[kindConnect]++
		l.r.note(fmt.Sprintf("load: still retrying at the end of the run after %d attempts: %v", t.attempt, l.lastRetry))
	}
}

// source returns the local address for target t, or false for none.
func (l *loop) source(t target) ([4]byte, bool) {
	src := l.r.sources
	if len(src) == 0 {
		return [4]byte{}, false
	}
	if l.r.cfg.Mode == ModeConnect {
		l.srcNext++
		return src[(l.srcNext+l.idx)%len(src)], true
	}
	return src[int(t.index)%len(src)], true
}

// abortAll closes every connection still open (end of run).
func (l *loop) abortAll() {
	for _, c := range l.slots {
		if c != nil && c.state != stDone && c.fd >= 0 {
			unix.Close(c.fd)
			c.fd = -1
			c.state = stDone
		}
	}
}

func newHist() *hdrhistogram.Histogram { return hdrhistogram.New(1, histMax, 3) }

// record adds n latency samples of lat nanoseconds. Equal samples in a row
// (a batch echoed in one read) become one histogram update in flushRecords.
func (l *loop) record(lat, n int64) {
	lat = min(max(lat, 1), histMax)
	if lat > l.st.maxLat {
		l.st.maxLat = lat
	}
	if lat != l.runLat {
		l.flushRecords()
		l.runLat = lat
	}
	l.runN += n
}

// flushRecords puts the pending run of equal samples into the histogram.
func (l *loop) flushRecords() {
	if l.runN > 0 {
		l.hist.RecordValues(l.runLat, l.runN)
		l.runN = 0
	}
}
