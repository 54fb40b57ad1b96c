// Package ocsf writes a report as OCSF 1.6.0 events (the Open
// Cybersecurity Schema Framework, the version AWS Security Hub's OCSF
// findings use), for SIEMs and security data lakes.
//
// Every result is one Compliance Finding (class 2003), PASS and
// NOT_APPLICABLE included: Vigil evaluates the configuration of a
// resource against a rule that framework controls map onto, which is what
// that class describes (a check, its standards, its status), whereas a
// Detection Finding (2004) reports an observed threat or activity and has
// no place for a passed check. A data lake then holds the passes too, so
// a fixed finding is seen as resolved rather than as gone.
//
// The mapping:
//
//   - compliance: control is the rule ID (Vigil's check, as Security Hub
//     puts its control ID there), standards and requirements the
//     framework versions and controls the catalog maps the rule onto, and
//     status_id PASS 1 Pass, FAIL 3 Fail, UNKNOWN 2 Warning (the schema's
//     "did not yield a result due to missing information"),
//     NOT_APPLICABLE 99 Other ("Not Applicable").
//   - status_id (the finding's): FAIL and UNKNOWN 1 New (an UNKNOWN never
//     resolves a finding), PASS 4 Resolved, NOT_APPLICABLE 99 Other.
//   - severity_id: the result's severity (info 1 … critical 5) for FAIL
//     and UNKNOWN; 1 Informational for PASS and NOT_APPLICABLE, which need
//     no action.
//   - finding_info.uid is "vigil:<rule>:<resource ARN>": the same finding
//     has the same uid in every run.
//   - resources: the resource (its ARN as uid) the rule judged; cloud: AWS,
//     the partition, the account and the organisation (with the account's
//     OU); remediation: the knowledge base's steps for a standalone or a
//     member account; evidences: each piece of evidence, its API call as
//     api where it names one; metadata.product: Vigil and its version.
//
// A file is one JSON array of events, an event a line; a stream (Lines)
// is JSON Lines, the same lines without the array, as log shippers read.
// Events are not indented: a 100,000-result organisation would be several
// times larger, and several times slower to write.
package ocsf

import (
	"bytes"
	"cmp"
	"encoding/json"
	"io"
	"strings"
	"time"

	"github.com/vigil-sec/vigil/internal/jsonout"
	"github.com/vigil-sec/vigil/internal/report"
	"github.com/vigil-sec/vigil/internal/rule"
	"github.com/vigil-sec/vigil/internal/snapshot"
)

// SchemaVersion is the OCSF version the events follow.
const SchemaVersion = "1.6.0"

// The class of every event.
const (
	CategoryUID = 2
	ClassUID    = 2003
	ActivityID  = 1 // Create
	TypeUID     = ClassUID*100 + ActivityID
)

// Options are the OCSF writer's.
type Options struct {
	// Lines writes JSON Lines (one event a line) instead of one array.
	Lines bool
	// Knowledge supplies each rule's framework controls and remediation.
	Knowledge report.Knowledge
}

// Writer writes OCSF events.
type Writer struct{ o Options }

// New returns an OCSF writer.
func New(o Options) Writer { return Writer{o: o} }

// Event is one Compliance Finding.
type Event struct {
	ActivityID   int    `json:"activity_id"`
	ActivityName string `json:"activity_name"`
	CategoryUID  int    `json:"category_uid"`
	CategoryName string `json:"category_name"`
	ClassUID     int    `json:"class_uid"`
	ClassName    string `json:"class_name"`
	TypeUID      int    `json:"type_uid"`
	TypeName     string `json:"type_name"`
	Time         int64  `json:"time"`
	SeverityID   int    `json:"severity_id"`
	Severity     string `json:"severity"`
	StatusID     int    `json:"status_id"`
	Status       string `json:"status"`
	Message      string `json:"message"`
	// Metadata, Compliance and Remediation are encoded once per document,
	// rule and status, not once per event (they are the same in many),
	// and written after the other attributes as they are.
	Metadata    json.RawMessage `json:"-"`
	Cloud       Cloud           `json:"cloud"`
	FindingInfo FindingInfo     `json:"finding_info"`
	Compliance  json.RawMessage `json:"-"`
	Resources   []Resource      `json:"resources"`
	Remediation json.RawMessage `json:"-"`
	Evidences   []Evidence      `json:"evidences,omitempty"`
	Unmapped    Unmapped        `json:"unmapped"`
}

