package inflate

import (
	"errors"
	"fmt"
)

// ErrCorrupt is wrapped by every error about the input: a reserved block
// type, an invalid Huffman code, a back-reference before the start of the
// stream or beyond the window, input after the final block. Test with
// errors.Is; the message says what was wrong and at which input offset
// (bytes since Reset).
var ErrCorrupt = errors.New("inflate: corrupt input")

// corruptError is the error Inflate returns; it prints as
// "inflate: corrupt input at byte 12: distance 40000 beyond the window of 32768 bytes".
type corruptError struct {
	offset int64
	what   string
}

func (e *corruptError) Error() string {
	return fmt.Sprintf("%v at byte %d: %s", ErrCorrupt, e.offset, e.what)
}

func (e *corruptError) Unwrap() error { return ErrCorrupt }
