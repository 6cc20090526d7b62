package frame_test

import (
	"errors"
	"fmt"

	"github.com/wsreactor/wsreactor/frame"
)

// A server decodes client frames from whatever bytes have arrived: here the
// masked "Hello" of RFC 6455 §5.7 arrives in two reads split inside the
// header. Payload comes back unmasked in place, aliasing the read buffer.
func Example_decoder() {
	wire := []byte{0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d, 0x7f, 0x9f, 0x4d, 0x51, 0x58}
	var d frame.Decoder
	for _, read := range [][]byte{wire[:3], wire[3:]} {
		for p := read; len(p) > 0; {
			ev, n, err := d.Next(p)
			if err != nil {
				fmt.Println(err)
				return
			}
			p = p[n:]
			switch ev.Kind {
			case frame.KindNone:
				fmt.Println("need more bytes")
			case frame.KindHeader:
				fmt.Println(ev.Header.Opcode, ev.Header.Length, "bytes, masked:", ev.Header.Masked)
				if err := frame.CheckClientFrame(ev.Header, 0); err != nil {
					fmt.Println(err)
					return
				}
			case frame.KindPayload:
				fmt.Printf("%q end=%v\n", ev.Data, ev.End)
			}
		}
	}
	// Output:
	// need more bytes
	// text 5 bytes, masked: true
	// "Hello" end=true
}

// A frame may declare any length; the decoder hands its payload back in the
// pieces it arrives and allocates nothing for the declared size.
func ExampleDecoder_Remaining() {
	wire := frame.AppendHeader(nil, true, frame.OpBinary, 1<<40)
	wire = append(wire, "0123456789"...)
	var d frame.Decoder
	_, n, _ := d.Next(wire)
	ev, _, _ := d.Next(wire[n:])
	fmt.Printf("%q, %d bytes to come\n", ev.Data, d.Remaining())
	// Output: "0123456789", 1099511627766 bytes to come
}

// A server frame is unmasked with the shortest length encoding.
func ExampleAppendFrame() {
	fmt.Printf("% x\n", frame.AppendFrame(nil, true, frame.OpText, []byte("Hello")))
	fmt.Printf("% x\n", frame.AppendFrame(nil, false, frame.OpBinary, make([]byte, 256))[:4])
	// Output:
	// 81 05 48 65 6c 6c 6f
	// 02 7e 01 00
}

// A client frame is masked; this is the masked example of RFC 6455 §5.7.
func ExampleAppendMaskedFrame() {
	key := [4]byte{0x37, 0xfa, 0x21, 0x3d}
	fmt.Printf("% x\n", frame.AppendMaskedFrame(nil, true, frame.OpText, key, []byte("Hello")))
	// Output: 81 85 37 fa 21 3d 7f 9f 4d 51 58
}

// Masking continues across pieces when each call is given the offset the
// previous one returned.
func ExampleMask() {
	key := [4]byte{0x37, 0xfa, 0x21, 0x3d}
	data := []byte{0x7f, 0x9f, 0x4d, 0x51, 0x58}
	pos := frame.Mask(key, 0, data[:3])
	pos = frame.Mask(key, pos, data[3:])
	fmt.Printf("%q %d\n", data, pos)
	// Output: "Hello" 1
}

// Text is validated as it arrives, across fragments. complete tells how
// much may be passed on now; the rest is an unfinished code point.
func ExampleUTF8_Validate() {
	var v frame.UTF8
	for _, piece := range []string{"caf\xc3", "\xa9 \xe2\x82", "\xac", "\xed\xa0\x80"} {
		complete, ok := v.Validate([]byte(piece))
		fmt.Printf("%q: complete=%d ok=%v boundary=%v\n", piece, complete, ok, v.AtBoundary())
	}
	// Output:
	// "caf\xc3": complete=3 ok=true boundary=false
	// "\xa9 \xe2\x82": complete=2 ok=true boundary=false
	// "\xac": complete=1 ok=true boundary=true
	// "\xed\xa0\x80": complete=1 ok=false boundary=false
}

