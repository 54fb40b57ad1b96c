//go:build race

package reporttest

// raceEnabled: the race detector multiplies memory and time, so the
// bounded-memory check is left to the runs without it.
const raceEnabled = true
