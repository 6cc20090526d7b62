// Command gobwasgnet is the benchmark's gobwas/ws-on-gnet peer: a WebSocket
// echo server that takes the approach of gnet's own WebSocket example. Each
// connection buffers what arrives until the HTTP request head is complete
// and upgrades it with ws.Upgrade over a reader of those bytes and the gnet
// connection; after that every OnTraffic reads the frames that are complete
// with gobwas/ws (ws.ReadHeaderBuffer, ws.CheckHeader, ws.Cipher) and writes
// the echoes with ws.WriteHeaderBuffer.
//
//	gobwasgnet -addr 127.0.0.1:9001 -loops 1 [-reuseport]
//
// Unlike the example it logs nothing per message and writes all the echoes
// owed for one read with a single Write (as wsreactor does), it handles
// frames that follow the request head in the same read, and it validates
// text messages as UTF-8 (close 1007), pings (pong), close (echoed) and the
// message limit (-max-message, 64 MiB, close 1009), so that it does the
// same work as the other servers. A frame is handled once it is whole, so a
// large message is held in memory (gnet's example does the same).
package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log"
	"unicode/utf8"

	"github.com/gobwas/ws"
	"github.com/panjf2000/gnet/v2"
	"github.com/wsreactor/wsreactor/bench/peers/internal/peer"
)

// maxHead bounds the HTTP request head, as the other servers do.
const maxHead = 8192

type server struct {
	gnet.BuiltinEventEngine
	maxMessage int64
}

// conn is one connection's state; it lives in gnet's connection context and
// is touched only on the connection's event loop.
type conn struct {
	upgraded   bool
	in         []byte // bytes not yet consumed: part of the head or of a frame
	out        []byte // echoes owed for the current read, written at its end
	fragmented bool   // a fragmented message is being assembled in msg
	msgOp      ws.OpCode
	msg        []byte
	rd         bytes.Reader
	hbuf       [ws.MaxHeaderSize]byte
	wbuf       [ws.MaxHeaderSize]byte
}

// readWrite joins the buffered request head (reader) and the gnet connection
// (writer) for ws.Upgrade, as gnet's example does.
type readWrite struct {
	io.Reader
	io.Writer
}

// appendWriter lets ws.WriteHeaderBuffer append to a byte slice.
type appendWriter struct{ b *[]byte }

func (w appendWriter) Write(p []byte) (int, error) {
	*w.b = append(*w.b, p...)
	return len(p), nil
}

func (s *server) OnOpen(c gnet.Conn) ([]byte, gnet.Action) {
	c.SetContext(new(conn))
	return nil, gnet.None
}

// OnTraffic runs on the connection's event loop. The bytes from Next are lent
// until the next read on this loop: payloads are unmasked in place there and
// whatever is left over is copied into the connection's own buffer.
func (s *server) OnTraffic(c gnet.Conn) gnet.Action {
	st := c.Context().(*conn)
	data, _ := c.Next(-1)
	owned := false
	if len(st.in) > 0 {
		st.in = append(st.in, data...)
		data, owned = st.in, true
	}
	if !st.upgraded {
		end := bytes.Index(data, []byte("\r\n\r\n"))
		if end < 0 {
			if len(data) > maxHead {
				return gnet.Close
			}
			st.keep(data, owned)
			return gnet.None
		}
		st.rd.Reset(data[:end+4])
		if _, err := ws.Upgrade(readWrite{&st.rd, c}); err != nil {
			return gnet.Close // ws.Upgrade has written the HTTP error
		}
		st.upgraded = true
		data = data[end+4:]
	}
	n, closeConn := st.frames(data, s.maxMessage)
	st.keep(data[n:], owned)
	if len(st.out) > 0 {
		_, err := c.Write(st.out)
		st.out = st.out[:0]
		if err != nil {
			return gnet.Close
		}
	}
	if closeConn {
		return gnet.Close
	}
	return gnet.None
}

// keep stores rest, the unconsumed bytes, in st.in; owned says rest already
// lies inside st.in (copy handles the overlap).
func (st *conn) keep(rest []byte, owned bool) {
	if owned {
		st.in = st.in[:copy(st.in, rest)]
		return
	}
	st.in = append(st.in[:0], rest...)
}

