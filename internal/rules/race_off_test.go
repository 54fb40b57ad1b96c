//go:build !race

package rules

// raceAllocFactor: see race_on_test.go.
const raceAllocFactor = 1
