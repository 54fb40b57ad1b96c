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
	var out rule.Outcome
	enabled, instances := 0, 0
	for _, r := range regions {
		if !r.Enabled() {
			continue
		}
		enabled++
		if r.Instances == nil {
			ro := regionUnread(a, snapshot.SectionInstances, srcInstances, r.Name, "its instances")
			ro.Resource = snapshot.RegionalARN(a.Partition, "ec2", r.Name, a.ID, "instance")
			out.Resources = append(out.Resources, ro)
			continue
		}
		for _, inst := range r.Instances {
			if inst.State == "terminated" || inst.State == "shutting-down" {
				continue
			}
			instances++
			out.Resources = append(out.Resources, judgeInstance(r.Name, inst))
		}
	}
	ev := []rule.Evidence{{Source: srcInstances, Key: "enabled_regions", Value: fmt.Sprint(enabled)}, {Source: srcInstances, Key: "instances", Value: fmt.Sprint(instances)}}
	if len(out.Resources) == 0 {
		return rule.Outcome{Status: rule.Pass, Evidence: ev,
			Message: fmt.Sprintf("No EC2 instance in the %s the account has enabled.", rule.Plural(enabled, "region", "regions"))}
	}
	summarise(&out, "instance or region")
	out.Evidence = ev
	return out
}

func judgeInstance(region string, inst snapshot.Instance) rule.ResourceOutcome {
	name := inst.ID
	if inst.Name != "" {
		name += " (" + inst.Name + ")"
	}
	ev := []rule.Evidence{{Source: srcInstances, Key: "State", Value: inst.State}, {Source: srcInstances, Key: "IamInstanceProfile", Value: inst.InstanceProfileARN}}
	ro := rule.ResourceOutcome{Resource: inst.ARN, Evidence: ev}
	if inst.InstanceProfileARN != "" {
		ro.Status = rule.Pass
		ro.Message = fmt.Sprintf("Instance %s in %s runs with instance profile %s.", name, region, inst.InstanceProfileARN)
		return ro
	}
	ro.Status = rule.Fail
	ro.Evidence[1].Value = "none"
	ro.Message = fmt.Sprintf("Instance %s in %s (%s) has no IAM role: anything on it that calls AWS must use long-term access keys stored on the instance. Attach an instance profile.", name, region, inst.State)
	return ro
}
