// Package asff writes results as AWS Security Finding Format (ASFF)
// findings, the format AWS Security Hub imports with BatchImportFindings
// (internal/securityhub sends them). --format asff writes them as one JSON
// array, what `aws securityhub batch-import-findings --findings file://…`
// reads in batches of 100.
//
// One finding per result, every status included, because a finding is a
// state Security Hub keeps: the ID is the same for the same rule and
// resource in every run (Id, below), so a re-scan updates the finding
// instead of adding one, and a result that now passes is sent as
// Compliance.Status PASSED, which resolves the finding there. The mapping:
//
//	FAIL            Compliance FAILED, the result's severity
//	PASS            Compliance PASSED, severity INFORMATIONAL
//	UNKNOWN         Compliance WARNING ("some information is missing",
//	                as ASFF defines it), the result's severity: an
//	                undecided check never resolves a finding
//	NOT_APPLICABLE  Compliance NOT_AVAILABLE, severity INFORMATIONAL,
//	                RecordState ARCHIVED (as Security Hub's own controls
//	                archive a finding whose check no longer applies)
//
// Every limit of BatchImportFindings a finding must meet is kept here
// (Title 256 characters, Description 1024, Recommendation 512, ProductFields
// 50 entries of 2048 characters, 240 KB a finding): text is cut at a
// character boundary with "…", never inside one.
package asff

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"iter"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/vigil-sec/vigil/internal/guide"
	"github.com/vigil-sec/vigil/internal/report"
	"github.com/vigil-sec/vigil/internal/rule"
)

// SchemaVersion is the only ASFF version there is.
const SchemaVersion = "2018-10-08"

// Limits of a finding, from the BatchImportFindings and ASFF references.
const (
	MaxFindingBytes     = 240 * 1024
	maxTitle            = 256
	maxDescription      = 1024
	maxRecommendation   = 512
	maxProductFields    = 50
	maxProductFieldKey  = 128
	maxProductFieldVal  = 2048
	maxID               = 512
	maxRelatedRequires  = 32
	maxEvidenceInFields = 30
)

// The finding's type, in ASFF's namespace/category form.
const findingType = "Software and Configuration Checks/AWS Security Best Practices"

// Finding is one ASFF finding: the members Vigil fills, named and shaped
// as ASFF (and the Security Hub API) spells them.
type Finding struct {
	SchemaVersion         string                `json:"SchemaVersion"`
	ID                    string                `json:"Id"`
	ProductArn            string                `json:"ProductArn"`
	ProductName           string                `json:"ProductName"`
	CompanyName           string                `json:"CompanyName"`
	Region                string                `json:"Region"`
	GeneratorID           string                `json:"GeneratorId"`
	AwsAccountID          string                `json:"AwsAccountId"`
	AwsAccountName        string                `json:"AwsAccountName,omitempty"`
	Types                 []string              `json:"Types"`
	LastObservedAt        string                `json:"LastObservedAt"`
	CreatedAt             string                `json:"CreatedAt"`
	UpdatedAt             string                `json:"UpdatedAt"`
	Severity              Severity              `json:"Severity"`
	FindingProviderFields FindingProviderFields `json:"FindingProviderFields"`
	Title                 string                `json:"Title"`
	Description           string                `json:"Description"`
	Remediation           Remediation           `json:"Remediation"`
	ProductFields         map[string]string     `json:"ProductFields"`
	// fields is ProductFields as the writer builds it: sorted, no map.
	fields      []kv
	Resources   []Resource `json:"Resources"`
	Compliance  Compliance `json:"Compliance"`
	RecordState string     `json:"RecordState"`
}

// Severity is a finding's severity.
type Severity struct {
	Label    string `json:"Label"`
	Original string `json:"Original"`
}

// FindingProviderFields carry what a provider may still change after the
// finding exists (Severity and Types themselves belong to the customer).
type FindingProviderFields struct {
	Severity Severity `json:"Severity"`
	Types    []string `json:"Types"`
}

// Remediation is how to fix the finding.
type Remediation struct {
	Recommendation Recommendation `json:"Recommendation"`
}

// Recommendation is the text of a remediation.
type Recommendation struct {
	Text string `json:"Text"`
}

// Resource is what a finding is about.
type Resource struct {
	Type      string           `json:"Type"`
	ID        string           `json:"Id"`
	Partition string           `json:"Partition,omitempty"`
	Region    string           `json:"Region"`
	Details   *ResourceDetails `json:"Details,omitempty"`
}

