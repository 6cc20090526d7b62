// Package flatecmp holds the measurement that chose the compressor of
// wsreactor's permessage-deflate (RFC 7692): compress/flate against
// github.com/klauspost/compress/flate, on the work the server does per
// echoed message (reset, write, sync flush) and on what a compressor costs
// to create (its memory). Run it with
//
//	cd bench && go test -run '^$' -bench . -benchmem ./flatecmp
package flatecmp
