//go:build linux

package load

// The loop side of each mode: what a connection does when nothing is
// outstanding, and the tasks the coordinator runs on each loop between phases.
// Loop goroutine only.

// onIdle runs when a connection's last outstanding echo arrived. It reports
// whether the connection is still alive.
func (l *loop) onIdle(c *conn) bool {
	switch {
	case l.r.cfg.Mode == ModeConnect:
		c.echoed = true
		c.startClose()
	case c.checking:
		c.checking = false
		c.dtok++
		l.r.checked.Add(1)
		if l.draining {
			c.startClose()
		}
	case l.draining:
		c.startClose()
	case l.sending && l.r.cfg.Rate == 0:
		return c.sendMessages(l.r.fs.k)
	}
	return c.state != stDone
}

// connectTargets queues connections (echo, idle) or workers (connect) to open.
func (l *loop) connectTargets(indexes []int32) {
	for _, i := range indexes {
		l.todo = append(l.todo, target{index: i})
	}
	l.pump()
}

// startTraffic starts echo traffic on every open connection: closed loop
// writes each connection's K frames; fixed rate schedules each connection's
// first send at t0 plus its share of the period, so sends spread evenly over
// time and connections.
func (l *loop) startTraffic(t0 int64) {
	l.now = l.clock()
	l.sending = true
	r := l.r
	for _, c := range l.slots {
		if c == nil || c.state != stOpen {
			continue
		}
		if r.cfg.Rate > 0 {
			c.times = make([]int64, 8)
			c.phase = t0 + int64(float64(c.target.index)/float64(r.cfg.Conns)*r.period)
			l.addTimer(timer{at: c.phase, id: c.id, gen: c.gen, kind: timerSend})
		} else {
			l.now = l.clock()
			c.sendMessages(r.fs.k)
		}
	}
	l.runTimers()
}

// check marks every open connection for an echo check (idle mode) and returns
// how many; each check ends by echo, error or deadline, counted in r.checked.
// The messages go out checkBurst at a time between rounds of events, so the
// echoes of the first are read (and timed) while the rest are being sent.
func (l *loop) check() int {
	l.checkTodo = l.checkTodo[:0]
	for _, c := range l.slots {
		if c == nil || c.state != stOpen {
			continue
		}
		c.checking = true
		l.checkTodo = append(l.checkTodo, timer{id: c.id, gen: c.gen})
	}
	l.checkSome()
	return len(l.checkTodo)
}

const checkBurst = 64

// checkSome sends the next burst of check messages and schedules the next burst.
func (l *loop) checkSome() {
	for i := 0; i < checkBurst && l.checkNext < len(l.checkTodo); i++ {
		t := l.checkTodo[l.checkNext]
		l.checkNext++
		c := l.slots[t.id]
		if c.gen != t.gen || c.state != stOpen {
			continue
		}
		l.now = l.clock()
		c.setDeadline(l.r.cfg.Timeout)
		c.sendMessages(1)
	}
	if l.checkNext < len(l.checkTodo) {
		l.addTimer(timer{at: l.now, kind: timerCheck})
	} else {
		l.checkTodo, l.checkNext = l.checkTodo[:0], 0
	}
}

// drain stops new sends; each connection closes once its outstanding echoes
// are back, or fails at its deadline.
func (l *loop) drain() {
	l.now = l.clock()
	l.sending = false
	l.draining = true
	for _, c := range l.slots {
		if c == nil || c.state != stOpen {
			continue
		}
		if c.rseq == c.iseq {
			c.startClose()
		} else {
			c.setDeadline(l.r.cfg.Timeout)
		}
	}
	l.runTimers()
}

// stopWorkers ends connect mode: cycles in progress finish, none start.
func (l *loop) stopWorkers() {
	l.stopping = true
	for _, t := range l.todo {
		l.dropWorker(t)
	}
	l.todo = nil
}
