package cli

import (
	"github.com/spf13/cobra"

	"github.com/vigil-sec/vigil/internal/collect"
)

func newPolicyCommand(app *App) *cobra.Command {
	return &cobra.Command{
		Use:   "policy",
		Short: "Print the least-privilege IAM policy a scan needs",
		Long: `Print the identity-based IAM policy that grants exactly the read-only
actions 'vigil scan' can call. Attach it to the role or user that runs scans.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			b, err := collect.MarshalPolicy(collect.ScanPolicy())
			if err != nil {
				return err
			}
			_, err = app.Stdout.Write(b)
			return err
		},
	}
}
