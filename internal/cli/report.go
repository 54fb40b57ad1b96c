package cli

import "github.com/spf13/cobra"

// newReportCommand is the parent of the commands that work on a saved
// JSON result (vigil scan --format json) without scanning again; each
// subcommand lives in a file of its own (report_send.go).
func newReportCommand(app *App) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "report",
		Short: "Work with a saved JSON result without scanning again",
		Args:  noArgs,
	}
	cmd.AddCommand(newReportSendCommand(app))
	return cmd
}
