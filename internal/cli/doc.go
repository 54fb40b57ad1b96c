// Package cli is Vigil's command line: cobra commands, each an options
// struct filled from flags and a run function that takes it, so every
// command is testable without a terminal.
package cli
