package inflate_test

import (
	"fmt"

	"github.com/wsreactor/wsreactor/inflate"
)

// A permessage-deflate receiver (RFC 7692 §7.2.2) pushes a message's
// payload as it arrives, then the 00 00 ff ff the sender stripped; after
// that, all of the message has come out. Here the payload of RFC 7692
// §7.2.3.1 ("Hello") arrives in two pieces and out is only 2 bytes.
func ExampleInflater() {
	var f inflate.Inflater
	f.Reset(15) // no context takeover: Reset before each message
	pieces := [][]byte{{0xf2, 0x48, 0xcd}, {0xc9, 0xc9, 0x07, 0x00}, {0x00, 0x00, 0xff, 0xff}}
	out := make([]byte, 2)
	var msg []byte
	for _, in := range pieces {
		for {
			nOut, nIn, err := f.Inflate(out, in)
			if err != nil {
				fmt.Println(err) // answer 1007
				return
			}
			msg = append(msg, out[:nOut]...) // or validate and echo it, then forget it
			in = in[nIn:]
			if len(in) == 0 && nOut < len(out) {
				break // this piece is used up and nothing is held back
			}
		}
	}
	fmt.Printf("%q\n", msg)
	// Output: "Hello"
}
