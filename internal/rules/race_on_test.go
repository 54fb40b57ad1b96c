//go:build race

package rules

// raceAllocFactor: under the race detector sync.Pool drops a share of
// what is put back, at random, so a check that reuses pooled buffers
// allocates a varying few more times (55 to 62 where 44 is usual).
// The ceilings still sit far below one allocation per user.
const raceAllocFactor = 2
