package cli

import (
	"regexp"

	"github.com/spf13/cobra"

	"github.com/vigil-sec/vigil/internal/collect"
	"github.com/vigil-sec/vigil/internal/orgscan"
)

var partitionPattern = regexp.MustCompile(`^aws(-[a-z]+)*$`)

func newPolicyCommand(app *App) *cobra.Command {
	var org, assumeRoot, memberRole bool
	var role, partition string
	cmd := &cobra.Command{
		Use:   "policy",
		Short: "Print the least-privilege IAM policy a scan needs",
		Long: `Print the identity-based IAM policy that grants exactly the read-only
actions 'vigil scan' can call. Attach it to the role or user that runs scans.

  vigil policy                      a single-account scan
  vigil policy --org                whoever runs 'vigil scan --org' (management
                                    account or delegated administrator)
  vigil policy --org --assume-root  the same for 'vigil scan --org --assume-root'
  vigil policy --member-role        the role --org assumes in every member account

Each policy is built from the interfaces the scanner calls AWS through, and the
tests hold them together: a scan can call nothing a policy does not list.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			changed := cmd.Flags().Changed
			switch {
			case (assumeRoot || changed("role")) && !org:
				return usagef("--assume-root and --role need --org")
			case memberRole && org:
				return usagef("--member-role and --org print different policies; pick one")
			case !partitionPattern.MatchString(partition):
				return usagef("--partition %q: want aws, aws-us-gov, aws-cn…", partition)
			}
			p := collect.ScanPolicy()
			switch {
			case memberRole:
				p = orgscan.MemberRolePolicy()
			case org:
				mode := orgscan.ModeRole
				if assumeRoot {
					mode = orgscan.ModeRoot
				}
				r := orgscan.Role{Name: role}
				if err := r.Validate(); err != nil {
					return usagef("--role: %v", err)
				}
				p = orgscan.CallerPolicy(mode, r.Name, partition, assumeRoot && changed("role"))
			}
			b, err := collect.MarshalPolicy(p)
			if err != nil {
				return err
			}
			_, err = app.Stdout.Write(b)
			return err
		},
	}
	f := cmd.Flags()
	f.BoolVar(&org, "org", false, "the policy of whoever runs an organisation scan")
	f.BoolVar(&assumeRoot, "assume-root", false, "with --org: for scans through sts:AssumeRoot")
	f.StringVar(&role, "role", orgscan.DefaultRoleName, "with --org: the member role the scan assumes (scopes sts:AssumeRole)")
	f.BoolVar(&memberRole, "member-role", false, "the policy of the read-only role in each member account")
	f.StringVar(&partition, "partition", "aws", "the partition of the ARNs in the policy")
	return cmd
}
