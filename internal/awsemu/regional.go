package awsemu

import (
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// The regional state of an account: its regions (ec2:DescribeRegions),
// the IAM Access Analyzer analyzers and EC2 instances in each (ec2.go,
// accessanalyzer.go). Regional calls answer for the region the request is
// signed for, as AWS's regional endpoints do. A region the account has
// not opted into answers the way AWS does, as if the credentials were not
// valid there (ec2 AuthFailure, UnrecognizedClientException).

// Region opt-in states, as ec2:DescribeRegions reports them.
const (
	OptInNotRequired = "opt-in-not-required"
	OptedIn          = "opted-in"
	NotOptedIn       = "not-opted-in"
)

// Region is one region of an account and what it holds.
type Region struct {
	Name string `json:"name"`
	// OptIn is opt-in-not-required (the default), opted-in or
	// not-opted-in.
	OptIn     string     `json:"optIn,omitempty"`
	Analyzers []Analyzer `json:"analyzers,omitempty"`
	Instances []Instance `json:"instances,omitempty"`
}

// Analyzer is an IAM Access Analyzer analyzer.
type Analyzer struct {
	Name string `json:"name"`
	// Type is ACCOUNT (the default), ORGANIZATION, ACCOUNT_UNUSED_ACCESS,
	// ORGANIZATION_UNUSED_ACCESS, ACCOUNT_INTERNAL_ACCESS or
	// ORGANIZATION_INTERNAL_ACCESS.
	Type string `json:"type,omitempty"`
	// Status is ACTIVE (the default), CREATING, DISABLED or FAILED.
	Status       string    `json:"status,omitempty"`
	StatusReason string    `json:"statusReason,omitempty"` // a StatusReason code, e.g. AWS_SERVICE_ACCESS_DISABLED
	CreatedAt    time.Time `json:"createdAt,omitzero"`
	// Tags may include system tags (aws:…), which AWS sets and callers
	// cannot.
	Tags []Tag `json:"tags,omitempty"`
}

// Instance is an EC2 instance.
type Instance struct {
	ID string `json:"id"` // i- and 8 or 17 hex digits
	// State is running (the default), pending, stopping, stopped,
	// shutting-down or terminated.
	State string `json:"state,omitempty"`
	// InstanceProfile is the name of the IAM instance profile the
	// instance runs with; empty for none.
	InstanceProfile string    `json:"instanceProfile,omitempty"`
	Name            string    `json:"name,omitempty"` // the Name tag
	LaunchTime      time.Time `json:"launchTime,omitzero"`
}

// ServerCertificate is an SSL/TLS certificate stored in IAM.
type ServerCertificate struct {
	Name       string    `json:"name"`
	Path       string    `json:"path,omitempty"` // default "/"
	ID         string    `json:"id,omitempty"`   // ASCA…; derived when empty
	UploadDate time.Time `json:"uploadDate,omitzero"`
	Expiration time.Time `json:"expiration"`
}

// defaultRegions are the regions of an account whose world lists none:
// the partition's regions, the opt-in ones not enabled.
var defaultRegions = map[string][]Region{
	"aws": append(regionList(OptInNotRequired, "us-east-1", "us-east-2", "us-west-1", "us-west-2", "ap-south-1", "ap-northeast-1",
		"ap-northeast-2", "ap-northeast-3", "ap-southeast-1", "ap-southeast-2", "ca-central-1", "eu-central-1", "eu-west-1",
		"eu-west-2", "eu-west-3", "eu-north-1", "sa-east-1"),
		regionList(NotOptedIn, "af-south-1", "ap-east-1", "ap-south-2", "ap-southeast-3", "ap-southeast-4", "ca-west-1",
			"eu-central-2", "eu-south-1", "eu-south-2", "il-central-1", "me-central-1", "me-south-1")...),
	"aws-us-gov": regionList(OptInNotRequired, "us-gov-west-1", "us-gov-east-1"),
	"aws-cn":     regionList(OptInNotRequired, "cn-north-1", "cn-northwest-1"),
}

func regionList(optIn string, names ...string) []Region {
	out := make([]Region, len(names))
	for i, n := range names {
		out[i] = Region{Name: n, OptIn: optIn}
	}
	return out
}

var (
	analyzerTypes = []string{"ACCOUNT", "ORGANIZATION", "ACCOUNT_UNUSED_ACCESS", "ORGANIZATION_UNUSED_ACCESS",
		"ACCOUNT_INTERNAL_ACCESS", "ORGANIZATION_INTERNAL_ACCESS"}
	analyzerStatuses = []string{"ACTIVE", "CREATING", "DISABLED", "FAILED"}
	instanceStates   = map[string]int{"pending": 0, "running": 16, "shutting-down": 32, "terminated": 48, "stopping": 64, "stopped": 80}
)

func validateRegional(bad func(string, ...any), where string, a *Account) {
	seen := map[string]bool{}
	ids := map[string]bool{}
	for _, r := range a.Regions {
		rw := fmt.Sprintf("%s region %q", where, r.Name)
		if r.Name == "" || seen[r.Name] {
			bad("%s: empty or duplicate region name", rw)
		}
		seen[r.Name] = true
		switch r.OptIn {
		case "", OptInNotRequired, OptedIn, NotOptedIn:
		default:
			bad("%s: optIn %q: want %s, %s or %s", rw, r.OptIn, OptInNotRequired, OptedIn, NotOptedIn)
		}
		if r.OptIn == NotOptedIn && (len(r.Analyzers) > 0 || len(r.Instances) > 0) {
			bad("%s: a region not opted into holds nothing", rw)
		}
		names := map[string]bool{}
		for _, an := range r.Analyzers {
			if !iamNamePattern.MatchString(an.Name) || names[an.Name] {
				bad("%s: analyzer %q: invalid or duplicate name", rw, an.Name)
			}
			names[an.Name] = true
			if an.Type != "" && !slices.Contains(analyzerTypes, an.Type) {
				bad("%s: analyzer %s: type %q: want one of %s", rw, an.Name, an.Type, strings.Join(analyzerTypes, ", "))
			}
			if an.Status != "" && !slices.Contains(analyzerStatuses, an.Status) {
				bad("%s: analyzer %s: status %q: want one of %s", rw, an.Name, an.Status, strings.Join(analyzerStatuses, ", "))
			}
			keys := map[string]bool{}
			for _, t := range an.Tags {
				if t.Key == "" || keys[t.Key] {
					bad("%s: analyzer %s: tag %q: empty or duplicate key", rw, an.Name, t.Key)
				}
				keys[t.Key] = true
			}
		}
		for _, in := range r.Instances {
			if !strings.HasPrefix(in.ID, "i-") || ids[in.ID] {
				bad("%s: instance %q: want a unique i- ID", rw, in.ID)
			}
			ids[in.ID] = true
			if _, ok := instanceStates[in.State]; in.State != "" && !ok {
				bad("%s: instance %s: state %q is not an EC2 state", rw, in.ID, in.State)
			}
		}
	}
	certs := map[string]bool{}
	for _, c := range a.ServerCertificates {
		if !iamNamePattern.MatchString(c.Name) || certs[c.Name] {
			bad("%s: server certificate %q: invalid or duplicate name", where, c.Name)
		}
		certs[c.Name] = true
		if c.Expiration.IsZero() {
			bad("%s: server certificate %s: expiration is required", where, c.Name)
		}
	}
}

// normalizeRegional fills the defaults of an account's regional state.
func normalizeRegional(partition string, a *Account) {
	for i := range a.Regions {
		r := &a.Regions[i]
		if r.OptIn == "" {
			r.OptIn = OptInNotRequired
		}
		for j := range r.Analyzers {
			an := &r.Analyzers[j]
			if an.Type == "" {
				an.Type = "ACCOUNT"
			}
			if an.Status == "" {
				an.Status = "ACTIVE"
			}
			if an.CreatedAt.IsZero() {
				an.CreatedAt = defaultTime
			}
		}
		for j := range r.Instances {
			in := &r.Instances[j]
			if in.State == "" {
				in.State = "running"
			}
			if in.LaunchTime.IsZero() {
				in.LaunchTime = defaultTime
			}
		}
	}
	for i := range a.ServerCertificates {
		c := &a.ServerCertificates[i]
		if c.Path == "" {
			c.Path = "/"
		}
		if c.ID == "" {
			c.ID = derivedID("ASCA", a.ID+"/server-certificate/"+c.Name)
		}
		if c.UploadDate.IsZero() {
			c.UploadDate = defaultTime
		}
	}
}

// regionsOf is the account's regions: its own list, or the partition's.
// Callers hold s.mu.
func (s *Server) regionsOf(a *Account) []Region {
	if a.Regions != nil {
		return a.Regions
	}
	return defaultRegions[s.world.Partition]
}

// region is the account's state in the region r is signed for, made the
// account's own (copied from the defaults) so a change sticks; nil with
// the protocol's refusal when the account cannot use the region.
func (s *Server) region(r *request) (*Region, *apiError) {
	a := r.caller.account
	if a.Regions == nil {
		a.Regions = slices.Clone(defaultRegions[s.world.Partition])
	}
	for i := range a.Regions {
		reg := &a.Regions[i]
		if reg.Name != r.region {
			continue
		}
		if reg.OptIn == NotOptedIn {
			break
		}
		return reg, nil
	}
	// AWS refuses the credentials in a region the account cannot use.
	if r.proto == protoEC2 {
		return nil, &apiError{status: 401, code: "AuthFailure", message: "AWS was not able to validate the provided access credentials"}
	}
	return nil, &apiError{status: 403, code: "UnrecognizedClientException", message: "The security token included in the request is invalid."}
}

// iamServerCertificateXML is ServerCertificateMetadata.
type iamServerCertificateXML struct {
	Path                  string  `xml:"Path"`
	ServerCertificateName string  `xml:"ServerCertificateName"`
	ServerCertificateId   string  `xml:"ServerCertificateId"`
	Arn                   string  `xml:"Arn"`
	UploadDate            isoTime `xml:"UploadDate"`
	Expiration            isoTime `xml:"Expiration"`
}

func (s *Server) serverCertificateXML(a *Account, c ServerCertificate) iamServerCertificateXML {
	return iamServerCertificateXML{Path: c.Path, ServerCertificateName: c.Name, ServerCertificateId: c.ID,
		Arn:        "arn:" + s.world.Partition + ":iam::" + a.ID + ":server-certificate" + c.Path + c.Name,
		UploadDate: isoTime(c.UploadDate), Expiration: isoTime(c.Expiration)}
}

// iamListServerCertificates pages with Marker and MaxItems (1–1000,
// default 100), sorted by name, filtered by PathPrefix.
func (s *Server) iamListServerCertificates(r *request) (any, *apiError) {
	a := r.caller.account
	prefix := r.param("PathPrefix")
	certs := slices.Clone(a.ServerCertificates)
	sort.Slice(certs, func(i, j int) bool { return certs[i].Name < certs[j].Name })
	var list []iamServerCertificateXML
	for _, c := range certs {
		if strings.HasPrefix(c.Path, prefix) {
			list = append(list, s.serverCertificateXML(a, c))
		}
	}
	out, truncated, marker, err := iamPage(r, list)
	if err != nil {
		return nil, err
	}
	if lim := s.world.PageLimit; lim > 0 && len(out) > lim {
		// Fewer than MaxItems, as IAM may answer: the marker resumes
		// after what was sent.
		offset := 0
		if m := r.param("Marker"); m != "" {
			offset, _ = decodeToken(r.action, m)
		}
		out, truncated, marker = out[:lim], true, encodeToken(r.action, offset+lim)
	}
	return struct {
		List        members[iamServerCertificateXML] `xml:"ServerCertificateMetadataList"`
		IsTruncated bool                             `xml:"IsTruncated"`
		Marker      string                           `xml:"Marker,omitempty"`
	}{out, truncated, marker}, nil
}

func (s *Server) iamDeleteServerCertificate(r *request) (any, *apiError) {
	name := r.param("ServerCertificateName")
	if name == "" {
		return nil, errMissingParam("ServerCertificateName")
	}
	a := r.caller.account
	for i, c := range a.ServerCertificates {
		if c.Name == name {
			a.ServerCertificates = slices.Delete(a.ServerCertificates, i, i+1)
			return nil, nil
		}
	}
	return nil, newError("NoSuchEntity", "The Server Certificate with name %s cannot be found.", name)
}

// analyzerARN and instanceARN are the ARNs AWS gives them.
func (s *Server) analyzerARN(account, region, name string) string {
	return "arn:" + s.world.Partition + ":access-analyzer:" + region + ":" + account + ":analyzer/" + name
}

func (s *Server) instanceProfileARN(account, name string) string {
	return "arn:" + s.world.Partition + ":iam::" + account + ":instance-profile/" + name
}

// pageLimit is the page size to serve: what the client asked for, capped
// by World.PageLimit.
func (s *Server) pageLimit(asked int) int {
	if lim := s.world.PageLimit; lim > 0 && asked > lim {
		return lim
	}
	return asked
}

// intOr parses an optional integer query or form parameter.
func intOr(raw string, def int) (int, bool) {
	if raw == "" {
		return def, true
	}
	n, err := strconv.Atoi(raw)
	return n, err == nil
}

// demoRegional gives the demo's accounts three regions each (so its
// reports stay short): us-east-1 and eu-west-1 enabled, af-south-1 not
// opted into. Security has an external access analyzer, tagged with its
// owner, in both enabled regions; production has untagged ones, external
// in us-east-1 only, and there an instance without a role beside one with;
// legacy keeps an expired certificate.
func demoRegional(w *World, now time.Time) {
	day := 24 * time.Hour
	for _, a := range w.Accounts {
		if a.State == StateSuspended {
			continue
		}
		a.Regions = []Region{{Name: "us-east-1"}, {Name: "eu-west-1"}, {Name: "af-south-1", OptIn: NotOptedIn}}
		switch a.Name {
		case "security":
			owner := []Tag{{Key: "owner", Value: "security"}}
			a.Regions[0].Analyzers = []Analyzer{{Name: "org-external", CreatedAt: now.Add(-400 * day), Tags: owner}}
			a.Regions[1].Analyzers = []Analyzer{{Name: "org-external", CreatedAt: now.Add(-400 * day), Tags: owner}}
		case "production":
			a.Regions[0].Analyzers = []Analyzer{{Name: "external", CreatedAt: now.Add(-200 * day)}}
			a.Regions[1].Analyzers = []Analyzer{{Name: "unused-access", Type: "ACCOUNT_UNUSED_ACCESS", CreatedAt: now.Add(-100 * day)}}
			a.Regions[0].Instances = []Instance{
				{ID: "i-0demo00000000001", Name: "web", InstanceProfile: "web-app", LaunchTime: now.Add(-30 * day)},
				{ID: "i-0demo00000000002", Name: "reporting", LaunchTime: now.Add(-300 * day)},
			}
		case "legacy":
			a.ServerCertificates = []ServerCertificate{
				{Name: "legacy-www-2022", UploadDate: now.Add(-3 * 365 * day), Expiration: now.Add(-2 * 365 * day)},
			}
		}
	}
}
