// Command vigil finds, explains and fixes AWS root user credentials.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"github.com/vigil-sec/vigil/internal/cli"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	// The first interrupt cancels the scan, which then writes what it
	// finished; a second one ends the process at once.
	go func() {
		<-ctx.Done()
		stop()
	}()
	code := cli.Main(ctx, os.Args[1:], cli.DefaultApp(version))
	stop()
	os.Exit(code)
}
