//go:build !race

package reporttest

const raceEnabled = false
