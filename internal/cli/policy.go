package cli

import (
	"github.com/spf13/cobra"

	"github.com/vigil-sec/vigil/internal/collect"
	"github.com/vigil-sec/vigil/internal/guardrail"
)

func newPolicyCommand(app *App) *cobra.Command {
	var forCmd string
	cmd := &cobra.Command{
		Use:   "policy",
		Short: "Print the least-privilege IAM policy a command needs",
		Long: `Print the identity-based IAM policy that grants exactly the actions a Vigil
command can call. Attach it to the role or user that runs the command.

--for scan (the default) is read-only. --for prevent is what 'vigil prevent
--plan' and '--apply' need in the management account; its write actions are
only called by --apply.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var p collect.Policy
			switch forCmd {
			case "scan":
				p = collect.ScanPolicy()
			case "prevent":
				p = guardrail.Policy()
			default:
				return usagef("--for %q: want scan or prevent", forCmd)
			}
			b, err := collect.MarshalPolicy(p)
			if err != nil {
				return err
			}
			_, err = app.Stdout.Write(b)
			return err
		},
	}
	cmd.Flags().StringVar(&forCmd, "for", "scan", "the command the policy is for: scan or prevent")
	return cmd
}
