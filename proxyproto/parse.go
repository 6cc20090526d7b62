package proxyproto

import (
	"encoding/binary"
	"fmt"
	"net/netip"
	"strconv"
)

// Parser reads one PROXY protocol header, version 1 or 2, from the start of
// a connection. It is fed whatever bytes have arrived and never pulls more;
// the header may arrive split anywhere (spec §2: "the receiver may be
// tolerant to partial headers ... Recommendation is to be tolerant").
//
// It copies what it needs of the header into its own fixed buffer (the
// version 1 line, or the version 2 fixed part and an IPv4 or IPv6 address
// block) and counts down the rest (TLVs, AF_UNIX addresses) without storing
// it, so a Parser is under 128 bytes whatever it is fed and never grows. It
// never keeps a reference to a slice passed to Feed.
//
// The zero value is ready to use. A Parser belongs to one connection and
// must be used from one goroutine at a time (the connection's event loop).
type Parser struct {
	buf   [MaxV1Length]byte // the header's bytes kept so far
	n     uint8             // bytes in buf
	state uint8             // stStart...
	keep  uint8             // v2: address bytes still to copy into buf
	skip  uint16            // v2: header bytes still to skip after them
	err   error             // sticky rejection
}

// Parser states.
const (
	stStart  uint8 = iota // nothing read yet
	stV1                  // inside a version 1 line
	stV2                  // inside the 16 fixed bytes of a version 2 header
	stV2Body              // inside the length-counted rest of a version 2 header
)

// Address block sizes of version 2 (spec §2.2: "Address length is 2*4 + 2*2
// = 12 bytes", "2*16 + 2*2 = 36 bytes", "2*108 = 216 bytes").
const (
	v2InetLength  = 12
	v2Inet6Length = 36
	v2UnixLength  = 216
)

// Feed consumes the next bytes of the connection until the header is
// complete. p is only read, and only during the call.
//
//   - done == false, err == nil: every byte of p was taken (n == len(p));
//     call Feed again with the next bytes.
//   - done == true: the header ended at p[n-1]; p[n:] is what the sender
//     sent after it in the same read (the relayed connection's first
//     bytes). h is the header; the parser is back to its zero state.
//   - err != nil: the header is refused; the connection must be dropped
//     (spec §2.1, §2.2). The error wraps ErrNotProxy or ErrInvalid, and
//     every later Feed returns it again. n is then meaningless.
//
// Checks, each as soon as the bytes it needs have arrived: the first byte
// chooses the version ('P': version 1, CR: version 2; anything else is
// ErrNotProxy) and every byte of "PROXY " or of the 12-byte signature must
// match. Version 1 (spec §2.1): a CRLF within MaxV1Length bytes, no lone CR
// or LF; "TCP4" or "TCP6" with exactly one space between two addresses of
// that family in canonical form and two decimal ports without heading
// zeroes, or "UNKNOWN" followed by anything. Version 2 (spec §2.2): version
// nibble 2, command LOCAL or PROXY, a family and protocol from the spec's
// lists, a length of at most MaxV2Length that holds the address block the
// family needs (PROXY command only).
func (p *Parser) Feed(b []byte) (n int, done bool, h Header, err error) {
	if p.err != nil {
		return 0, false, Header{}, p.err
	}
	for n < len(b) {
		switch p.state {
		case stStart:
			switch b[n] {
			case v1Prefix[0]:
				p.state = stV1
			case signature[0]:
				p.state = stV2
			default:
				return n, false, Header{}, p.fail(fmt.Errorf("%w: the connection starts with %q, neither %q (version 1) nor %q (version 2)",
					ErrNotProxy, b[n:n+1], v1Prefix, signature))
			}
		case stV1:
			k, end, e := p.feedV1(b[n:])
			n += k
			if e != nil {
				return n, false, Header{}, p.fail(e)
			}
			if end {
				h, e := parseV1(p.buf[:p.n])
				if e != nil {
					return n, false, Header{}, p.fail(e)
				}
				*p = Parser{}
				return n, true, h, nil
			}
		case stV2:
			k, e := p.feedV2Fixed(b[n:])
			n += k
			if e != nil {
				return n, false, Header{}, p.fail(e)
			}
			if p.state == stV2Body && p.keep == 0 && p.skip == 0 {
				h := p.headerV2() // nothing follows the fixed part
				*p = Parser{}
				return n, true, h, nil
			}
		case stV2Body:
			k := min(int(p.keep), len(b)-n)
			p.n += uint8(copy(p.buf[p.n:], b[n:n+k]))
			p.keep -= uint8(k)
			n += k
			if p.keep == 0 {
				s := min(int(p.skip), len(b)-n)
				p.skip -= uint16(s)
				n += s
			}
			if p.keep == 0 && p.skip == 0 {
				h := p.headerV2()
				*p = Parser{}
				return n, true, h, nil
			}
		}
	}
	return n, false, Header{}, nil
}

