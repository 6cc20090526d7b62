package handoff

import (
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"time"
)

// Version is the version of this package's wire format (the messages
// below). Both processes must speak the same one.
const Version = 1

// Message kinds.
const (
	kindOffer  = 1 // old → new: versions, listening descriptors
	kindRefuse = 2 // new → old: reason text
	kindReady  = 3 // new → old: PID
	kindBatch  = 4 // old → new: connection descriptors and records
	kindAck    = 5 // new → old: the batch is taken
	kindNack   = 6 // new → old: the batch is refused: reason text
	kindDone   = 7 // old → new: every connection has been handed over: how many, the longest wait
)

// ErrRefused wraps the new process's reason for refusing the handoff.
var ErrRefused = errors.New("handoff: the new process refused")

// Source is the old process's side: what Give takes from.
type Source interface {
	// Listeners returns duplicates of the listening descriptors (Give
	// closes them once sent).
	Listeners() ([]int, error)
	// StopAccepting stops accepting connections without closing the
	// listening sockets; ResumeAccepting undoes it.
	StopAccepting() error
	ResumeAccepting() error
	// Detach takes up to max connections that can move now off their event
	// loops and returns their descriptors and state records, and how many
	// connections are left that cannot move yet (handshake, closing, in
	// the middle of a compressed message).
	Detach(max int) (fds []int, recs [][]byte, left int, err error)
	// Resume puts detached connections back on the event loops (a batch
	// the new process did not acknowledge). It owns fds from the call on.
	Resume(fds []int, recs [][]byte)
}

// GiveOptions bounds the exchange in time.
type GiveOptions struct {
	StateVersion int           // the version of the records, checked by Take
	ReadyTimeout time.Duration // for Ready after the Offer (the new process starts)
	AckTimeout   time.Duration // for each batch's Ack
	WaitMovable  time.Duration // for connections that cannot move yet, after the others
	Poll         time.Duration // how often those are retried; default 10 ms
	// Abort, when not nil, is called once when the exchange fails after
	// Ready, before any connection is resumed: it must stop the new process
	// and wait until it is gone, so that the new process cannot read from
	// a socket that is being resumed here (its Ack may be late, not lost).
	Abort func()
}

// GiveResult tells what happened.
type GiveResult struct {
	PID         int           // the new process's, from Ready (0 if it never said)
	HandedOver  int           // connections acknowledged by the new process
	Left        int           // connections that could not move within WaitMovable
	LongestWait time.Duration // longest time from a batch's Detach to its Ack
	Batches     int
}

// Give hands src over through ch (steps 1 to 5 of the package doc). On an
// error after Ready, o.Abort has stopped the new process and then the
// connections not acknowledged have been resumed, and accepting too: the
// caller keeps serving. Before Ready nothing was given away (the caller
// stops the new process). A refusal is an error wrapping ErrRefused.
func Give(ch *Chan, src Source, o GiveOptions) (res GiveResult, err error) {
	if o.Poll <= 0 {
		o.Poll = 10 * time.Millisecond
	}
	lfds, err := src.Listeners()
	if err != nil {
		return res, err
	}
	offer := binary.LittleEndian.AppendUint16(nil, Version)
	offer = binary.LittleEndian.AppendUint16(offer, uint16(o.StateVersion))
	err = ch.Send(kindOffer, offer, lfds, o.AckTimeout)
	CloseFDs(lfds)
	if err != nil {
		return res, err
	}
	kind, body, fds, err := ch.Recv(nil, o.ReadyTimeout)
	CloseFDs(fds)
	switch {
	case err != nil:
		return res, fmt.Errorf("handoff: waiting for the new process to be ready: %w", err)
	case kind == kindRefuse:
		return res, fmt.Errorf("%w: %s", ErrRefused, body)
	case kind != kindReady || len(body) != 4:
		return res, fmt.Errorf("handoff: expected Ready, got message kind %d", kind)
	}
	res.PID = int(binary.LittleEndian.Uint32(body))

	aborted := false
	abort := func() {
		if !aborted && o.Abort != nil {
			aborted = true
			o.Abort()
		}
	}
	fail := func(err error) (GiveResult, error) {
		abort()
		return res, errors.Join(err, src.ResumeAccepting())
	}
	if err := src.StopAccepting(); err != nil {
		return fail(err)
	}
	var waitUntil time.Time
	var batch []byte
	for {
		start := time.Now()
		fds, recs, left, err := src.Detach(MaxFDs)
		if err != nil {
			abort()
			src.Resume(fds, recs)
			return fail(err)
		}
		res.Left = left
		if len(fds) == 0 {
			if left == 0 {
				break
			}
			if waitUntil.IsZero() {
				waitUntil = start.Add(o.WaitMovable)
			}
			if start.After(waitUntil) {
				break
			}
			time.Sleep(o.Poll)
			continue
		}
		batch = batch[:0]
		for _, r := range recs {
			batch = AppendRecord(batch, r)
		}
		if err := ch.Send(kindBatch, batch, fds, o.AckTimeout); err != nil {
			abort()
			src.Resume(fds, recs)
			return fail(err)
		}
		kind, body, extra, err := ch.Recv(nil, o.AckTimeout)
		CloseFDs(extra)
		switch {
		case err != nil:
			err = fmt.Errorf("handoff: waiting for a batch's Ack: %w", err)
		case kind == kindNack:
			err = fmt.Errorf("%w: batch: %s", ErrRefused, body)
		case kind != kindAck:
			err = fmt.Errorf("handoff: expected Ack, got message kind %d", kind)
		}
		if err != nil {
			abort()
			src.Resume(fds, recs)
			return fail(err)
		}
		res.LongestWait = max(res.LongestWait, time.Since(start))
		res.HandedOver += len(fds)
		res.Batches++
		CloseFDs(fds) // the new process holds them: closing ours sends nothing
	}
	done := binary.LittleEndian.AppendUint64(nil, uint64(res.HandedOver))
	done = binary.LittleEndian.AppendUint64(done, uint64(res.LongestWait))
	// An error here changes nothing: everything is handed over already and
	// the new process serves it.
	_ = ch.Send(kindDone, done, nil, o.AckTimeout)
	return res, nil
}