// A close body is a code and a UTF-8 reason; an error carries the code to
// answer with.
func ExampleParseCloseBody() {
	for _, body := range []string{"", "\x03\xe8bye", "\x03\xed", "\x03\xe8\xff"} {
		code, reason, err := frame.ParseCloseBody([]byte(body))
		fmt.Printf("%v %q %v -> answer %d\n", code, reason, err, frame.CodeOf(err))
	}
	// Output:
	// 1005 no status "" <nil> -> answer 1000
	// 1000 normal closure "bye" <nil> -> answer 1000
	// 1005 no status "" frame: invalid close code 1005 (close 1002) -> answer 1002
	// 1000 normal closure "" frame: close reason is not valid UTF-8 "\xff" (close 1007) -> answer 1007
}

// Every protocol error knows the close code that fails the connection.
func ExampleCodeOf() {
	err := fmt.Errorf("protocol: %w", frame.ErrInvalidUTF8)
	fmt.Println(frame.CodeOf(err), errors.Is(err, frame.ErrInvalidUTF8))
	fmt.Printf("% x\n", frame.AppendClose(nil, frame.CodeOf(err), "bad text"))
	// Output:
	// 1007 invalid payload data true
	// 88 0a 03 ef 62 61 64 20 74 65 78 74
}

// A server checks each client frame's header on its own before anything
// else (RFC 6455 §5.1, §5.2, §5.5).
func ExampleCheckClientFrame() {
	for _, h := range []frame.Header{
		{Fin: true, Opcode: frame.OpText, Masked: true, Length: 5},
		{Fin: true, Opcode: frame.OpText, Length: 5},
		{Fin: true, Opcode: frame.OpPing, Masked: true, Length: 126},
		{Fin: false, Opcode: frame.OpClose, Masked: true},
		{Fin: true, Rsv: 4, Opcode: frame.OpBinary, Masked: true},
	} {
		fmt.Println(frame.CheckClientFrame(h, 0))
	}
	// Output:
	// <nil>
	// frame: client frame is not masked (close 1002)
	// frame: control frame payload over 125 bytes (close 1002)
	// frame: fragmented control frame (close 1002)
	// frame: reserved bits set without a negotiated extension (close 1002)
}

// A text message in two fragments with a ping between them (RFC 6455 §5.4:
// control frames may be injected in the middle of a fragmented message),
// decoded the way a server follows it: the message's opcode comes from its
// first frame, continuations add to it, a control frame is handled on its
// own, FIN ends the message.
func Example_fragmented() {
	key := [4]byte{0xa, 0xb, 0xc, 0xd}
	var wire []byte
	wire = frame.AppendMaskedFrame(wire, false, frame.OpText, key, []byte("Hel"))
	wire = frame.AppendMaskedFrame(wire, true, frame.OpPing, key, []byte("are you there?"))
	wire = frame.AppendMaskedFrame(wire, true, frame.OpContinuation, key, []byte("lo"))

	var (
		d        frame.Decoder
		frameOp  frame.Opcode // the frame being read
		fin      bool
		msgOp    frame.Opcode // the message being read; 0 between messages
		msg, ctl []byte
	)
	for p := wire; len(p) > 0; {
		ev, n, err := d.Next(p)
		p = p[n:]
		if err != nil {
			fmt.Println(err)
			return
		}
		switch ev.Kind {
		case frame.KindHeader:
			if err := frame.CheckClientFrame(ev.Header, 0); err != nil {
				fmt.Println(err)
				return
			}
			frameOp, fin = ev.Header.Opcode, ev.Header.Fin
			if frameOp == frame.OpText || frameOp == frame.OpBinary {
				msgOp = frameOp
			}
		case frame.KindPayload:
			if frameOp.IsControl() {
				ctl = append(ctl, ev.Data...)
			} else {
				msg = append(msg, ev.Data...)
			}
		}
		if !ev.End {
			continue
		}
		switch {
		case frameOp.IsControl():
			fmt.Printf("%v %q: answer with a pong\n", frameOp, ctl)
			ctl = ctl[:0]
		case fin:
			fmt.Printf("%v message %q\n", msgOp, msg)
			msg, msgOp = msg[:0], 0
		default:
			fmt.Printf("%v fragment, %d bytes so far\n", msgOp, len(msg))
		}
	}
	// Output:
	// text fragment, 3 bytes so far
	// ping "are you there?": answer with a pong
	// text message "Hello"
}
