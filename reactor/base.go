package reactor

// BaseProtocol is a do-nothing Protocol to embed (Twisted's
// protocol.Protocol): ConnectionMade stores the transport in Transport, and
// DataReceived and ConnectionLost ignore their arguments. Override the
// methods you need.
type BaseProtocol struct {
	Transport Transport
}

// ConnectionMade stores t in p.Transport.
func (p *BaseProtocol) ConnectionMade(t Transport) { p.Transport = t }

// DataReceived discards data.
func (p *BaseProtocol) DataReceived(data []byte) {}

// ConnectionLost does nothing.
func (p *BaseProtocol) ConnectionLost(reason error) {}
