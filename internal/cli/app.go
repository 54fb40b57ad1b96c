package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/vigil-sec/vigil/internal/change"
	"github.com/vigil-sec/vigil/internal/clock"
	"github.com/vigil-sec/vigil/internal/redact"
)

// Exit codes, documented in the README.
const (
	ExitOK       = 0
	ExitError    = 1
	ExitUsage    = 2
	ExitFindings = 3
)

// App is the process environment a command runs in. Tests replace any part.
type App struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
	Version        string
	// Now is the clock; nil means the process's own (clock.FromEnv of
	// Getenv): the wall clock, or the instant SOURCE_DATE_EPOCH names, so
	// that outputs can be reproduced byte for byte and a test and the
	// processes it starts agree on what "now" is.
	Now    func() time.Time
	Getenv func(string) string
	// IsTerminal reports whether w is an interactive terminal.
	IsTerminal func(w io.Writer) bool
	// StdinIsTerminal reports whether Stdin is one, so a confirmation can
	// be asked; nil means "check Stdin".
	StdinIsTerminal func() bool

	// logs is stderr as the logger sees it, so a progress bar can step
	// aside for log lines.
	logs *logSink
}

// interactive reports whether a person can answer a prompt on Stdin.
func (a *App) interactive() bool {
	if a.StdinIsTerminal != nil {
		return a.StdinIsTerminal()
	}
	f, ok := a.Stdin.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// confirmer is how a run that changes things is confirmed: on the
// terminal, or not at all with --yes.
func (a *App) confirmer(yes bool) change.Confirmer {
	if yes {
		return change.Yes{}
	}
	return change.Terminal{In: a.Stdin, Out: a.Stderr}
}

// DefaultApp is the real process.
func DefaultApp(version string) *App {
	return &App{
		Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Version: version,
		Getenv: os.Getenv,
		IsTerminal: func(w io.Writer) bool {
			f, ok := w.(*os.File)
			return ok && term.IsTerminal(int(f.Fd()))
		},
	}
}

// now is the clock of every time Vigil writes and judges ages by. Main
// sets it up before any command runs.
func (a *App) now() time.Time { return a.Now().UTC() }

// setClock gives the app the process's clock unless a test gave it one.
// SOURCE_DATE_EPOCH (the reproducible-builds convention) pins it; a value
// that is not a time is refused rather than silently read as today, since
// every age Vigil judges ("used 2 days ago") would then be wrong.
func (a *App) setClock() error {
	if a.Now != nil {
		return nil
	}
	getenv := a.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	c, err := clock.FromEnv(getenv)
	if err != nil {
		return err
	}
	a.Now = c.Now
	return nil
}

// clock is the run's clock: the app's time (Now, after setClock) and
// deadlines (accounts, calls, stall warnings) on the wall clock, since a
// pinned time must not stop a run from giving up on a dead endpoint.
func (a *App) clock() clock.Clock {
	if a.Now == nil {
		if err := a.setClock(); err != nil {
			return clock.Wall{}
		}
	}
	return clock.Func(a.Now)
}

// usageError marks a mistake in the command line (exit code 2).
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// findingsError reports failures at or above --fail-on (exit code 3).
type findingsError struct {
	n   int
	min string
	// undecided counts the results there that could not be decided.
	undecided int
}

func (e findingsError) Error() string {
	s := fmt.Sprintf("%d result(s) failed at or above severity %s", e.n, e.min)
	if e.undecided > 0 {
		s += fmt.Sprintf(", and %d more there could not be decided (UNKNOWN; see the report)", e.undecided)
	}
	return s
}

// Main runs the command line and returns the exit code.
func Main(ctx context.Context, args []string, app *App) int {
	if err := app.setClock(); err != nil {
		fmt.Fprintln(app.Stderr, "vigil:", redact.Text(err.Error()))
		return ExitUsage
	}
	root := NewRootCommand(app)
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	var ue usageError
	var fe findingsError
	var unk unknownError
	switch {
	case errors.As(err, &fe):
		fmt.Fprintln(app.Stderr, "vigil:", redact.Text(err.Error()))
		return ExitFindings
	case errors.As(err, &unk):
		fmt.Fprintln(app.Stderr, "vigil:", redact.Text(err.Error()))
		return ExitUnknown
	case errors.As(err, &ue):
		fmt.Fprintln(app.Stderr, "vigil:", redact.Text(err.Error()))
		fmt.Fprintln(app.Stderr, "Run 'vigil --help' for usage.")
		return ExitUsage
	}
	fmt.Fprintln(app.Stderr, "vigil:", redact.Text(err.Error()))
	return ExitError
}

// NewRootCommand builds the command tree.
func NewRootCommand(app *App) *cobra.Command {
	var logFormat, logLevel string
	root := &cobra.Command{
		Use:   "vigil",
		Short: "Find and fix AWS root user credentials across accounts",
		Long: `Vigil keeps AWS accounts out of the states that get companies breached,
starting with the most critical one: the account root user holding access keys.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			app.logs = &logSink{w: app.Stderr}
			logger, err := newLogger(app.logs, logFormat, logLevel)
			if err != nil {
				return err
			}
			slog.SetDefault(logger)
			return nil
		},
	}
	root.SetOut(app.Stdout)
	root.SetErr(app.Stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.PersistentFlags().StringVar(&logFormat, "log-format", "text", "log format on stderr: text or json")
	root.PersistentFlags().StringVar(&logLevel, "log-level", "warn", "log level: debug, info, warn or error")
	root.AddCommand(newScanCommand(app), newFixCommand(app), newPreventCommand(app), newPolicyCommand(app), newVersionCommand(app), newExplainCommand(app), newRulesCommand(app), newDocsCommand(app),
		newReportCommand(app))
	root.AddCommand(newFindingsCommand(app), newScansCommand(app), newSuppressCommand(app), newServeCommand(app), newDBCommand(app))
	root.AddCommand(newTokenCommand(app))
	root.AddCommand(newEventsCommand(app))
	return root
}

func newLogger(w io.Writer, format, level string) (*slog.Logger, error) {
	var lv slog.Level
	if err := lv.UnmarshalText([]byte(level)); err != nil {
		return nil, usagef("--log-level %q: want debug, info, warn or error", level)
	}
	opts := &slog.HandlerOptions{Level: lv}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, usagef("--log-format %q: want text or json", format)
}

// noArgs rejects positional arguments as a usage error.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usagef("%s takes no arguments, got %q", cmd.CommandPath(), args)
	}
	return nil
}
