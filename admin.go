package main

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/wsreactor/wsreactor/internal/admin"
	"github.com/wsreactor/wsreactor/internal/buildinfo"
	"github.com/wsreactor/wsreactor/internal/supervisor"
)

// With -procs N the parent owns -admin-addr: one address describes the
// whole server. Each worker runs a private admin server on a Unix socket in
// a directory of the parent's (workerAdminAddr); the parent's /metrics
// scrapes every live worker's at each scrape and serves their series
// labelled worker="i", with its own Go and process series as
// worker="parent" (admin.Federation). The parent's /readyz is 200 once
// every worker serves and 503 from the moment SIGINT/SIGTERM arrives, while
// the workers drain (each for -drain-delay, then closing).

// makeWorkerAdminDir makes the directory of the workers' admin sockets, ""
// when -admin-addr is empty (no admin servers at all). The caller removes
// it.
func makeWorkerAdminDir(cfg config) (string, error) {
	if cfg.AdminAddr == "" {
		return "", nil
	}
	return os.MkdirTemp("", "wsreactor-admin-")
}

// startProcsAdmin starts the parent's admin server on cfg.AdminAddr, not
// ready, serving the federation of sup's live workers' admin servers (in
// cfg.workerAdminDir) and its own Go and process series; nil when the
// address is empty.
func startProcsAdmin(cfg config, sup *supervisor.Supervisor) (*admin.Server, error) {
	if cfg.AdminAddr == "" {
		return nil, nil
	}
	local := prometheus.NewRegistry()
	local.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}), buildinfo.Read().Collector())
	return admin.Listen(cfg.AdminAddr, &admin.Federation{
		LabelName: "worker",
		Local:     local,
		Targets: func() []admin.Target {
			var out []admin.Target
			for _, w := range sup.Workers() {
				out = append(out, admin.Target{Label: strconv.Itoa(w.Index), Addr: workerAdminAddr(cfg.workerAdminDir, w.Index)})
			}
			return out
		},
	})
}

// workerAdminAddr is worker i's private admin address.
func workerAdminAddr(dir string, i int) string {
	return "unix:" + filepath.Join(dir, "worker"+strconv.Itoa(i)+".sock")
}

// closeAdmin stops the admin server, last, so that /healthz answers through
// the whole drain.
func closeAdmin(adm *admin.Server, logger *slog.Logger) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := adm.Close(ctx); err != nil {
		logger.Warn("admin server close", "err", err)
	}
}

// attrsAny converts attrs to the ...any that slog.Group takes.
func attrsAny(attrs []slog.Attr) []any {
	out := make([]any, len(attrs))
	for i, a := range attrs {
		out[i] = a
	}
	return out
}
