package snapshot

import "time"

// The state read region by region (Access Analyzer's analyzers, EC2
// instances) and the IAM server certificates. An account's regions come
// from one ec2:DescribeRegions call with AllRegions, so a region the
// account has not opted into is known to exist and to be disabled: the
// rules answer NOT_APPLICABLE for it, never FAIL.
//
// Nil means "not read" everywhere below, with a gap saying why; an empty,
// non-nil list means "read, and there are none". JSON keeps the
// difference (null versus []).

// Region opt-in states, as ec2:DescribeRegions reports them.
const (
	OptInNotRequired = "opt-in-not-required"
	OptedIn          = "opted-in"
	NotOptedIn       = "not-opted-in"
)

// Region is one region of the account and what was read in it.
type Region struct {
	Name string `json:"name"`
	// OptInStatus is one of the OptIn constants.
	OptInStatus string `json:"opt_in_status"`
	// Analyzers is accessanalyzer:ListAnalyzers in the region; nil when
	// not read (a disabled region, or a gap for the region).
	Analyzers []Analyzer `json:"analyzers"`
	// Instances is ec2:DescribeInstances in the region (terminated
	// instances left out); nil when not read.
	Instances []Instance `json:"instances"`
}

// Enabled reports whether the account can use the region: every region
// that needs no opt-in, and the opt-in regions the account opted into.
func (r Region) Enabled() bool { return r.OptInStatus != NotOptedIn }

// Analyzer is one IAM Access Analyzer analyzer.
type Analyzer struct {
	Name string `json:"name"`
	ARN  string `json:"arn"`
	// Type is ACCOUNT or ORGANIZATION for external access analyzers, and
	// ACCOUNT_UNUSED_ACCESS, ORGANIZATION_UNUSED_ACCESS and the internal
	// access types for the others.
	Type string `json:"type"`
	// Status is ACTIVE, CREATING, DISABLED or FAILED.
	Status       string     `json:"status"`
	StatusReason string     `json:"status_reason,omitempty"`
	CreatedAt    *time.Time `json:"created_at,omitempty"`
	// Tags are the analyzer's tags, from the same ListAnalyzers answer,
	// sorted by key. Nil means unknown: a snapshot written before Vigil
	// kept them has no "tags" at all, which must not read as "untagged";
	// an analyzer read without tags has an empty list.
	Tags []Tag `json:"tags"`
}

// External reports whether the analyzer finds external access, the kind
// CIS asks for; unused-access and internal-access analyzers do not.
func (a Analyzer) External() bool { return a.Type == "ACCOUNT" || a.Type == "ORGANIZATION" }

// Instance is one EC2 instance with the instance profile it runs with.
type Instance struct {
	ID    string `json:"id"`
	ARN   string `json:"arn"`
	State string `json:"state"`
	// InstanceProfileARN is empty when the instance has no IAM role.
	InstanceProfileARN string     `json:"instance_profile_arn,omitempty"`
	LaunchTime         *time.Time `json:"launch_time,omitempty"`
	// Name is the instance's Name tag, for people.
	Name string `json:"name,omitempty"`
}

// ServerCertificates is iam:ListServerCertificates, read in pages of up
// to 1,000 (the metadata carries the expiry: no per-certificate call).
type ServerCertificates struct {
	Certificates []ServerCertificate `json:"certificates"`
	// Pages is how many calls the read took.
	Pages int `json:"pages"`
}

// ServerCertificate is one SSL/TLS certificate stored in IAM.
type ServerCertificate struct {
	Name       string     `json:"name"`
	ID         string     `json:"id"`
	ARN        string     `json:"arn"`
	Path       string     `json:"path,omitempty"`
	UploadDate *time.Time `json:"upload_date,omitempty"`
	// Expiration is nil when IAM did not say.
	Expiration *time.Time `json:"expiration,omitempty"`
}

// Sections of the regional state. A gap for one region carries the
// region's name (Gap.Region).
const (
	SectionRegions            = "regions"
	SectionAccessAnalyzer     = "access_analyzer"
	SectionInstances          = "ec2_instances"
	SectionServerCertificates = "server_certificates"
)

// RegionGap returns the first gap recorded for a section in one region,
// or nil.
func (a *Account) RegionGap(section, region string) *Gap {
	for i := range a.Gaps {
		if a.Gaps[i].Section == section && a.Gaps[i].Region == region {
			return &a.Gaps[i]
		}
	}
	return nil
}

// RegionalARN is the identifier of what a regional rule judges in a
// region as a whole (the region's analyzers, its instances), stable from
// scan to scan whether the region holds any: "arn:aws:access-analyzer:
// eu-west-1:111122223333:analyzer". It is not the ARN of one resource.
func RegionalARN(partition, service, region, accountID, kind string) string {
	if partition == "" {
		partition = "aws"
	}
	return "arn:" + partition + ":" + service + ":" + region + ":" + accountID + ":" + kind
}
