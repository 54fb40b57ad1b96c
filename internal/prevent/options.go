package prevent

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Options describe the organisation the artefacts are for. Fields that are
// unknown (no credentials were used) stay empty, and the artefacts then
// ask for them as Terraform variables and CloudFormation parameters
// instead of guessing.
type Options struct {
	// Partition is aws, aws-us-gov or aws-cn.
	Partition string `json:"partition"`
	// OrganizationID ("o-…"), RootID ("r-…") and ManagementAccountID are
	// filled in when Vigil could read them.
	OrganizationID      string `json:"organization_id,omitempty"`
	RootID              string `json:"root_id,omitempty"`
	ManagementAccountID string `json:"management_account_id,omitempty"`
	// Targets are the root, OU and account IDs the SCPs are attached to.
	// Empty means the root when it is known.
	Targets []string `json:"targets"`
	// Regions are the regions monitored for root activity. Empty means
	// DefaultRegions(Partition).
	Regions []string `json:"regions"`
	// HomeRegion holds the central event bus and the SNS topic. Empty
	// means the partition's global-events region (us-east-1 in aws).
	HomeRegion string `json:"home_region"`
	// AlertEmail, when set, is subscribed to the SNS topic.
	AlertEmail string `json:"alert_email,omitempty"`
	// Standalone is an account in no organisation (or watched on its own):
	// no SCPs, no StackSet; the rule and queue live in the account itself,
	// on the default event bus of HomeRegion, and the other regions
	// forward to it.
	Standalone bool `json:"standalone,omitempty"`
	// AccountID is the standalone account, when known.
	AccountID string `json:"account_id,omitempty"`
}

// Partitions Vigil generates artefacts for.
var partitions = []string{"aws", "aws-us-gov", "aws-cn"}

