// wsreactor patch (PATCH.md, "Raw system calls on the loop"): not part of gnet v2.9.7.

//go:build linux && race

package gnet

import (
	"golang.org/x/sys/unix"

	gio "github.com/panjf2000/gnet/v2/pkg/io"
)

// With the race detector, sysRead, sysWrite and sysWritev are the ordinary
// system calls, which annotate the buffers and the synchronisation through
// the socket for it (rawio_linux.go has the raw ones).
func sysRead(fd int, p []byte) (int, error)      { return unix.Read(fd, p) }
func sysWrite(fd int, p []byte) (int, error)     { return unix.Write(fd, p) }
func sysWritev(fd int, bs [][]byte) (int, error) { return gio.Writev(fd, bs) }