// Metadata is the event's metadata object.
type Metadata struct {
	Version  string   `json:"version"`
	Product  Product  `json:"product"`
	Profiles []string `json:"profiles"`
	LogName  string   `json:"log_name"`
}

// Product names Vigil.
type Product struct {
	Name       string `json:"name"`
	VendorName string `json:"vendor_name"`
	Version    string `json:"version,omitempty"`
	URLString  string `json:"url_string"`
}

// Cloud is the cloud object: AWS, the partition, account and organisation.
type Cloud struct {
	Provider  string        `json:"provider"`
	Partition string        `json:"cloud_partition,omitempty"`
	Account   Account       `json:"account"`
	Org       *Organization `json:"org,omitempty"`
}

// Account is an AWS account.
type Account struct {
	UID    string `json:"uid"`
	Name   string `json:"name,omitempty"`
	TypeID int    `json:"type_id"`
	Type   string `json:"type"`
}

// Organization is an AWS Organizations organisation, with the OU of the
// account.
type Organization struct {
	UID    string `json:"uid"`
	OUName string `json:"ou_name,omitempty"`
}

// FindingInfo identifies the finding.
type FindingInfo struct {
	UID         string   `json:"uid"`
	Title       string   `json:"title"`
	Desc        string   `json:"desc"`
	Types       []string `json:"types"`
	CreatedTime int64    `json:"created_time"`
	Analytic    Analytic `json:"analytic"`
}

// Analytic is the rule that produced the finding.
type Analytic struct {
	UID    string `json:"uid"`
	Name   string `json:"name"`
	TypeID int    `json:"type_id"`
	Type   string `json:"type"`
}

// Compliance is the check, its standards and its status.
type Compliance struct {
	Control      string   `json:"control"`
	Standards    []string `json:"standards"`
	Requirements []string `json:"requirements,omitempty"`
	StatusID     int      `json:"status_id"`
	Status       string   `json:"status"`
}

// Resource is the resource judged.
type Resource struct {
	UID       string `json:"uid"`
	Name      string `json:"name,omitempty"`
	Type      string `json:"type"`
	Partition string `json:"cloud_partition,omitempty"`
	RoleID    int    `json:"role_id"`
	Role      string `json:"role"`
}

// Remediation is how to fix the finding.
type Remediation struct {
	Desc       string   `json:"desc"`
	References []string `json:"references"`
}

// Evidence is one piece of evidence.
type Evidence struct {
	Name string       `json:"name"`
	API  *API         `json:"api,omitempty"`
	Data EvidenceData `json:"data"`
}

// EvidenceData is Vigil's evidence as it is, in the free-form data
// attribute.
type EvidenceData struct {
	Source     string `json:"source"`
	Key        string `json:"key,omitempty"`
	Value      string `json:"value,omitempty"`
	AsOf       string `json:"as_of,omitempty"`
	AsOfSource string `json:"as_of_source,omitempty"`
	Error      string `json:"error,omitempty"`
}

// API is the AWS API call evidence came from.
type API struct {
	Operation string  `json:"operation"`
	Service   Service `json:"service"`
}

// Service is an AWS service by its IAM prefix.
type Service struct {
	Name string `json:"name"`
}

// Unmapped holds what OCSF has no attribute for: Vigil's own status and
// the rule's severity before a management account raised it.
type Unmapped struct {
	Status            string `json:"vigil_status"`
	RuleSeverity      string `json:"rule_severity"`
	ManagementAccount bool   `json:"management_account,omitempty"`
}

