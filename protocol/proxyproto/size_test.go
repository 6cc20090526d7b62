package proxyproto

import "unsafe"

func unsafeSizeof(p Parser) uintptr { return unsafe.Sizeof(p) }
