package cli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/spf13/cobra"

	"github.com/vigil-sec/vigil/internal/awsenv"
	"github.com/vigil-sec/vigil/internal/input"
	"github.com/vigil-sec/vigil/internal/report"
	"github.com/vigil-sec/vigil/internal/securityhub"
)

// Destinations --to accepts.
const toSecurityHub = "securityhub"

type reportSendOptions struct {
	aws      awsFlags
	to       string
	from     string
	maxInput int64
}

func newReportSendCommand(app *App) *cobra.Command {
	o := reportSendOptions{maxInput: input.DefaultMaxSize}
	cmd := &cobra.Command{
		Use:   "send",
		Short: "Send a saved JSON result to AWS Security Hub",
		Long: `Import a result saved with 'vigil scan --format json' into AWS Security Hub
as ASFF findings (securityhub:BatchImportFindings), into the account of the
credentials and the Region given (--profile, --region or the usual AWS
environment). 'vigil policy --for securityhub' prints the permission.

Finding IDs are stable, so sending a newer result updates the findings of
the older one; a result that passes now resolves its finding. Only
findings Vigil made are ever sent or changed. Exit code 1 when a finding
was refused; each is named on stderr with Security Hub's error.`,
		Example: `  vigil scan --org --format json -o org.json
  vigil report send --to securityhub --from org.json --profile security --region eu-west-1`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runReportSend(cmd.Context(), app, o, cmd.Flags().Changed)
		},
	}
	f := cmd.Flags()
	addAWSFlags(f, &o.aws, false)
	f.StringVar(&o.to, "to", "", "where to send the findings: securityhub")
	f.StringVar(&o.from, "from", "", "the JSON result to send (vigil scan --format json)")
	f.Var(sizeFlag{&o.maxInput}, "max-input-size", maxInputUsage)
	return cmd
}

func runReportSend(ctx context.Context, app *App, o reportSendOptions, changed func(string) bool) error {
	if o.to != toSecurityHub {
		return usagef("--to %q: want %s", o.to, toSecurityHub)
	}
	if o.from == "" {
		return usagef("--from FILE is required: a result saved with vigil scan --format json")
	}
	demo, err := o.aws.validate(changed)
	if err != nil {
		return err
	}
	if err := checkFiles(fileArg{flag: "from", path: o.from}); err != nil {
		return err
	}
	rep, err := readResult(o.from, o.maxInput)
	if err != nil {
		return inputError(err)
	}
	env, err := awsenv.Open(ctx, o.aws.request(app, demo, "", o.maxInput))
	if err != nil {
		return inputError(err)
	}
	defer env.Close()
	return sendToSecurityHub(ctx, app, env.Config, rep, app.Stdout)
}

// readResult reads a JSON result written by vigil scan --format json,
// with the checks every reader of saved results applies (report.ReadJSON:
// schema and version, unknown fields, counts, text cleaned and redacted).
func readResult(path string, limit int64) (*report.Document, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return report.ReadJSON(f, path, limit)
}

// sendToSecurityHub imports rep's findings with cfg and says what
// happened on w; a refused finding makes it fail (exit code 1) after
// every batch was sent.
func sendToSecurityHub(ctx context.Context, app *App, cfg aws.Config, rep *report.Document, w io.Writer) error {
	guides, err := reportGuides()
	if err != nil {
		return err
	}
	t, res, err := securityhub.Import(ctx, cfg, rep, guides, securityhub.Options{Clock: app.clock(), Logger: slog.Default()})
	if t.Account != "" {
		calls := "calls"
		if res.Calls == 1 {
			calls = "call"
		}
		fmt.Fprintf(w, "Security Hub (account %s, %s): %d of %d findings imported in %d %s.\n", t.Account, t.Region, res.Imported, res.Findings, res.Calls, calls)
	}
	for _, f := range res.Failed {
		fmt.Fprintf(app.Stderr, "vigil: Security Hub refused finding %s: %s: %s\n", f.ID, f.Code, f.Message)
	}
	if err != nil {
		return fmt.Errorf("send to Security Hub: %w", err)
	}
	if len(res.Failed) > 0 {
		return fmt.Errorf("Security Hub refused %d of %d findings", len(res.Failed), res.Findings)
	}
	return nil
}