// Write writes d's results as events.
func (wr Writer) Write(w io.Writer, d *report.Document) error {
	accounts := make(map[string]*report.Account, len(d.Accounts))
	for i := range d.Accounts {
		accounts[d.Accounts[i].AccountID] = &d.Accounts[i]
	}
	meta, err := marshal(Metadata{Version: SchemaVersion, Profiles: []string{"cloud"}, LogName: "vigil",
		Product: Product{Name: "Vigil", VendorName: "Vigil", Version: d.Tool.Version, URLString: "https://github.com/vigil-sec/vigil"}})
	if err != nil {
		return err
	}
	c := &cache{meta: meta, parts: map[partKey]parts{}}
	out := jsonout.New(w)
	if !wr.o.Lines {
		out.Raw("[")
	}
	for i := range d.Results {
		ev, err := wr.event(d, &d.Results[i], accounts, c)
		if err != nil {
			return err
		}
		if !wr.o.Lines {
			if i > 0 {
				out.Raw(",")
			}
			out.Raw("\n")
		}
		out.Open(ev)
		out.Raw(`,"metadata":`)
		out.Bytes(ev.Metadata)
		out.Raw(`,"compliance":`)
		out.Bytes(ev.Compliance)
		if ev.Remediation != nil {
			out.Raw(`,"remediation":`)
			out.Bytes(ev.Remediation)
		}
		out.Raw("}")
		if wr.o.Lines {
			out.Raw("\n")
		}
	}
	if !wr.o.Lines {
		if len(d.Results) > 0 {
			out.Raw("\n")
		}
		out.Raw("]\n")
	}
	return out.Flush()
}

// severities are the severity_id values, by Vigil severity.
var severities = map[rule.Severity]struct {
	id      int
	caption string
}{rule.Info: {1, "Informational"}, rule.Low: {2, "Low"}, rule.Medium: {3, "Medium"}, rule.High: {4, "High"}, rule.Critical: {5, "Critical"}}

func millis(t time.Time) int64 { return t.UnixMilli() }

// cache holds the parts of events encoded once.
type cache struct {
	meta  json.RawMessage
	parts map[partKey]parts
}

type partKey struct {
	rule   string
	status rule.Status
	member bool
}

type parts struct{ compliance, remediation json.RawMessage }

func (wr Writer) event(d *report.Document, r *rule.Result, accounts map[string]*report.Account, c *cache) (Event, error) {
	sev := severities[rule.Info]
	if r.Status == rule.Fail || r.Status == rule.Unknown {
		if s, ok := severities[r.Severity]; ok {
			sev = s
		}
	}
	ev := Event{
		ActivityID: ActivityID, ActivityName: "Create",
		CategoryUID: CategoryUID, CategoryName: "Findings",
		ClassUID: ClassUID, ClassName: "Compliance Finding",
		TypeUID: TypeUID, TypeName: "Compliance Finding: Create",
		Time:       millis(d.GeneratedAt),
		SeverityID: sev.id, Severity: sev.caption,
		Message:  r.Message,
		Metadata: c.meta,
		Cloud:    Cloud{Provider: "AWS", Partition: r.Partition, Account: Account{UID: r.AccountID, TypeID: 10, Type: "AWS Account"}},
		FindingInfo: FindingInfo{UID: UID(r), Title: r.Title, Desc: r.Message, Types: []string{cmp.Or(r.Category, "Security")}, CreatedTime: millis(d.GeneratedAt),
			Analytic: Analytic{UID: r.RuleID, Name: r.Title, TypeID: 1, Type: "Rule"}},
		Resources: []Resource{resource(r)},
		Unmapped:  Unmapped{Status: string(r.Status), RuleSeverity: r.RuleSeverity.String(), ManagementAccount: r.ManagementAccount},
	}
	switch r.Status {
	case rule.Fail, rule.Unknown:
		ev.StatusID, ev.Status = 1, "New"
	case rule.Pass:
		ev.StatusID, ev.Status = 4, "Resolved"
	default:
		ev.StatusID, ev.Status = 99, "Not Applicable"
	}
	member := false
	if a, ok := accounts[r.AccountID]; ok {
		ev.Cloud.Account.Name = a.Name
		member = a.Role == snapshot.RoleMember
		if d.Organization != nil && a.Role != snapshot.RoleStandalone {
			ev.Cloud.Org = &Organization{UID: d.Organization.ID}
			if n := len(a.OUPath); n > 0 {
				ev.Cloud.Org.OUName = a.OUPath[n-1]
			}
		}
	} else if r.AccountName != "" {
		ev.Cloud.Account.Name = r.AccountName
	}
	key := partKey{r.RuleID, r.Status, member}
	p, ok := c.parts[key]
	if !ok {
		var err error
		if p, err = wr.parts(key); err != nil {
			return ev, err
		}
		c.parts[key] = p
	}
	ev.Compliance, ev.Remediation = p.compliance, p.remediation
	for _, e := range r.Evidence {
		ev.Evidences = append(ev.Evidences, evidence(e))
	}
	return ev, nil
}

