// Command healthcheck is the container image's HEALTHCHECK: it asks the
// wsreactor admin server in the same container for /healthz and exits 0 on
// 200, 1 otherwise (with the reason on stderr). The image has no shell and
// no curl, so this is the probe.
//
// The address is the first argument, else WSREACTOR_ADMIN_ADDR (the
// server's own -admin-addr), else 127.0.0.1:9090; an address without a host
// (":9090") or with an unspecified one ("0.0.0.0:9090") is asked on
// loopback.
package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"time"
)

func main() {
	addr := os.Getenv("WSREACTOR_ADMIN_ADDR")
	if len(os.Args) > 1 {
		addr = os.Args[1]
	}
	if err := check(addr, 3*time.Second); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// check asks http://addr/healthz and returns nil on a 200.
func check(addr string, timeout time.Duration) error {
	if addr == "" {
		addr = "127.0.0.1:9090"
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("healthcheck: admin address %q: %v", addr, err)
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "127.0.0.1"
	}
	url := "http://" + net.JoinHostPort(host, port) + "/healthz"
	resp, err := (&http.Client{Timeout: timeout}).Get(url)
	if err != nil {
		return fmt.Errorf("healthcheck: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 256))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: %s: %s %q", url, resp.Status, body)
	}
	return nil
}
