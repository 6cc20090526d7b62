// Package handoff moves a running server's listening sockets and live
// connections to a new process (a binary upgrade that drops nothing): the
// wire format between the two processes, descriptor passing, and the order
// of the exchange, which is what makes it safe.
//
// The old process starts the new one with one end of a unix SOCK_SEQPACKET
// socketpair (Pair; the child finds its end with FromFD). Then:
//
//  1. old → new, Offer: the wire Version, the connection state version,
//     and the listening descriptors (SCM_RIGHTS).
//  2. new → old, Ready (its PID) once it listens on them, or Refuse with a
//     reason (a version it cannot read). Until Ready the old process has
//     given nothing away: it still accepts and serves everything.
//  3. old: stops accepting (the listening sockets stay open; the new
//     process accepts alone), then repeatedly takes the connections that
//     can move now off its loops (their descriptors stay open, nothing is
//     sent to the peer) and sends them in batches: up to MaxFDs
//     descriptors and one record (opaque bytes: the connection's state)
//     per descriptor.
//  4. new → old, Ack for each batch once every record is checked, before
//     the new process reads a byte from those sockets; the old process
//     then closes its copies (which sends nothing: the socket stays open
//     in the new process). A Nack, a timeout or a closed channel makes the
//     old process stop the new one and resume every connection not yet
//     acknowledged and resume accepting.
//  5. old → new, Done; the old process exits.
//
// Bytes that arrive from a client meanwhile wait in the kernel's socket
// buffer, which moves with the descriptor. The package uses the standard
// library and golang.org/x/sys only; Linux.
package handoff
