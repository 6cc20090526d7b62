package service

import (
	"log/slog"
	"math"
	"runtime/debug"
	"time"

	"github.com/wsreactor/wsreactor/internal/osprobe"
	"github.com/wsreactor/wsreactor/protocol"
	"github.com/wsreactor/wsreactor/reactor"
)

// The memory budget's wiring: its default, the Go runtime's soft memory
// limit tied to it, and the periodic check (protocol.Budget).

const (
	// fallbackMemoryBudget is the default budget when the machine's
	// memory cannot be read.
	fallbackMemoryBudget = 1 << 30
	// memoryLimitBase is what the Go runtime needs besides the budget and
	// the idle connections: the loops' read buffers, pools, goroutine
	// stacks, the program itself, and room for the collector to work in.
	memoryLimitBase = 64 << 20
	// memoryPerConn is an idle connection's share of the Go heap, with
	// margin: the server measures about 800 bytes of RSS per idle
	// connection (TestIdleMemoryPerConnection), kernel memory included.
	memoryPerConn = 2 << 10
)

// DefaultMemoryBudget is a quarter of the memory the process may use:
// physical memory or the cgroup's limit when it is lower (a container,
// osprobe.UsableMemory); 1 GiB when neither can be read. The rest is left
// to what the budget does not count: the kernel's socket buffers (several
// MiB per busy connection, outside the process's heap), the runtime and the
// collector's headroom, idle connections, other processes. It is rounded
// down to a whole MiB (at least 1 MiB), so that the command's -h shows it
// as one ("6026MiB").
func DefaultMemoryBudget() int64 {
	total := osprobe.UsableMemory()
	if total <= 0 {
		return fallbackMemoryBudget
	}
	return max(total/4>>20, 1) << 20
}

// MemoryLimit is the Go runtime's soft memory limit for budget bytes of
// budget with up to conns connections: what the budget lets clients make
// the server hold, plus the idle connections' share and a base for the
// runtime, so that the collector works harder as the heap nears what the
// budget allows rather than let it grow by GOGC past it.
func MemoryLimit(budget int64, conns int) int64 {
	n := budget + memoryLimitBase + int64(conns)*memoryPerConn
	if n < budget { // overflow
		return math.MaxInt64
	}
	return n
}

// connectionCap is how many connections the server may have: -max-conns,
// else the soft open-file limit (each connection is a descriptor), else
// 65,536 when that limit is unknown or beyond reach.
func connectionCap(maxConns int, softFiles uint64) int {
	if maxConns > 0 {
		return maxConns
	}
	if softFiles > 0 && softFiles < 1<<24 {
		return int(softFiles)
	}
	return 1 << 16
}

// GoMemoryLimit is the Go runtime's soft memory limit for a process that
// runs one server with cfg: MemoryLimit of its budget and connection cap.
// The command sets it (debug.SetMemoryLimit) unless GOMEMLIMIT says
// otherwise; 0 when cfg has no budget.
func GoMemoryLimit(cfg Config) int64 {
	if cfg.MemoryBudget <= 0 {
		return 0
	}
	return MemoryLimit(cfg.MemoryBudget, connectionCap(cfg.MaxConns, cfg.fileLimit().Soft))
}

// goMemoryLimit is the Go runtime's soft memory limit in force.
func goMemoryLimit() int64 { return debug.SetMemoryLimit(-1) }

// checkBudget runs b.Check every protocol.BudgetCheckInterval while
// clients hold anything (every budgetIdleInterval while they hold nothing),
// and at once (at most every budgetWakeSpacing) when a loop publishes a
// total past the budget, until the reactor is done; it logs what the budget
// did at most once per budgetLogInterval.
func checkBudget(r *reactor.Reactor, b *protocol.Budget, logger *slog.Logger) {
	t := time.NewTimer(protocol.BudgetCheckInterval)
	defer t.Stop()
	var logged protocol.BudgetStats
	last, lastLog := time.Now(), time.Now()
	for {
		select {
		case <-r.Done():
			return
		case <-b.Wake():
			if wait := budgetWakeSpacing - time.Since(last); wait > 0 {
				time.Sleep(wait)
			}
		case <-t.C:
		}
		last = time.Now()
		b.Check(r.ForEachLoop)
		st := b.Stats()
		if st.Held == 0 && !st.SlackRefused {
			t.Reset(budgetIdleInterval)
		} else {
			t.Reset(protocol.BudgetCheckInterval)
		}
		if last.Sub(lastLog) < budgetLogInterval {
			continue
		}
		if st.SlackRefusals != logged.SlackRefusals || st.BudgetCloses != logged.BudgetCloses || st.BudgetAborts != logged.BudgetAborts {
			logger.Warn("memory budget enforced", "held_bytes", st.Held, "peak_bytes", st.Peak, "budget_bytes", st.Limit,
				"slack_refusals", st.SlackRefusals-logged.SlackRefusals, "closes", st.BudgetCloses-logged.BudgetCloses,
				"drops", st.BudgetAborts-logged.BudgetAborts, "seconds", last.Sub(lastLog).Seconds())
			logged, lastLog = st, last
		}
	}
}

const (
	// budgetLogInterval: the budget's measures are logged at most this
	// often.
	budgetLogInterval = time.Second
	// budgetWakeSpacing: checks woken by a total past the budget are at
	// least this far apart (each runs a function on every loop twice).
	budgetWakeSpacing = time.Millisecond
	// budgetIdleInterval: while clients hold nothing, the check runs this
	// often (it has nothing to recount; a loop that passes the budget
	// wakes it, and slack refusal needs no check), so that an idle server
	// stays idle.
	budgetIdleInterval = 100 * time.Millisecond
)