// parts encodes the compliance object of a rule's result of a status,
// and its remediation, for a member account or another.
func (wr Writer) parts(key partKey) (parts, error) {
	k := wr.o.Knowledge[key.rule]
	comp := Compliance{Control: key.rule, Standards: []string{}}
	switch key.status {
	case rule.Fail:
		comp.StatusID, comp.Status = 3, "Fail"
	case rule.Unknown:
		comp.StatusID, comp.Status = 2, "Warning"
	case rule.Pass:
		comp.StatusID, comp.Status = 1, "Pass"
	default:
		comp.StatusID, comp.Status = 99, "Not Applicable"
	}
	seen := map[string]bool{}
	for _, c := range k.Controls {
		if s := c.Standard(); !seen[s] {
			seen[s] = true
			comp.Standards = append(comp.Standards, s)
		}
		comp.Requirements = append(comp.Requirements, c.Standard()+" "+c.ID+": "+c.Title)
	}
	if len(comp.Standards) == 0 {
		comp.Standards = append(comp.Standards, "Vigil root credential rules")
	}
	var p parts
	var err error
	if p.compliance, err = marshal(comp); err != nil {
		return p, err
	}
	if key.status == rule.Fail || key.status == rule.Unknown {
		desc := k.Remediation
		if key.member && k.RemediationMember != "" {
			desc = k.RemediationMember
		}
		explain := "Run `vigil explain " + key.rule + "` for the whole procedure, in the console, the AWS CLI and Go."
		p.remediation, err = marshal(Remediation{Desc: strings.TrimSpace(desc + "\n\n" + explain),
			References: []string{"https://github.com/vigil-sec/vigil/blob/main/internal/kb/pages/" + key.rule + ".md"}})
	}
	return p, err
}

// UID is the finding's stable identifier: the rule and the resource's
// ARN (or its account, for a result without a resource).
func UID(r *rule.Result) string {
	return "vigil:" + r.RuleID + ":" + cmp.Or(r.Resource, "account/"+r.AccountID)
}

// resource is the resource a result is about: its ARN, its name (the
// ARN's last part) and its CloudFormation-style type.
func resource(r *rule.Result) Resource {
	res := Resource{UID: cmp.Or(r.Resource, r.AccountID), Partition: r.Partition, RoleID: 1, Role: "Target", Type: "AWS::::Account"}
	if i := strings.LastIndexAny(r.Resource, ":/"); i >= 0 && i+1 < len(r.Resource) {
		res.Name = r.Resource[i+1:]
	}
	switch {
	case strings.HasSuffix(r.Resource, ":root"):
		res.Type = "AWS::IAM::RootUser"
	case strings.Contains(r.Resource, ":organization/"):
		res.Type = "AWS::Organizations::Organization"
	}
	return res
}

// evidence maps one piece of evidence: its source as name (and as an API
// call when it is "service:Operation"), the rest as data.
func evidence(e rule.Evidence) Evidence {
	data := EvidenceData{Source: e.Source, Key: e.Key, Value: e.Value, AsOfSource: e.AsOfSource, Error: e.Error}
	if e.AsOf != nil {
		data.AsOf = e.AsOf.UTC().Format(time.RFC3339)
	}
	ev := Evidence{Name: e.Source, Data: data}
	if svc, op, ok := strings.Cut(e.Source, ":"); ok && svc != "" && op != "" && !strings.ContainsAny(e.Source, " /") {
		ev.API = &API{Operation: op, Service: Service{Name: svc}}
	}
	return ev
}

// marshal is json.Marshal leaving <, > and & as they are, as the rest of
// the event is written.
func marshal(v any) (json.RawMessage, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}