// ResourceDetails hold what no typed detail of ASFF fits.
type ResourceDetails struct {
	Other map[string]string `json:"Other"`
	other []kv
}

// Compliance is the finding's compliance state.
type Compliance struct {
	Status              string   `json:"Status"`
	RelatedRequirements []string `json:"RelatedRequirements,omitempty"`
}

// Compliance statuses.
const (
	Passed       = "PASSED"
	Failed       = "FAILED"
	Warning      = "WARNING"
	NotAvailable = "NOT_AVAILABLE"
)

// Options are the writer's.
type Options struct {
	// Region is the Region the findings are for and imported into; empty
	// picks each partition's first Region (DefaultRegion).
	Region string
	// Importer, when set, is the account the findings are imported into:
	// every finding's AwsAccountId and ProductArn name it, and the scanned
	// account stays in Resources and ProductFields. Security Hub accepts
	// findings of the default product only for the account that imports
	// them, so a scan of many accounts is imported into one this way.
	// Empty: each finding is its own account's.
	Importer string
	// ImporterPartition is the importing account's partition, which its
	// product ARN is in; empty: each result's own.
	ImporterPartition string
	// Guides add how to fix each rule and its compliance requirements.
	Guides guide.Guides
}

// DefaultRegion is the Region findings go to when none is given: the
// first Region of the partition, where Security Hub exists. "" for a
// partition Vigil does not know.
func DefaultRegion(partition string) string {
	switch partition {
	case "", "aws":
		return "us-east-1"
	case "aws-cn":
		return "cn-north-1"
	case "aws-us-gov":
		return "us-gov-west-1"
	case "aws-iso":
		return "us-iso-east-1"
	case "aws-iso-b":
		return "us-isob-east-1"
	}
	return ""
}

// ProductArn is the default product of account in region: the one every
// account may import its own findings with.
func ProductArn(partition, region, account string) string {
	return "arn:" + partition + ":securityhub:" + region + ":" + account + ":product/" + account + "/default"
}

// Writer writes a report.Document as a JSON array of findings.
type Writer struct{ o Options }

// New returns the ASFF writer.
func New(o Options) Writer { return Writer{o: o} }

// Write writes d's findings as one JSON array.
func (w Writer) Write(out io.Writer, d *report.Document) error {
	bw := bufio.NewWriterSize(out, 64<<10)
	if _, err := bw.WriteString("["); err != nil {
		return err
	}
	n := 0
	var enc encoder
	for f, err := range findings(d, w.o, true) {
		if err != nil {
			return err
		}
		b, err := enc.encode(&f)
		if err != nil {
			return fmt.Errorf("asff: encode finding %s: %w", f.ID, err)
		}
		sep := ",\n"
		if n == 0 {
			sep = "\n"
		}
		n++
		// bufio keeps the first error of out and writes nothing after it.
		if _, err := bw.WriteString(sep); err != nil {
			return err
		}
		if _, err := bw.Write(b); err != nil {
			return err
		}
	}
	end := "]\n"
	if n > 0 {
		end = "\n]\n"
	}
	if _, err := bw.WriteString(end); err != nil {
		return err
	}
	return bw.Flush()
}

// Marshal is one finding's JSON as Write writes it (and as its size is
// measured against the 240 KB limit): indented, HTML characters unescaped.
func Marshal(f Finding) ([]byte, error) {
	var e encoder
	b, err := e.encode(&f)
	if err != nil {
		return nil, fmt.Errorf("asff: encode finding %s: %w", f.ID, err)
	}
	return bytes.Clone(b), nil
}

// Findings yields the finding of every result of d, in the document's
// order. The error, if any, ends the sequence: a partition Vigil knows no
// Region of, with no Region given.
func Findings(d *report.Document, o Options) iter.Seq2[Finding, error] { return findings(d, o, false) }

func findings(d *report.Document, o Options, lists bool) iter.Seq2[Finding, error] {
	return func(yield func(Finding, error) bool) {
		names := make(map[string]string, len(d.Accounts))
		for _, a := range d.Accounts {
			names[a.AccountID] = a.Name
		}
		created := d.CollectedAt.UTC()
		updated := d.GeneratedAt.UTC()
		if updated.Before(created) {
			updated = created
		}
		b := &builder{o: o, tool: d.Tool, created: stamp(created), updated: stamp(updated),
			rules: map[string]ruleText{}, arns: map[[2]string]string{}, lists: lists}
		for _, r := range d.Results {
			f, err := b.build(r, names[r.AccountID])
			if !yield(f, err) || err != nil {
				return
			}
		}
	}
}

