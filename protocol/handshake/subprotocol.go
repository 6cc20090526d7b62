package handshake

// SelectSubprotocol returns the subprotocol to answer a client with (RFC 6455
// §4.2.2 /subprotocol/): the first protocol of the client's offer, in the
// client's order of preference, that is among the server's supported ones,
// compared exactly; "" when they have none in common, in which case the
// response carries no Sec-WebSocket-Protocol header ("The value chosen MUST
// be derived from the client's handshake, specifically by selecting one of
// the values from the |Sec-WebSocket-Protocol| field that the server is
// willing to use"). The order of supported does not matter. It allocates
// nothing. Safe from any goroutine.
func SelectSubprotocol(offered, supported []string) string {
	for _, o := range offered {
		for _, s := range supported {
			if o == s && o != "" {
				return o
			}
		}
	}
	return ""
}
