// Command echo is Twisted's TCP echo server (echoserv.py) on package
// reactor:
//
//	class Echo(protocol.Protocol):
//	    def dataReceived(self, data):
//	        self.transport.write(data)
//
//	factory = protocol.ServerFactory()
//	factory.protocol = Echo
//	reactor.listenTCP(8000, factory)
//	reactor.run()
//
// Run it and talk to it:
//
//	go run ./examples/echo -addr :8000
//	nc localhost 8000
package main

import (
	"flag"
	"log"
	"net"

	"github.com/wsreactor/wsreactor/reactor"
)

// Echo writes back whatever it receives, in whatever pieces it arrives.
// data is lent for the call only; Write copies it before returning.
type Echo struct{ reactor.BaseProtocol }

func (e *Echo) DataReceived(data []byte) { e.Transport.Write(data) }

// listen starts a reactor serving Echo on addr ("127.0.0.1:0": a free port).
func listen(addr string) (*reactor.Reactor, error) {
	r := reactor.New()
	if err := r.ListenTCP(addr, reactor.FactoryFunc(func(net.Addr) reactor.Protocol { return new(Echo) })); err != nil {
		return nil, err
	}
	return r, r.Start()
}

func main() {
	addr := flag.String("addr", ":8000", "TCP address to listen on")
	flag.Parse()
	r, err := listen(*addr)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("echo: listening on %s", r.Addr())
	<-r.Done()
}
