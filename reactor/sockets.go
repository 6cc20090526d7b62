package reactor

import (
	"fmt"
	"net"
	"strconv"
	"sync"

	"github.com/panjf2000/gnet/v2"
	"github.com/panjf2000/gnet/v2/pkg/socket"
	"golang.org/x/sys/unix"
)

// listenerAddr reads the listening address from the engine (through a
// duplicate of the listener's descriptor), so port 0 reports the real port.
func listenerAddr(eng gnet.Engine) net.Addr {
	fd, err := eng.Dup()
	if err != nil {
		return nil
	}
	defer closeFD(fd)
	return sockName(fd)
}

// sockName is the local address of socket fd, or nil.
func sockName(fd int) net.Addr {
	sa, err := unix.Getsockname(fd)
	if err != nil {
		return nil
	}
	if a, ok := socket.SockaddrToTCPOrUnixAddr(sa).(*net.TCPAddr); ok && a != nil {
		return a
	}
	return nil
}

func closeFD(fd int) { _ = unix.Close(fd) }

// reservePort resolves port 0 once for SO_REUSEPORT listening, where each
// event loop opens its own listener on the address (with port 0 each would
// get another port). It binds, without listening, a SO_REUSEPORT socket to a
// free port and returns the address with that port and the socket, to keep
// until the engine stops. Other addresses come back unchanged with fd -1.
func reservePort(addr string) (string, int, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil || port != "0" {
		return addr, -1, nil
	}
	sa, family, _, ipv6only, err := socket.GetTCPSockAddr("tcp", addr)
	if err != nil {
		return "", -1, fmt.Errorf("reactor: resolve %q: %w", addr, err)
	}
	fd, err := streamSocket(family)
	if err != nil {
		return "", -1, fmt.Errorf("reactor: reserve a port for %q: %w", addr, err)
	}
	if ipv6only {
		err = unix.SetsockoptInt(fd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, 1)
	}
	if err == nil {
		err = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEPORT, 1)
	}
	if err == nil {
		err = unix.Bind(fd, sa)
	}
	var bound unix.Sockaddr
	if err == nil {
		bound, err = unix.Getsockname(fd)
	}
	if err != nil {
		closeFD(fd)
		return "", -1, fmt.Errorf("reactor: reserve a port for %q: %w", addr, err)
	}
	var p int
	switch b := bound.(type) {
	case *unix.SockaddrInet4:
		p = b.Port
	case *unix.SockaddrInet6:
		p = b.Port
	}
	return net.JoinHostPort(host, strconv.Itoa(p)), fd, nil
}

// ReservePort is for several processes that are to listen on one address
// with SO_REUSEPORT (WithReusePort): when addr's port is 0 it picks a free
// port once, holding it with a bound (not listening) SO_REUSEPORT socket, and
// returns addr with that port; every process then listens on the returned
// address. Call release when no process needs the port any more (holding it
// longer keeps another program from taking the port while all listeners are
// restarting). Any other addr comes back unchanged with a release that does
// nothing. Safe from any goroutine.
func ReservePort(addr string) (resolved string, release func(), err error) {
	resolved, fd, err := reservePort(addr)
	if err != nil {
		return "", nil, err
	}
	if fd < 0 {
		return resolved, func() {}, nil
	}
	var once sync.Once
	return resolved, func() { once.Do(func() { closeFD(fd) }) }, nil
}
