//go:build !linux

// Command wsload is the WebSocket load generator of wsreactor's benchmarks.
// It drives its connections from epoll event loops, so it runs on Linux only;
// elsewhere it says so and exits with status 2.
package main

import (
	"fmt"
	"os"
	"runtime"
)

func main() {
	fmt.Fprintf(os.Stderr, "wsload: Linux only (its client event loops use epoll); this is %s\n", runtime.GOOS)
	os.Exit(2)
}