// Reset drops any partial header and error: p is as good as new.
func (p *Parser) Reset() { *p = Parser{} }

// fail makes e the parser's sticky result.
func (p *Parser) fail(e error) error {
	*p = Parser{err: e}
	return e
}

// feedV1 copies bytes of a version 1 line into p.buf, checking the "PROXY "
// prefix and the line ending as they come. end reports that the line's LF
// was b[k-1].
func (p *Parser) feedV1(b []byte) (k int, end bool, err error) {
	for k < len(b) {
		c := b[k]
		i := int(p.n)
		if i >= MaxV1Length {
			return k, false, fmt.Errorf("%w: version 1 line %q has no CRLF in its first %d bytes (spec §2.1)", ErrInvalid, p.buf[:p.n], MaxV1Length)
		}
		p.buf[i] = c
		p.n++
		k++
		switch {
		case i < len(v1Prefix) && c != v1Prefix[i]:
			return k, false, fmt.Errorf("%w: the connection starts with %q, not %q", ErrNotProxy, p.buf[:p.n], v1Prefix)
		case i > 0 && p.buf[i-1] == '\r' && c != '\n':
			return k, false, fmt.Errorf("%w: CR not followed by LF in version 1 line %q (spec §2.1)", ErrInvalid, p.buf[:p.n])
		case c == '\n' && p.buf[i-1] != '\r':
			return k, false, fmt.Errorf("%w: version 1 line %q ends with a lone LF, not CRLF (spec §2.1)", ErrInvalid, p.buf[:p.n])
		case c == '\n':
			return k, true, nil
		}
	}
	return k, false, nil
}

// feedV2Fixed copies bytes of the fixed 16-byte part of a version 2 header
// into p.buf, checking each as it comes; after the 16th it sets up the body.
func (p *Parser) feedV2Fixed(b []byte) (k int, err error) {
	for k < len(b) && p.state == stV2 {
		c := b[k]
		i := int(p.n)
		p.buf[i] = c
		p.n++
		k++
		switch {
		case i < len(signature):
			if c != signature[i] {
				return k, fmt.Errorf("%w: the connection starts with %q, not the version 2 signature %q", ErrNotProxy, p.buf[:p.n], signature)
			}
		case i == 12:
			if c>>4 != 2 {
				return k, fmt.Errorf("%w: version 2 header with version %d (byte 0x%02x): only 2 is defined (spec §2.2)", ErrInvalid, c>>4, c)
			}
			if cmd := Command(c & 0xf); cmd != Local && cmd != Proxy {
				return k, fmt.Errorf("%w: version 2 header with command 0x%x: only LOCAL (0) and PROXY (1) are defined (spec §2.2)", ErrInvalid, c&0xf)
			}
		case i == 13:
			if c>>4 > byte(Unix) || c&0xf > byte(Dgram) {
				return k, fmt.Errorf("%w: version 2 header with family and protocol byte 0x%02x: the spec defines families 0-3 and protocols 0-2 (spec §2.2)", ErrInvalid, c)
			}
		case i == 15:
			if e := p.startV2Body(); e != nil {
				return k, e
			}
		}
	}
	return k, nil
}