// Sink is the new process's side: what Take gives to.
type Sink interface {
	// Listen starts serving on the inherited listening descriptors and
	// returns once it accepts.
	Listen(fds []int) error
	// Check validates a batch's records (it must not touch the sockets);
	// Adopt then puts the connections on the event loops. Check's error
	// refuses the whole batch.
	Check(recs [][]byte) error
	Adopt(fds []int, recs [][]byte)
}

// TakeOptions bounds the exchange in time and says which record versions
// the new process reads.
type TakeOptions struct {
	StateVersion int           // the only record version Check reads
	Timeout      time.Duration // for each message from the old process
}

// TakeResult tells what happened.
type TakeResult struct {
	Adopted int
	Batches int
	// What the old process reported in Done: connections it handed over,
	// and the longest time a batch waited from Detach to Ack.
	HandedOver  int
	LongestWait time.Duration
}

// Take runs the new process's side of the exchange through ch: it
// receives the Offer, refuses it (ErrRefused) for versions it cannot read,
// else calls sink.Listen and says Ready, then takes batches until Done. It
// closes nothing on success: the caller closes ch.
func Take(ch *Chan, sink Sink, o TakeOptions) (res TakeResult, err error) {
	kind, body, fds, err := ch.Recv(nil, o.Timeout)
	if err != nil {
		CloseFDs(fds)
		return res, fmt.Errorf("handoff: waiting for the Offer: %w", err)
	}
	if kind != kindOffer || len(body) != 4 {
		CloseFDs(fds)
		return res, fmt.Errorf("handoff: expected an Offer, got message kind %d", kind)
	}
	wire, state := binary.LittleEndian.Uint16(body), binary.LittleEndian.Uint16(body[2:])
	if int(wire) != Version || int(state) != o.StateVersion {
		CloseFDs(fds)
		why := fmt.Sprintf("this binary reads handoff version %d and connection state version %d; offered %d and %d",
			Version, o.StateVersion, wire, state)
		_ = ch.Send(kindRefuse, []byte(why), nil, o.Timeout)
		return res, fmt.Errorf("%w: %s", ErrRefused, why)
	}
	if err := sink.Listen(fds); err != nil {
		_ = ch.Send(kindRefuse, []byte(err.Error()), nil, o.Timeout)
		return res, err
	}
	ready := binary.LittleEndian.AppendUint32(nil, uint32(os.Getpid()))
	if err := ch.Send(kindReady, ready, nil, o.Timeout); err != nil {
		return res, err
	}
	var buf []byte
	for {
		kind, body, fds, err := ch.Recv(buf, o.Timeout)
		buf = body
		if err != nil {
			CloseFDs(fds)
			return res, fmt.Errorf("handoff: waiting for a batch: %w", err)
		}
		switch kind {
		case kindDone:
			CloseFDs(fds)
			if len(body) == 16 {
				res.HandedOver = int(binary.LittleEndian.Uint64(body))
				res.LongestWait = time.Duration(binary.LittleEndian.Uint64(body[8:]))
			}
			return res, nil
		case kindBatch:
		default:
			CloseFDs(fds)
			return res, fmt.Errorf("handoff: expected a batch, got message kind %d", kind)
		}
		recs, err := Records(body)
		if err == nil && len(recs) != len(fds) {
			err = fmt.Errorf("handoff: batch of %d records and %d descriptors", len(recs), len(fds))
		}
		if err == nil {
			err = sink.Check(recs)
		}
		if err != nil {
			CloseFDs(fds) // ours are duplicates: the old process still holds the sockets
			_ = ch.Send(kindNack, []byte(err.Error()), nil, o.Timeout)
			return res, err
		}
		if err := ch.Send(kindAck, nil, nil, o.Timeout); err != nil {
			CloseFDs(fds)
			return res, err
		}
		sink.Adopt(fds, recs)
		res.Adopted += len(fds)
		res.Batches++
	}
}
