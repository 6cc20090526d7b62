package protocol

import (
	"errors"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/wsreactor/wsreactor/protocol/handshake"
)

// UpgradeRequest is an opening handshake shown to Config.Upgrade: the
// request as parsed (the embedded handshake.Request: Method, Target, Host,
// Origin, the offered Protocols and Extensions), any of its headers, the
// peer's address, and the decisions the hook may take. It is valid only
// during the call to Config.Upgrade (its header bytes are the connection's
// read buffer): keep what you need, not the UpgradeRequest.
type UpgradeRequest struct {
	*handshake.Request
	head handshake.Head
	conn *Conn
	sub  string
	h    Handler
}

// Path is the request-target's path, "/chat" for "/chat?room=a" (and for
// the absolute form "http://host/chat?room=a"), still percent-encoded as
// sent.
func (u *UpgradeRequest) Path() string {
	p, _, _ := strings.Cut(u.target(), "?")
	return p
}

// RawQuery is the request-target's query without the '?', "" when none.
func (u *UpgradeRequest) RawQuery() string {
	_, q, _ := strings.Cut(u.target(), "?")
	return q
}

// Query parses RawQuery (url.ParseQuery; malformed pairs are dropped).
func (u *UpgradeRequest) Query() url.Values {
	v, _ := url.ParseQuery(u.RawQuery())
	return v
}

// target is the origin-form part of Target: an absolute-form target
// ("http://host/chat?x") loses its scheme and authority.
func (u *UpgradeRequest) target() string {
	t := u.Target
	if !strings.HasPrefix(t, "/") {
		if i := strings.Index(t, "://"); i >= 0 {
			t = t[i+3:]
			if j := strings.IndexAny(t, "/?"); j >= 0 && t[j] == '/' {
				t = t[j:]
			} else if j >= 0 { // no path, a query: the path is "/" (RFC 9112 §3.2.2)
				t = "/" + t[j:]
			} else {
				t = "/"
			}
		}
	}
	return t
}

// Header returns the value of the first header line named name (any case),
// "" when there is none.
func (u *UpgradeRequest) Header(name string) string { return u.head.Get(name) }

// Headers returns the values of every header line named name, in order.
func (u *UpgradeRequest) Headers(name string) []string { return u.head.Values(name) }

// Cookie returns the value of the cookie called name from the Cookie
// header lines (RFC 6265 §5.4; net/http's parser), and whether there was
// one.
func (u *UpgradeRequest) Cookie(name string) (string, bool) {
	lines := u.head.Values("Cookie")
	if len(lines) == 0 {
		return "", false
	}
	cs, err := http.ParseCookie(strings.Join(lines, "; "))
	if err != nil {
		return "", false
	}
	for _, c := range cs {
		if c.Name == name {
			return c.Value, true
		}
	}
	return "", false
}

// RemoteAddr is the peer's address: with the PROXY protocol, the client's
// address the balancer sent, not the balancer's.
func (u *UpgradeRequest) RemoteAddr() net.Addr { return u.conn.RemoteAddr() }

// Subprotocol is the subprotocol the server will answer with: the first of
// the client's offers (Protocols) that Config.Subprotocols supports, ""
// for none, unless SetSubprotocol changed it.
func (u *UpgradeRequest) Subprotocol() string { return u.sub }

// SetSubprotocol chooses the subprotocol to answer with: one the client
// offered and Config.Subprotocols supports (the connection records it by
// its index there), or "" for none (RFC 6455 §4.2.2 /subprotocol/).
// Another is an error, and the choice stays as it was.
func (u *UpgradeRequest) SetSubprotocol(p string) error {
	if p == "" {
		u.sub = ""
		return nil
	}
	offered := false
	for _, o := range u.Protocols {
		offered = offered || o == p
	}
	if !offered || subIndex(u.conn.srv.cfg.Subprotocols, p) == 0 {
		return errors.New("protocol: subprotocol " + strconv.Quote(p) + " is not both offered by the client and in Config.Subprotocols")
	}
	u.sub = p
	return nil
}

// SetHandler makes h the connection's Handler, instead of one from the
// Server's factory: the way to hand what the hook learnt (the user a token
// names) to the connection. h's OnOpen is called once the 101 is written.
func (u *UpgradeRequest) SetHandler(h Handler) { u.h = h }

// Refuse is the error for Config.Upgrade to return to answer the handshake
// with HTTP status (4xx or 5xx; another is sent as 403) and body (plain
// text) instead of opening: Refuse(401, "unknown token"). Any other error
// is answered 403 with its text.
func Refuse(status int, body string) error {
	if status < 400 || status > 599 {
		status = 403
	}
	return &handshake.Error{Status: status, Msg: body}
}

// runUpgrade calls the hook with the subprotocol the server would choose
// and returns the subprotocol and Handler it settled on, or its error as
// the HTTP answer. The UpgradeRequest escapes to the heap (the hook is a
// function value): that is a set hook's cost, an unset one has none.
func (c *Conn) runUpgrade(hook func(*UpgradeRequest) error, req *handshake.Request, head handshake.Head, sub string) (string, Handler, *handshake.Error) {
	u := &UpgradeRequest{Request: req, head: head, conn: c, sub: sub}
	err := hook(u)
	if err == nil {
		return u.sub, u.h, nil
	}
	var he *handshake.Error
	if errors.As(err, &he) {
		return sub, nil, he
	}
	return sub, nil, &handshake.Error{Status: 403, Msg: err.Error()}
}