// frames handles every whole frame at the start of p and returns how many
// bytes they took, and whether the connection must close after the output
// owed so far is written.
func (st *conn) frames(p []byte, maxMessage int64) (n int, closeConn bool) {
	for len(p)-n >= 2 {
		st.rd.Reset(p[n:])
		h, err := ws.ReadHeaderBuffer(&st.rd, st.hbuf[:])
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			return n, false // header not complete yet
		}
		if err != nil {
			st.closeFrame(ws.StatusProtocolError, "")
			return n, true
		}
		hl := len(p) - n - st.rd.Len()
		state := ws.StateServerSide
		if st.fragmented {
			state = state.Set(ws.StateFragmented)
		}
		if err := ws.CheckHeader(h, state); err != nil {
			st.closeFrame(ws.StatusProtocolError, "")
			return n, true
		}
		if h.Length > maxMessage || (!h.OpCode.IsControl() && int64(len(st.msg))+h.Length > maxMessage) {
			st.closeFrame(ws.StatusMessageTooBig, "")
			return n, true
		}
		if int64(len(p)-n-hl) < h.Length {
			return n, false // payload not complete yet
		}
		payload := p[n+hl : n+hl+int(h.Length)]
		n += hl + int(h.Length)
		ws.Cipher(payload, h.Mask, 0)
		switch h.OpCode {
		case ws.OpPing:
			st.frame(ws.OpPong, payload)
		case ws.OpPong:
		case ws.OpClose:
			if len(payload) == 0 {
				st.frame(ws.OpClose, nil)
				return n, true
			}
			if len(payload) < 2 {
				st.closeFrame(ws.StatusProtocolError, "")
				return n, true
			}
			code, reason := ws.ParseCloseFrameDataUnsafe(payload)
			if ws.CheckCloseFrameData(code, reason) != nil {
				st.closeFrame(ws.StatusProtocolError, "")
				return n, true
			}
			st.closeFrame(code, "")
			return n, true
		default:
			if h.Fin && !st.fragmented {
				if !st.message(h.OpCode, payload) {
					return n, true
				}
				continue
			}
			if h.OpCode != ws.OpContinuation {
				st.msgOp, st.msg, st.fragmented = h.OpCode, st.msg[:0], true
			}
			st.msg = append(st.msg, payload...)
			if h.Fin {
				st.fragmented = false
				if !st.message(st.msgOp, st.msg) {
					return n, true
				}
			}
		}
	}
	return n, false
}

// message queues the echo of one whole message; false means the text was not
// UTF-8 and the connection is failing with 1007.
func (st *conn) message(op ws.OpCode, msg []byte) bool {
	if op == ws.OpText && !utf8.Valid(msg) {
		st.closeFrame(ws.StatusInvalidFramePayloadData, "")
		return false
	}
	st.frame(op, msg)
	return true
}

// frame appends one unmasked server frame to the output.
func (st *conn) frame(op ws.OpCode, payload []byte) {
	h := ws.Header{Fin: true, OpCode: op, Length: int64(len(payload))}
	_ = ws.WriteHeaderBuffer(appendWriter{&st.out}, h, st.wbuf[:])
	st.out = append(st.out, payload...)
}

// closeFrame appends a close frame with code.
func (st *conn) closeFrame(code ws.StatusCode, reason string) {
	st.frame(ws.OpClose, ws.NewCloseFrameBody(code, reason))
}

func main() {
	cfg := peer.Parse("gobwasgnet")
	proto := "tcp://" + cfg.Addr
	peer.OnSignal(func() { _ = gnet.Stop(context.Background(), proto) })
	log.Printf("gobwasgnet: listening on %s (loops %d)", cfg.Addr, cfg.Loops)
	if err := gnet.Run(&server{maxMessage: cfg.MaxMessage}, proto, gnet.WithNumEventLoop(cfg.Loops), gnet.WithReusePort(cfg.ReusePort)); err != nil {
		log.Fatalf("gobwasgnet: %v", err)
	}
}
