// wsreactor patch (PATCH.md, "Raw system calls on the loop"): not part of gnet v2.9.7.

//go:build (linux && race) || darwin || dragonfly || freebsd || netbsd || openbsd

package gnet

import (
	"golang.org/x/sys/unix"

	gio "github.com/panjf2000/gnet/v2/pkg/io"
)

// sysRead, sysWrite and sysWritev are the ordinary system calls on the BSDs
// and macOS, and on Linux under the race detector, where they annotate the
// buffers and the synchronisation through the socket for it. Otherwise, on
// Linux, they are raw ones (rawio_linux.go).
func sysRead(fd int, p []byte) (int, error)      { return unix.Read(fd, p) }
func sysWrite(fd int, p []byte) (int, error)     { return unix.Write(fd, p) }
func sysWritev(fd int, bs [][]byte) (int, error) { return gio.Writev(fd, bs) }