// startV2Body checks the length field against what the family needs and
// sets how many of the following bytes to keep (an IPv4 or IPv6 address
// block) and to skip.
func (p *Parser) startV2Body() error {
	length := int(binary.BigEndian.Uint16(p.buf[14:16]))
	if length > MaxV2Length {
		return fmt.Errorf("%w: version 2 header announces %d bytes after its fixed part; this server accepts at most %d", ErrInvalid, length, MaxV2Length)
	}
	need, keep := 0, 0
	if Command(p.buf[12]&0xf) == Proxy {
		switch Family(p.buf[13] >> 4) {
		case Inet:
			need, keep = v2InetLength, v2InetLength
		case Inet6:
			need, keep = v2Inet6Length, v2Inet6Length
		case Unix:
			need = v2UnixLength
		}
		if p.buf[13]&0xf == byte(TransportUnspec) {
			need, keep = 0, 0 // spec §2.2: "The receiver should ignore address information."
		}
	}
	if length < need {
		return fmt.Errorf("%w: version 2 header of family and protocol 0x%02x has %d address bytes; it needs %d (spec §2.2)", ErrInvalid, p.buf[13], length, need)
	}
	p.state = stV2Body
	p.keep = uint8(keep)
	p.skip = uint16(length - keep)
	return nil
}

// headerV2 decodes the complete version 2 header in p.buf.
func (p *Parser) headerV2() Header {
	h := Header{
		Version:   2,
		Command:   Command(p.buf[12] & 0xf),
		Family:    Family(p.buf[13] >> 4),
		Transport: Transport(p.buf[13] & 0xf),
	}
	a := p.buf[V2FixedLength:p.n]
	switch len(a) {
	case v2InetLength:
		h.Source = netip.AddrPortFrom(netip.AddrFrom4([4]byte(a[0:4])), binary.BigEndian.Uint16(a[8:10]))
		h.Destination = netip.AddrPortFrom(netip.AddrFrom4([4]byte(a[4:8])), binary.BigEndian.Uint16(a[10:12]))
	case v2Inet6Length:
		h.Source = netip.AddrPortFrom(netip.AddrFrom16([16]byte(a[0:16])), binary.BigEndian.Uint16(a[32:34]))
		h.Destination = netip.AddrPortFrom(netip.AddrFrom16([16]byte(a[16:32])), binary.BigEndian.Uint16(a[34:36]))
	}
	return h
}

// parseV1 parses a complete version 1 line (spec §2.1), "PROXY " to CRLF.
func parseV1(line []byte) (Header, error) {
	rest := line[len(v1Prefix) : len(line)-2]
	h := Header{Version: 1, Command: Proxy, Transport: Stream}
	proto, rest := cutSpace(rest)
	switch string(proto) {
	case "UNKNOWN":
		// "the receiver must ignore anything presented before the CRLF".
		h.Transport = TransportUnspec
		return h, nil
	case "TCP4":
		h.Family = Inet
	case "TCP6":
		h.Family = Inet6
	default:
		return Header{}, fmt.Errorf("%w: version 1 line %q: protocol %q is none of TCP4, TCP6, UNKNOWN (spec §2.1)", ErrInvalid, line, proto)
	}
	var f [4][]byte
	for i := range f {
		f[i], rest = cutSpace(rest)
		if len(f[i]) == 0 {
			return Header{}, fmt.Errorf("%w: version 1 line %q: want exactly \"PROXY %s src dst srcport dstport\" with single spaces (spec §2.1)", ErrInvalid, line, proto)
		}
	}
	if rest != nil {
		return Header{}, fmt.Errorf("%w: version 1 line %q: %q after the destination port (spec §2.1)", ErrInvalid, line, rest)
	}
	var a [2]netip.Addr
	var port [2]uint16
	for i := range 2 {
		var ok bool
		if h.Family == Inet {
			a[i], ok = parseIPv4(f[i])
		} else {
			a[i], ok = parseIPv6(f[i])
		}
		if !ok {
			return Header{}, fmt.Errorf("%w: version 1 line %q: %q is not a canonical %s address (spec §2.1)", ErrInvalid, line, f[i], proto)
		}
		if port[i], ok = parsePort(f[2+i]); !ok {
			return Header{}, fmt.Errorf("%w: version 1 line %q: port %q is not a decimal in 0..65535 without heading zeroes (spec §2.1)", ErrInvalid, line, f[2+i])
		}
	}
	h.Source = netip.AddrPortFrom(a[0], port[0])
	h.Destination = netip.AddrPortFrom(a[1], port[1])
	return h, nil
}