// ID is the finding ID of a rule's result for a resource: the same in
// every run, whoever imports it, so that a re-scan updates the finding.
// The resource is an ARN, which names the partition and the account.
func ID(ruleID, resource string) string {
	id := "vigil/" + ruleID + "/" + resource
	if len(id) > maxID {
		sum := sha256.Sum256([]byte(resource))
		id = "vigil/" + ruleID + "/sha256:" + hex.EncodeToString(sum[:])
	}
	return id
}

// builder builds the findings of one document, computing what is the
// same for many findings (times, a rule's texts, product ARNs) once.
type builder struct {
	o                Options
	tool             report.Tool
	created, updated string
	rules            map[string]ruleText
	arns             map[[2]string]string // partition, owner → product ARN
	// lists: the findings carry their maps as sorted lists, reused from
	// one finding to the next (the writer's findings, encoded at once).
	lists         bool
	fields, other []kv
}

type ruleText struct {
	generator, recommendation string
	requirements              []string
}

// findingTypes is every finding's Types, shared (nothing changes it).
var findingTypes = []string{findingType}

func (b *builder) build(r rule.Result, accountName string) (Finding, error) {
	o := b.o
	partition := r.Partition
	if partition == "" {
		partition = "aws"
	}
	region := o.Region
	if region == "" {
		region = DefaultRegion(partition)
		if region == "" {
			return Finding{}, fmt.Errorf("asff: no Region is known for partition %q; give one", partition)
		}
	}
	if accountName == "" {
		accountName = r.AccountName
	}
	owner, productPartition := r.AccountID, partition
	if o.Importer != "" {
		owner = o.Importer
		if o.ImporterPartition != "" {
			productPartition = o.ImporterPartition
		}
	}
	resource := r.Resource
	if resource == "" {
		resource = "arn:" + partition + ":iam::" + r.AccountID + ":root"
	}
	rt, ok := b.rules[r.RuleID]
	if !ok {
		gd := o.Guides.For(r.RuleID)
		rt = ruleText{generator: "vigil/" + r.RuleID, recommendation: recommendation(r.RuleID, gd.Fix), requirements: firstN(gd.Latest(), maxRelatedRequires)}
		b.rules[r.RuleID] = rt
	}
	arn, ok := b.arns[[2]string{productPartition, owner}]
	if !ok {
		arn = ProductArn(productPartition, region, owner)
		b.arns[[2]string{productPartition, owner}] = arn
	}
	sev := Severity{Label: label(r), Original: r.Severity.String()}
	f := Finding{
		SchemaVersion:  SchemaVersion,
		ID:             ID(r.RuleID, resource),
		ProductArn:     arn,
		ProductName:    "Vigil",
		CompanyName:    "Vigil",
		Region:         region,
		GeneratorID:    rt.generator,
		AwsAccountID:   owner,
		Types:          findingTypes,
		LastObservedAt: b.created,
		CreatedAt:      b.created,
		UpdatedAt:      b.updated,
		Severity:       sev,
		FindingProviderFields: FindingProviderFields{
			Severity: sev,
			Types:    findingTypes,
		},
		Title:       cut(r.Title, maxTitle),
		Description: cut(oneOf(r.Message, r.Title), maxDescription),
		Remediation: Remediation{Recommendation{Text: rt.recommendation}},
		Resources: []Resource{{Type: resourceType(resource), ID: resource, Partition: resourcePartition(partition), Region: region,
			Details: &ResourceDetails{}}},
		Compliance:  Compliance{Status: complianceStatus(r.Status), RelatedRequirements: rt.requirements},
		RecordState: "ACTIVE",
	}
	if owner == r.AccountID {
		f.AwsAccountName = cut(accountName, 50)
	}
	if r.Status == rule.NotApplicable {
		f.RecordState = "ARCHIVED"
	}
	b.fields = productFields(b.fields[:0], r, accountName, b.tool)
	b.other = details(b.other[:0], r, accountName)
	if b.lists {
		f.fields, f.Resources[0].Details.other = b.fields, b.other
	} else {
		f.ProductFields, f.Resources[0].Details.Other = toMap(b.fields), toMap(b.other)
	}
	return f, nil
}

func oneOf(s ...string) string {
	for _, v := range s {
		if strings.TrimSpace(v) != "" {
			return v
		}
	}
	return "(no message)"
}

