package collect

// sdkStack is about the stack an SDK call reaches: its middleware stack
// is a few hundred frames deep (initialize, serialize, build, finalize,
// deserialize steps, each wrapping the next; the endpoint rules'
// resolver alone has a frame of several KiB).
const sdkStack = 16 << 10

// growStack grows the calling goroutine's stack once, before an SDK call,
// to the size the call will need. A new goroutine starts with a small
// stack that the runtime doubles each time it overflows, copying it and
// walking every frame on it; a call made on a fresh goroutine paid that
// two or three times, deep in the SDK with many frames to copy: 7.5% of
// a scanner's CPU at 1,000 accounts (pprof: runtime.newstack under
// collect's goroutines). Growing it here copies one frame.
//
//go:noinline
func growStack() {
	var pad [sdkStack]byte
	touch(pad[:])
}

// touch keeps pad from being optimised away.
//
//go:noinline
func touch(b []byte) { b[0] = 0 }

// spawn runs f on a new goroutine whose stack is grown for an SDK call.
func spawn(f func()) {
	go func() {
		growStack()
		f()
	}()
}
