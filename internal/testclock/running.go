package testclock

import "time"

// Running returns a clock that reads Ref() when Running is called and then
// advances with the wall clock, as AWS's clock does while a test waits:
// for emulators whose sessions must still expire in real time. Only the
// origin moves with the reference time; elapsed time stays real.
func Running() func() time.Time {
	start := time.Now()
	ref := Ref()
	return func() time.Time { return ref.Add(time.Since(start)).UTC() }
}
