// Package supervisor runs several copies of the running program as worker
// processes and keeps them running, the way nginx's master process keeps
// its workers: each worker is the same executable started again with its own
// arguments and WSREACTOR_WORKER=i in its environment, so one program serves
// as both parent and worker.
//
// The parent (Supervisor) starts every worker, waits until each says it is
// ready, restarts a worker that dies (crash, kill -9) with a rate-limited
// backoff, tags every line a worker writes on stdout or stderr with its
// index, and on shutdown sends SIGTERM to every worker and waits for them
// all. It gives up, with an error, when a worker cannot start: one that exits
// before it is ready during the first start, or MaxStartFailures times in a
// row later.
//
// The worker (Attach) tells the parent it is ready through a socket the
// parent passes as file descriptor 3, and watches the same socket: when the
// parent dies, even by SIGKILL, the socket reads end-of-file and the worker
// shuts down (no orphans). On Linux and FreeBSD a parent death signal
// (SIGTERM; PR_SET_PDEATHSIG, set from one OS thread that lives as long as
// the parent) is a second guard; macOS and the other BSDs have none, and
// rely on the socket alone (HasDeathSignal).
//
// A binary upgrade replaces the supervisor and its workers (upgrade.go):
// Upgrade starts the new supervisor, a Successor, which starts its workers
// one at a time, each with a handoff channel whose other end reaches the old
// worker of the same index through the old supervisor and the worker link
// (Link.Handoffs); the old worker hands over and exits, and once every new
// worker is ready the old supervisor exits too. What crosses a handoff
// channel is the worker's business (package handoff in wsreactor).
//
// The package knows nothing of WebSocket or of the reactor: what a worker
// does, and how its arguments differ, is the command's business.
package supervisor
