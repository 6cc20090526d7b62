package reactor

import (
	"log"
	"runtime/debug"
)

// gnetLogger routes gnet's log to the reactor's logger: warnings and errors
// only, prefixed "reactor: gnet: ". With no logger gnet is silent.
type gnetLogger struct{ l *log.Logger }

func (g gnetLogger) Debugf(string, ...any) {}
func (g gnetLogger) Infof(string, ...any)  {}
func (g gnetLogger) Warnf(format string, args ...any) {
	if g.l != nil {
		g.l.Printf("reactor: gnet: "+format, args...)
	}
}
func (g gnetLogger) Errorf(format string, args ...any) { g.Warnf(format, args...) }
func (g gnetLogger) Fatalf(format string, args ...any) { g.Warnf(format, args...) }

// panicked logs a panic recovered from a callback, with its stack.
func (r *Reactor) panicked(v any) {
	l := r.opts.Logger
	if l == nil {
		l = log.Default()
	}
	l.Printf("reactor: panic in callback (connection aborted if it had one): %v\n%s", v, debug.Stack())
}