// defaultRegions are the regions every account has enabled: those launched
// before 2019-03-20 in the commercial partition, and every region of
// GovCloud (US) and China. Opt-in regions are left out because deploying
// to a region an account has not enabled fails; add the ones you use
// with --regions.
var defaultRegions = map[string][]string{
	"aws": {"us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "sa-east-1",
		"eu-central-1", "eu-west-1", "eu-west-2", "eu-west-3", "eu-north-1",
		"ap-south-1", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-southeast-1", "ap-southeast-2"},
	"aws-us-gov": {"us-gov-west-1", "us-gov-east-1"},
	"aws-cn":     {"cn-north-1", "cn-northwest-1"},
}

// OptInRegions are commercial regions disabled by default (launched after
// 2019-03-20), as known to this version of Vigil; AWS adds more.
var OptInRegions = []string{"af-south-1", "ap-east-1", "ap-east-2", "ap-south-2", "ap-southeast-3", "ap-southeast-4",
	"ap-southeast-5", "ap-southeast-6", "ap-southeast-7", "ca-west-1", "eu-central-2", "eu-south-1", "eu-south-2",
	"il-central-1", "me-central-1", "me-south-1", "mx-central-1"}

// globalEventsRegion is where CloudTrail delivers the events of global
// services (IAM, STS's global endpoint, console sign-in) to EventBridge:
// root access key creation lands there whatever region the caller chose.
var globalEventsRegion = map[string]string{"aws": "us-east-1", "aws-us-gov": "us-gov-west-1", "aws-cn": "cn-north-1"}

// DefaultRegions returns the default monitored regions of a partition.
func DefaultRegions(partition string) []string { return slices.Clone(defaultRegions[partition]) }

// GlobalEventsRegion returns the region global-service events land in.
func GlobalEventsRegion(partition string) string { return globalEventsRegion[partition] }

var (
	regionPattern  = regexp.MustCompile(`^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]+$`)
	rootIDPattern  = regexp.MustCompile(`^r-[0-9a-z]{4,32}$`)
	ouIDPattern    = regexp.MustCompile(`^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$`)
	acctIDPattern  = regexp.MustCompile(`^[0-9]{12}$`)
	orgIDPattern   = regexp.MustCompile(`^o-[a-z0-9]{10,32}$`)
	emailPattern   = regexp.MustCompile(`^[^@\s]+@[^@\s]+\.[^@\s]+$`)
	targetPatterns = []*regexp.Regexp{rootIDPattern, ouIDPattern, acctIDPattern}
)

// IsTarget reports whether id is a root, OU or account ID.
func IsTarget(id string) bool {
	return slices.ContainsFunc(targetPatterns, func(p *regexp.Regexp) bool { return p.MatchString(id) })
}

// ErrManagementTarget is returned when the management account is named as
// an SCP target.
type ErrManagementTarget struct{ Account string }

func (e ErrManagementTarget) Error() string {
	return fmt.Sprintf("%s is the organisation's management account: SCPs never apply to it, so attaching one there would only look like protection; protect its root user by removing its credentials and monitoring it", e.Account)
}

// Normalize fills defaults and checks every field, naming the option
// (as a flag) at fault.
func (o *Options) Normalize() error {
	if o.Partition == "" {
		o.Partition = "aws"
	}
	if !slices.Contains(partitions, o.Partition) {
		return fmt.Errorf("--partition %q: want aws, aws-us-gov or aws-cn", o.Partition)
	}
	if o.OrganizationID != "" && !orgIDPattern.MatchString(o.OrganizationID) {
		return fmt.Errorf("organisation ID %q: want o- and 10 to 32 lowercase letters or digits", o.OrganizationID)
	}
	if o.RootID != "" && !rootIDPattern.MatchString(o.RootID) {
		return fmt.Errorf("root ID %q: want r- and 4 to 32 lowercase letters or digits", o.RootID)
	}
	if o.Standalone {
		switch {
		case o.OrganizationID != "" || o.RootID != "" || o.ManagementAccountID != "":
			return errors.New("--standalone: the artefacts are for one account outside an organisation, but an organisation was given")
		case len(o.Targets) > 0:
			return errors.New("--target: SCPs need an AWS Organization; --standalone makes only the root activity rule, topic and queue of one account")
		}
	}
	if o.AccountID != "" && !acctIDPattern.MatchString(o.AccountID) {
		return fmt.Errorf("account ID %q: want 12 digits", o.AccountID)
	}
	seen := map[string]bool{}
	var targets []string
	for _, t := range o.Targets {
		t = strings.TrimSpace(t)
		if !IsTarget(t) {
			return fmt.Errorf("--target %q: want a root ID (r-…), an OU ID (ou-…-…) or a 12-digit account ID", t)
		}
		if o.ManagementAccountID != "" && t == o.ManagementAccountID {
			return ErrManagementTarget{Account: t}
		}
		if o.RootID != "" && rootIDPattern.MatchString(t) && t != o.RootID {
			return fmt.Errorf("--target %s: the organisation's root is %s", t, o.RootID)
		}
		if !seen[t] {
			seen[t] = true
			targets = append(targets, t)
		}
	}
	o.Targets = targets
	if len(o.Targets) == 0 && o.RootID != "" {
		o.Targets = []string{o.RootID}
	}
	if len(o.Regions) == 0 {
		o.Regions = DefaultRegions(o.Partition)
	}
	seen = map[string]bool{}
	var regions []string
	for _, r := range o.Regions {
		r = strings.TrimSpace(r)
		if !regionPattern.MatchString(r) {
			return fmt.Errorf("--regions: %q is not a region name (e.g. eu-west-1)", r)
		}
		if p := partitionOfRegion(r); p != o.Partition {
			return fmt.Errorf("--regions: %s is in partition %s, not %s", r, p, o.Partition)
		}
		if !seen[r] {
			seen[r] = true
			regions = append(regions, r)
		}
	}
	o.Regions = regions
	global := globalEventsRegion[o.Partition]
	if !slices.Contains(o.Regions, global) {
		return fmt.Errorf("--regions must include %s: CloudTrail delivers IAM and console sign-in events (root access key creation among them) to EventBridge only there", global)
	}
	if o.HomeRegion == "" {
		o.HomeRegion = global
	}
	if !slices.Contains(o.Regions, o.HomeRegion) {
		return fmt.Errorf("--home-region %s must be one of the monitored --regions", o.HomeRegion)
	}
	if o.AlertEmail != "" && !emailPattern.MatchString(o.AlertEmail) {
		return fmt.Errorf("--alert-email %q is not an email address", o.AlertEmail)
	}
	return nil
}

// CheckRegion checks that region names a region of partition.
func CheckRegion(partition, region string) error {
	if !regionPattern.MatchString(region) {
		return fmt.Errorf("%q is not a region name (e.g. eu-west-1)", region)
	}
	if p := partitionOfRegion(region); p != partition {
		return fmt.Errorf("%s is in partition %s, not %s", region, p, partition)
	}
	return nil
}

func partitionOfRegion(r string) string {
	switch {
	case strings.HasPrefix(r, "us-gov-"):
		return "aws-us-gov"
	case strings.HasPrefix(r, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(r, "us-iso"):
		return "aws-iso"
	}
	return "aws"
}

// optIn lists the chosen regions that are opt-in.
func (o *Options) optIn() []string {
	var out []string
	for _, r := range o.Regions {
		if slices.Contains(OptInRegions, r) {
			out = append(out, r)
		}
	}
	return out
}