// label is the ASFF severity label: a passing or inapplicable check is
// informational, as Security Hub's own controls report them.
func label(r rule.Result) string {
	if r.Status == rule.Pass || r.Status == rule.NotApplicable {
		return "INFORMATIONAL"
	}
	switch r.Severity {
	case rule.Critical:
		return "CRITICAL"
	case rule.High:
		return "HIGH"
	case rule.Medium:
		return "MEDIUM"
	case rule.Low:
		return "LOW"
	}
	return "INFORMATIONAL"
}

func complianceStatus(s rule.Status) string {
	switch s {
	case rule.Pass:
		return Passed
	case rule.Fail:
		return Failed
	case rule.NotApplicable:
		return NotAvailable
	}
	return Warning
}

// resourceType is AwsAccount for an account's root user, as Security
// Hub's own root-user controls file theirs; the organisation has no ASFF
// type of its own.
func resourceType(arn string) string {
	if strings.HasSuffix(arn, ":root") {
		return "AwsAccount"
	}
	return "Other"
}

// resourcePartition is the Resources.Partition value, which ASFF allows
// only for these three.
func resourcePartition(p string) string {
	switch p {
	case "aws", "aws-cn", "aws-us-gov":
		return p
	}
	return ""
}

func recommendation(ruleID, fix string) string {
	more := "Full steps: " + guide.Explain(ruleID) + "."
	if fix == "" {
		return more
	}
	room := maxRecommendation - utf8.RuneCountInString(more) - 1
	return cut(fix, room) + " " + more
}

// kv is a map entry of a finding (ProductFields, Details.Other), kept as
// a sorted list while the writer encodes: building a map per finding
// costs more than the rest of the finding.
type kv struct{ k, v string }

func sortKV(l []kv) []kv {
	slices.SortFunc(l, func(a, b kv) int { return strings.Compare(a.k, b.k) })
	return l
}

func toMap(l []kv) map[string]string {
	m := make(map[string]string, len(l))
	for _, e := range l {
		m[e.k] = e.v
	}
	return m
}

func details(dst []kv, r rule.Result, accountName string) []kv {
	dst = append(dst, kv{"AccountId", r.AccountID})
	if accountName != "" {
		dst = append(dst, kv{"AccountName", cut(accountName, maxProductFieldVal)})
	}
	return append(dst, kv{"Rule", r.RuleID})
}

func productFields(dst []kv, r rule.Result, accountName string, tool report.Tool) []kv {
	add := func(k, v string) {
		if v != "" {
			dst = append(dst, kv{k, v})
		}
	}
	add("vigil/RuleId", r.RuleID)
	add("vigil/Status", string(r.Status))
	add("vigil/Severity", r.Severity.String())
	add("vigil/RuleSeverity", r.RuleSeverity.String())
	add("vigil/AccountId", r.AccountID)
	add("vigil/Category", r.Category)
	add("vigil/Service", r.Service)
	add("vigil/Version", tool.Version)
	if accountName != "" {
		add("vigil/AccountName", cut(accountName, maxProductFieldVal))
	}
	if r.ManagementAccount {
		add("vigil/ManagementAccount", "true")
	}
	room := maxProductFields - len(dst)
	for i, e := range r.Evidence {
		if i >= min(room, maxEvidenceInFields) {
			break
		}
		dst = append(dst, kv{"vigil/Evidence/" + strconv.Itoa(i+1), cut(evidence(e), maxProductFieldVal)})
	}
	return sortKV(dst)
}

// evidence is one fact on one line: "source: key = value (as of …)" or
// "source: error: …".
func evidence(e rule.Evidence) string {
	var b strings.Builder
	b.WriteString(e.Source)
	if e.Key != "" {
		b.WriteString(": " + e.Key + " = " + e.Value)
	} else if e.Value != "" {
		b.WriteString(": " + e.Value)
	}
	if e.Error != "" {
		b.WriteString(": error: " + e.Error)
	}
	if e.AsOf != nil {
		b.WriteString(" (as of " + e.AsOf.UTC().Format(time.RFC3339) + ")")
	}
	return b.String()
}

func firstN(s []string, n int) []string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// stamp is an ASFF timestamp: RFC 3339 in UTC, to the millisecond at
// most (ASFF's forms), without a fraction when there is none.
func stamp(t time.Time) string { return t.UTC().Truncate(time.Millisecond).Format(time.RFC3339Nano) }

// cut keeps s within n characters (runes, which is how the Security Hub
// limits count), ending it with "…" when it had to be cut.
func cut(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	i, k := 0, 0
	for i = range s {
		if k == n-1 {
			break
		}
		k++
	}
	return s[:i] + "…"
}