// cutSpace returns the bytes before the first space and those after it (nil
// when there is no space).
func cutSpace(b []byte) (field, rest []byte) {
	for i, c := range b {
		if c == ' ' {
			return b[:i], b[i+1:]
		}
	}
	return b, nil
}

// parseIPv4 parses exactly four decimal numbers 0..255 separated by single
// dots, without heading zeroes (spec §2.1: "in order to avoid any possible
// confusion with octal numbers"). It does not allocate.
func parseIPv4(b []byte) (netip.Addr, bool) {
	var ip [4]byte
	for i := range ip {
		j := 0
		for j < len(b) && j < 4 && isDigit(b[j]) {
			j++
		}
		v, ok := parseDecimal(b[:j], 255)
		if !ok {
			return netip.Addr{}, false
		}
		ip[i] = byte(v)
		b = b[j:]
		if i < 3 {
			if len(b) == 0 || b[0] != '.' {
				return netip.Addr{}, false
			}
			b = b[1:]
		}
	}
	return netip.AddrFrom4(ip), len(b) == 0
}

// parseIPv6 parses hexadecimal groups separated by colons, with at most one
// "::" (spec §2.1); the dotted-quad tail and zones that netip also accepts
// are refused. (It allocates the string netip parses: version 1 is the rare
// case, HAProxy's send-proxy-v2 is binary.)
func parseIPv6(b []byte) (netip.Addr, bool) {
	for _, c := range b {
		if c != ':' && !isHex(c) {
			return netip.Addr{}, false
		}
	}
	a, err := netip.ParseAddr(string(b))
	return a, err == nil && a.Is6()
}

// parsePort parses a port: 0..65535 in decimal without heading zeroes.
func parsePort(b []byte) (uint16, bool) {
	v, ok := parseDecimal(b, 65535)
	return uint16(v), ok
}

// parseDecimal parses 1 to 5 decimal digits, without a heading zero unless
// the number is 0, up to max.
func parseDecimal(b []byte, max int) (int, bool) {
	if len(b) == 0 || len(b) > 5 || (b[0] == '0' && len(b) > 1) {
		return 0, false
	}
	v := 0
	for _, c := range b {
		if !isDigit(c) {
			return 0, false
		}
		v = 10*v + int(c-'0')
	}
	return v, v <= max
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func isHex(c byte) bool { return isDigit(c) || ('a' <= c && c <= 'f') || ('A' <= c && c <= 'F') }

// String returns h as the version 1 line would say it, e.g.
// "PROXY TCP4 192.0.2.1 192.0.2.2 56324 443", or "LOCAL" / "UNKNOWN" /
// "PROXY family 0x3 protocol 0x1" for what version 1 cannot say.
func (h Header) String() string {
	switch {
	case h.Command == Local:
		return "LOCAL"
	case h.Family == Unspec && h.Transport == TransportUnspec:
		return "UNKNOWN"
	case (h.Family == Inet || h.Family == Inet6) && h.Transport == Stream:
		proto := "TCP4"
		if h.Family == Inet6 {
			proto = "TCP6"
		}
		return "PROXY " + proto + " " + h.Source.Addr().String() + " " + h.Destination.Addr().String() + " " +
			strconv.Itoa(int(h.Source.Port())) + " " + strconv.Itoa(int(h.Destination.Port()))
	}
	return fmt.Sprintf("PROXY family 0x%x protocol 0x%x", uint8(h.Family), uint8(h.Transport))
}
