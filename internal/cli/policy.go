package cli

import (
	"regexp"

	"github.com/spf13/cobra"

	"github.com/vigil-sec/vigil/internal/collect"
	"github.com/vigil-sec/vigil/internal/fix"
	"github.com/vigil-sec/vigil/internal/fleet"
	"github.com/vigil-sec/vigil/internal/guardrail"
	"github.com/vigil-sec/vigil/internal/securityhub"
)

var partitionPattern = regexp.MustCompile(`^aws(-[a-z]+)*$`)

func newPolicyCommand(app *App) *cobra.Command {
	var org, assumeRoot, memberRole bool
	var role, partition, forCmd string
	cmd := &cobra.Command{
		Use:   "policy",
		Short: "Print the least-privilege IAM policy a command needs",
		Long: `Print the identity-based IAM policy that grants exactly the actions a Vigil
command can call. Attach it to the role or user that runs the command.

  vigil policy                      a single-account scan (read-only)
  vigil policy --org                whoever runs 'vigil scan --org' (management
                                    account or delegated administrator)
  vigil policy --org --assume-root  the same for 'vigil scan --org --assume-root'
  vigil policy --member-role        the role --org assumes in every member account
  vigil policy --for prevent        'vigil prevent --plan' and '--apply' in the
                                    management account (or, --standalone, the
                                    one account); its write actions are only
                                    called by --apply, the queue and rule ones
                                    only on Vigil's queues and rule
  vigil policy --for fix            whoever runs 'vigil fix' (--org: the
                                    management account or delegated
                                    administrator); --role NAME adds assuming
                                    the CloudTrail read role
  vigil policy --for fix --member-role
                                    that read role in each member account
  vigil policy --for securityhub    what 'vigil scan --to securityhub' and
                                    'vigil report send' add: importing
                                    findings into Security Hub

Each policy is built from the interfaces the code calls AWS through, and the
tests hold them together: a command can call nothing its policy does not list.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			changed := cmd.Flags().Changed
			switch {
			case forCmd != "scan" && forCmd != "prevent" && forCmd != "fix" && forCmd != toSecurityHub:
				return usagef("--for %q: want scan, prevent, fix or securityhub", forCmd)
			case forCmd == toSecurityHub && (org || assumeRoot || memberRole || changed("role")):
				return usagef("--org, --assume-root, --role and --member-role describe scans; vigil policy --for securityhub prints only what sending adds")
			case forCmd == toSecurityHub && !partitionPattern.MatchString(partition):
				return usagef("--partition %q: want aws, aws-us-gov, aws-cn…", partition)
			case forCmd == toSecurityHub:
				b, err := collect.MarshalPolicy(securityhub.Policy(partition))
				if err != nil {
					return err
				}
				_, err = app.Stdout.Write(b)
				return err
			case forCmd == "prevent" && (org || assumeRoot || memberRole || changed("role")):
				return usagef("--org, --assume-root, --role and --member-role describe scans; they do not combine with --for prevent")
			case forCmd == "prevent" && !partitionPattern.MatchString(partition):
				return usagef("--partition %q: want aws, aws-us-gov, aws-cn…", partition)
			case forCmd == "fix" && (org || assumeRoot):
				return usagef("--org and --assume-root describe scans; vigil policy --for fix covers vigil fix with and without --org")
			case forCmd == "fix" && memberRole && changed("role"):
				return usagef("--member-role prints the role's own policy; --role names it in the caller's policy")
			case forCmd == "fix" && !partitionPattern.MatchString(partition):
				return usagef("--partition %q: want aws, aws-us-gov, aws-cn…", partition)
			case forCmd == "fix":
				p := fix.CallerPolicy(partition, "")
				if memberRole {
					p = fix.TrailRolePolicy()
				} else if changed("role") {
					r := fleet.Role{Name: role}
					if err := r.Validate(); err != nil {
						return usagef("--role: %v", err)
					}
					p = fix.CallerPolicy(partition, r.Name)
				}
				b, err := collect.MarshalPolicy(p)
				if err != nil {
					return err
				}
				_, err = app.Stdout.Write(b)
				return err
			case (assumeRoot || changed("role")) && !org:
				return usagef("--assume-root and --role need --org")
			case memberRole && org:
				return usagef("--member-role and --org print different policies; pick one")
			case !partitionPattern.MatchString(partition):
				return usagef("--partition %q: want aws, aws-us-gov, aws-cn…", partition)
			}
			p := collect.ScanPolicy()
			switch {
			case forCmd == "prevent":
				p = guardrail.Policy(partition)
			case memberRole:
				p = fleet.MemberRolePolicy()
			case org:
				mode := fleet.ModeRole
				if assumeRoot {
					mode = fleet.ModeRoot
				}
				r := fleet.Role{Name: role}
				if err := r.Validate(); err != nil {
					return usagef("--role: %v", err)
				}
				p = fleet.CallerPolicy(mode, r.Name, partition, assumeRoot && changed("role"))
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
	f.StringVar(&forCmd, "for", "scan", "the command the policy is for: scan, prevent, fix or securityhub")
	f.BoolVar(&org, "org", false, "the policy of whoever runs an organisation scan")
	f.BoolVar(&assumeRoot, "assume-root", false, "with --org: for scans through sts:AssumeRoot")
	f.StringVar(&role, "role", fleet.DefaultRoleName, "with --org: the member role the scan assumes; with --for fix: the CloudTrail read role vigil fix --role assumes (scopes sts:AssumeRole)")
	f.BoolVar(&memberRole, "member-role", false, "the policy of the read-only role in each member account (with --for fix: the CloudTrail read role's)")
	f.StringVar(&partition, "partition", "aws", "the partition of the ARNs in the policy")
	return cmd
}
