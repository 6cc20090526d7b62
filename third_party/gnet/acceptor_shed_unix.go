// Copyright (c) 2026 The wsreactor Authors. Licensed under the Apache License,
// Version 2.0, like the rest of gnet (see LICENSE).

//go:build darwin || dragonfly || freebsd || linux || netbsd || openbsd

// This file is wsreactor's patch to gnet v2.9.7 (see PATCH.md): an accept(2)
// that fails for lack of a descriptor or of kernel memory no longer shuts
// the engine down (gnet issue 367). The pending connection is shed through
// a reserved spare descriptor, or, when even that fails, the listener stops
// being polled for a backoff so that no goroutine spins on it.

package gnet

import (
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/panjf2000/gnet/v2/pkg/queue"
	"github.com/panjf2000/gnet/v2/pkg/socket"
)

// AcceptErrorHandler is an optional interface of an EventHandler, checked
// once when the engine starts. The engine calls OnAcceptError when accept(2)
// fails with EMFILE, ENFILE, ENOBUFS or ENOMEM, which used to stop the
// engine. err is that error. shed is 1 when one pending connection was
// accepted and closed at once through the engine's spare descriptor (the
// client sees its connection closed, with no data), 0 when none could be:
// the listener is then left unpolled for a backoff (10ms, doubling up to
// 1s, back to 10ms after a successful accept) and the connections wait in
// the kernel's backlog meanwhile.
//
// It runs on the goroutine that accepts (the main reactor, or with
// WithReusePort the event loop that owns the listener), once per shed
// connection under a flood: it must be cheap and must not block.
type AcceptErrorHandler interface {
	OnAcceptError(err error, shed int)
}

const (
	acceptBackoffMin = 10 * time.Millisecond
	acceptBackoffMax = time.Second
)

// isAcceptResourceErr reports whether accept(2) failed for want of a
// resource that frees up by itself when connections close.
func isAcceptResourceErr(err error) bool {
	switch err {
	case unix.EMFILE, unix.ENFILE, unix.ENOBUFS, unix.ENOMEM:
		return true
	}
	return false
}

// acceptShedder holds the spare descriptor (on /dev/null) that is given up
// for a moment to accept and close a connection when the process has no
// descriptor left, and the timers of paused listeners. mu guards it all:
// with WithReusePort several event loops may shed at once, and the others
// accept under its read lock (acceptShared) so that none of them takes the
// descriptor freed for the shed, which would leave the spare lost and every
// loop paused until some connection closed.
type acceptShedder struct {
	mu      sync.RWMutex
	spare   int // -1 when not held
	closed  bool
	resumes map[*listener]*time.Timer
	handler AcceptErrorHandler // nil if the EventHandler has no OnAcceptError
}

func newAcceptShedder(h EventHandler) *acceptShedder {
	s := &acceptShedder{spare: -1, resumes: make(map[*listener]*time.Timer)}
	s.handler, _ = h.(AcceptErrorHandler)
	s.takeSpare()
	return s
}

// takeSpare opens the spare descriptor if it is not held; s.mu must be held
// (or s not yet shared).
func (s *acceptShedder) takeSpare() bool {
	if s.spare < 0 {
		if fd, err := unix.Open("/dev/null", unix.O_RDONLY|unix.O_CLOEXEC, 0); err == nil {
			s.spare = fd
		}
	}
	return s.spare >= 0
}

// acceptShared is accept(2) for the event loops of WithReusePort, which
// accept concurrently with each other's sheds. The read lock costs an
// uncontended atomic per accepted connection, never per message.
func (s *acceptShedder) acceptShared(fd int) (int, unix.Sockaddr, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return socket.Accept(fd)
}

// close releases the spare and stops the resume timers; the pollers are
// about to be closed, so no timer may Trigger one afterwards.
func (s *acceptShedder) close() {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	for ln, t := range s.resumes {
		t.Stop()
		delete(s.resumes, ln)
	}
	if s.spare >= 0 {
		_ = unix.Close(s.spare)
		s.spare = -1
	}
}

// shedOrPause handles accept(2) on listener fd failing with err, a resource
// error. It frees the spare descriptor, accepts one pending connection,
// closes it at once and takes the spare back; if that cannot be done, it
// pauses the listener. It reports whether the caller may try to accept
// again (a connection was shed: the next one may find a descriptor).
func (el *eventloop) shedOrPause(fd int, err error) bool {
	s := el.engine.shedder
	s.mu.Lock()
	shed, empty := false, false
	if s.takeSpare() { // held, or lost to another thread and free again
		_ = unix.Close(s.spare)
		s.spare = -1
	accept:
		for {
			nfd, _, aerr := socket.Accept(fd)
			switch aerr {
			case nil:
				_ = unix.Close(nfd)
				shed = true
			case unix.EINTR, unix.ECONNRESET, unix.ECONNABORTED:
				continue
			case unix.EAGAIN: // the connection went away meanwhile
				empty = true
			}
			break accept
		}
		s.takeSpare()
	}
	s.mu.Unlock()
	switch {
	case shed:
		if s.handler != nil {
			s.handler.OnAcceptError(err, 1)
		}
		return true
	case empty:
		return false
	}
	el.pauseAccept(fd, err)
	return false
}

// pauseAccept stops polling listener fd and polls it again after its
// backoff, doubled from the previous pause (acceptBackoffMin up to
// acceptBackoffMax; a successful accept resets it).
func (el *eventloop) pauseAccept(fd int, err error) {
	ln := el.listeners[fd]
	switch {
	case ln.backoff == 0:
		ln.backoff = acceptBackoffMin
	case ln.backoff < acceptBackoffMax/2:
		ln.backoff *= 2
	default:
		ln.backoff = acceptBackoffMax
	}
	s := el.engine.shedder
	if s.handler != nil {
		s.handler.OnAcceptError(err, 0)
	} else {
		el.getLogger().Warnf("Accept() failed due to error: %v; not accepting for %v", err, ln.backoff)
	}
	if derr := el.poller.Delete(fd); derr != nil {
		el.getLogger().Errorf("failed to pause listener fd=%d: %v", fd, derr)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return
	}
	s.resumes[ln] = time.AfterFunc(ln.backoff, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		if !s.closed {
			delete(s.resumes, ln)
			_ = el.poller.Trigger(queue.HighPriority, el.resumeAccept, ln)
		}
	})
}

// resumeAccept polls a paused listener again, on its event loop. The main
// reactor polls its listeners edge-triggered, the event loops of
// WithReusePort level-triggered (see engine.start): keep each as it was.
func (el *eventloop) resumeAccept(arg any) error {
	ln := arg.(*listener)
	s := el.engine.shedder
	s.mu.Lock()
	s.takeSpare() // lost to another thread during the pause: take it back if a descriptor is free
	s.mu.Unlock()
	if err := el.poller.AddRead(ln.pollAttachment, el.idx < 0); err != nil {
		el.getLogger().Errorf("failed to resume listener fd=%d: %v", ln.fd, err)
	}
	return nil
}
