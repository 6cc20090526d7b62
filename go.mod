module github.com/wsreactor/wsreactor

go 1.26.8

require (
	github.com/coder/websocket v1.8.15
	github.com/gorilla/websocket v1.5.3
	github.com/panjf2000/gnet/v2 v2.9.7
	golang.org/x/sys v0.30.0
)

require (
	github.com/panjf2000/ants/v2 v2.11.3 // indirect
	github.com/valyala/bytebufferpool v1.0.0 // indirect
	go.uber.org/multierr v1.11.0 // indirect
	go.uber.org/zap v1.27.0 // indirect
	golang.org/x/sync v0.11.0 // indirect
	gopkg.in/natefinch/lumberjack.v2 v2.2.1 // indirect
)

// gnet v2.9.7 with wsreactor's patch to its acceptor: running out of
// descriptors sheds connections instead of stopping the engine. See
// third_party/gnet/PATCH.md.
replace github.com/panjf2000/gnet/v2 => ./third_party/gnet
