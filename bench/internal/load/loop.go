package load

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"golang.org/x/sys/unix"
)

// Epoll user data for the loop's own descriptors (connections use their slot).
const (
	idEventfd = -1
	idTimerfd = -2
)

// Histogram range: 1 ns to 100 s, three significant digits.
const histMax = int64(100 * time.Second)

// target is a connection to open: the index of the connection (echo and idle
// modes) or of the worker (connect mode), and how many attempts failed so far.
type target struct {
	index   int32
	attempt uint32
}

// loop is one client event loop: an epoll instance, the connections it owns,
// their timers, a read buffer shared by all of them, and its own counters and
// histogram. Everything but execute runs on the loop's goroutine.
type loop struct {
	r    *runner
	idx  int
	epfd int
	evfd int // eventfd: execute wakes the loop
	tfd  int // timerfd: the earliest timer wakes the loop

	events []unix.EpollEvent
	buf    []byte // read buffer, valid during one consume call
	slots  []*conn
	free   []int32
	timers timerHeap
	armed  int64 // deadline the timerfd is set to; 0: disarmed

	mu    sync.Mutex
	tasks []func()
	spare []func()

	rng  *rand.Rand // handshake keys
	hist *hdrhistogram.Histogram
	st   stats

	todo       []target // waiting for a pending-handshake slot
	pending    int      // connects and handshakes in progress
	maxPending int
	srcNext    int
	pumping    bool

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
	maxLat              int64
}

func newLoop(r *runner, idx int, seed [32]byte) (*loop, error) {
	l := &loop{
		r:          r,
		idx:        idx,
		epfd:       -1,
		evfd:       -1,
		tfd:        -1,
		events:     make([]unix.EpollEvent, 1024),
		buf:        make([]byte, r.cfg.ReadBuffer),
		rng:        rand.New(rand.NewChaCha8(seed)),
		hist:       hdrhistogram.New(1, histMax, 3),
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
	if l.tfd, err = unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC); err != nil {
		l.closeFds()
		return nil, fmt.Errorf("load: timerfd_create: %v", err)
	}
	for _, fe := range [][2]int{{l.evfd, idEventfd}, {l.tfd, idTimerfd}} {
		ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(fe[1])}
		if err = unix.EpollCtl(l.epfd, unix.EPOLL_CTL_ADD, fe[0], &ev); err != nil {
			l.closeFds()
			return nil, fmt.Errorf("load: epoll_ctl: %v", err)
		}
	}
	return l, nil
}

func (l *loop) closeFds() {
	for _, fd := range []int{l.epfd, l.evfd, l.tfd} {
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
		n, err := unix.EpollWait(l.epfd, l.events, -1)
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
			case idTimerfd:
				var b [8]byte
				unix.Read(l.tfd, b[:])
				l.armed = 0
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

// runTimers fires due timers and re-arms the timerfd for the earliest one left.
func (l *loop) runTimers() {
	l.now = l.clock()
	for len(l.timers) > 0 && l.timers[0].at <= l.now {
		t := l.timers.pop()
		l.fire(t)
		if l.quit {
			return
		}
	}
	if len(l.timers) == 0 {
		return
	}
	at := l.timers[0].at
	if l.armed != 0 && l.armed <= at {
		return
	}
	d := max(at-l.now, 1000)
	spec := unix.ItimerSpec{Value: unix.NsecToTimespec(d)}
	if err := unix.TimerfdSettime(l.tfd, 0, &spec, nil); err == nil {
		l.armed = at
	}
}

func (l *loop) fire(t timer) {
	if t.kind == timerRetry {
		l.todo = append(l.todo, target{index: t.id, attempt: t.tok})
		l.pump()
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
		c.finish(true)
	}
}

// addTimer schedules a timer; it fires from runTimers, after the current events.
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
	c.hs, c.ctl, c.cbuf, c.times = nil, nil, nil, nil
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
			l.r.workers.Add(-1)
			continue
		}
		l.dial(t)
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

// record adds one latency sample to the loop's histogram.
func (l *loop) record(lat int64) {
	if lat < 1 {
		lat = 1
	}
	if lat > l.st.maxLat {
		l.st.maxLat = lat
	}
	if lat > histMax {
		lat = histMax
	}
	l.hist.RecordValue(lat)
}
