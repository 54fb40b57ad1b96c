package rules

import (
	"fmt"

	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/snapshot"
)

// EC2InstanceRole fails every EC2 instance (running or stopped) that has
// no IAM instance profile (CIS "Ensure IAM instance roles are used for
// AWS resource access from instances", Automated, Level 2). An instance
// without a role that reaches AWS does so with long-term access keys kept
// on its disk, which anyone who reads the disk or a snapshot of it can
// take. One result per instance in every enabled region; a region whose
// instances could not be read is UNKNOWN. Terminated instances are gone
// and not judged.
var EC2InstanceRole = rule.Rule{
	ID:       "ec2-instance-role",
	Title:    "EC2 instance runs without an IAM role",
	Severity: rule.Medium,
	Category: "Security",
	Service:  "ec2",
	Check:    checkEC2InstanceRole,
}

func checkEC2InstanceRole(in rule.Input) rule.Outcome {
	a := in.Account
	regions, o := accountRegions(in)
	if o != nil {
		return *o
	}
	// An account can run thousands of instances: they go in a
	// ResourceSet, every instance with a role sharing one PASS; only a
	// failure, which names its instance, has an outcome of its own.
	n := 0
	for _, r := range regions {
		n += len(r.Instances) + 1
	}
	set := rule.NewResourceSet(n)
	withRole := set.Share(rule.Pass, "The instance runs with an IAM instance profile, so software on it gets short-lived credentials from the instance metadata service.",
		[]rule.Evidence{{Source: srcInstances, Key: "IamInstanceProfile", Value: "present"}})
	enabled, instances := 0, 0
	for _, r := range regions {
		if !r.Enabled() {
			continue
		}
		enabled++
		if r.Instances == nil {
			ro := regionUnread(a, snapshot.SectionInstances, srcInstances, r.Name, "its instances")
			ro.Resource = snapshot.RegionalARN(a.Partition, "ec2", r.Name, a.ID, "instance")
			set.Add(ro)
			continue
		}
		for i := range r.Instances {
			inst := &r.Instances[i]
			if inst.State == "terminated" || inst.State == "shutting-down" {
				continue
			}
			instances++
			if inst.InstanceProfileARN != "" {
				set.AddShared(inst.ARN, withRole)
				continue
			}
			set.Add(instanceWithoutRole(r.Name, inst))
		}
	}
	ev := []rule.Evidence{{Source: srcInstances, Key: "enabled_regions", Value: fmt.Sprint(enabled)}, {Source: srcInstances, Key: "instances", Value: fmt.Sprint(instances)}}
	if set.Len() == 0 {
		return rule.Outcome{Status: rule.Pass, Evidence: ev,
			Message: fmt.Sprintf("No EC2 instance in the %s the account has enabled.", rule.Plural(enabled, "region", "regions"))}
	}
	out := rule.Outcome{Set: set, Evidence: ev}
	fail, unknown, pass := set.Count(rule.Fail), set.Count(rule.Unknown), set.Count(rule.Pass)
	switch {
	case fail > 0:
		out.Status = rule.Fail
	case unknown > 0:
		out.Status = rule.Unknown
	default:
		out.Status = rule.Pass
	}
	out.Message = fmt.Sprintf("%s in %s judged: %d without a role, %d regions unreadable, %d with a role.",
		rule.Plural(instances, "instance", "instances"), rule.Plural(enabled, "enabled region", "enabled regions"), fail, unknown, pass)
	return out
}

func instanceWithoutRole(region string, inst *snapshot.Instance) rule.ResourceOutcome {
	name := inst.ID
	if inst.Name != "" {
		name += " (" + inst.Name + ")"
	}
	return rule.ResourceOutcome{Resource: inst.ARN, Status: rule.Fail,
		Evidence: []rule.Evidence{{Source: srcInstances, Key: "State", Value: inst.State}, {Source: srcInstances, Key: "IamInstanceProfile", Value: "none"}},
		Message:  fmt.Sprintf("Instance %s in %s (%s) has no IAM role: anything on it that calls AWS must use long-term access keys stored on the instance. Attach an instance profile.", name, region, inst.State)}
}
