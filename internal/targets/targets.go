package targets

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/vigil-sec/vigil/internal/input"
)

// File is a parsed targets file.
type File struct {
	Targets []Target
}

// Target is one entry: a profile, or a role to assume.
type Target struct {
	// Line is where the entry starts in the file.
	Line int
	// Name is an optional label for the report.
	Name string
	// Profile is a shared config profile (SSO, role chains, credential
	// processes: whatever the AWS SDK supports).
	Profile string
	// RoleARN is a role to assume, with the credentials of SourceProfile
	// (the normal credential chain when empty).
	RoleARN       string
	ExternalID    string
	SessionName   string
	SourceProfile string
	// Region overrides the profile's region (STS is regional).
	Region string
}

// AccountID is the account a role target points at ("" for profiles,
// whose account is known only once their credentials answer).
func (t Target) AccountID() string {
	if m := roleARN.FindStringSubmatch(t.RoleARN); m != nil {
		return m[2]
	}
	return ""
}

// Label names the target as the user wrote it.
func (t Target) Label() string {
	var s string
	if t.Profile != "" {
		s = "profile " + t.Profile
	} else {
		s = t.RoleARN
	}
	if t.Name != "" {
		s = t.Name + " (" + s + ")"
	}
	return s
}

var (
	roleARN     = regexp.MustCompile(`^arn:(aws|aws-us-gov|aws-cn|aws-iso|aws-iso-b|aws-iso-e|aws-iso-f|aws-eusc):iam::([0-9]{12}):role/(?:[\x21-\x7e]+/)?[\w+=,.@-]{1,64}$`)
	externalID  = regexp.MustCompile(`^[\w+=,.@:/-]+$`)
	sessionName = regexp.MustCompile(`^[\w+=,.@-]{2,64}$`)
	region      = regexp.MustCompile(`^[a-z]{2}(-[a-z]+)+-[0-9]+$`)
	lineInError = regexp.MustCompile(`^yaml: line ([0-9]+): (.*)$`)
)

// fields a target entry and the defaults section may have.
var (
	targetFields   = []string{"name", "profile", "role_arn", "external_id", "session_name", "source_profile", "region"}
	defaultsFields = []string{"external_id", "session_name", "source_profile", "region"}
)

// maxTargets bounds a file: far more than anyone lists by hand, far less
// than would make a mistake (a generated file gone wrong) expensive.
const maxTargets = 10000

// maxValue bounds every value of a targets file.
const maxValue = 2048

// Load reads and validates a targets file of at most
// input.DefaultMaxSize bytes.
func Load(path string) (*File, error) { return LoadLimit(path, input.DefaultMaxSize) }

// LoadLimit is Load with a size limit: a larger file is refused with an
// error wrapping *input.TooLargeError before it is parsed.
func LoadLimit(path string, limit int64) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read targets file: %w", err)
	}
	defer f.Close()
	data, err := input.ReadAll(f, path, limit)
	if input.IsTooLarge(err) {
		return nil, fmt.Errorf("targets file %w", err)
	}
	if err != nil {
		return nil, fmt.Errorf("read targets file: %w", err)
	}
	return Parse(data, path)
}

// Parse validates a targets document; name is used in errors, which all
// read "name:line: what is wrong".
func Parse(data []byte, name string) (*File, error) {
	fail := func(line int, format string, args ...any) error {
		return fmt.Errorf("%s:%d: %s", name, line, fmt.Sprintf(format, args...))
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		msg := err.Error()
		if m := lineInError.FindStringSubmatch(msg); m != nil {
			return nil, fmt.Errorf("%s:%s: %s", name, m[1], m[2])
		}
		return nil, fmt.Errorf("%s: %s", name, strings.TrimPrefix(msg, "yaml: "))
	}
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil, fmt.Errorf("%s:1: the file is empty; want a mapping with a targets list", name)
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, fail(root.Line, "want a mapping with a targets list, not a %s", kind(root))
	}
	var defaults Target
	var list *yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		switch k.Value {
		case "targets":
			if v.Kind != yaml.SequenceNode {
				return nil, fail(v.Line, "targets must be a list, not a %s", kind(v))
			}
			list = v
		case "defaults":
			if v.Kind != yaml.MappingNode {
				return nil, fail(v.Line, "defaults must be a mapping, not a %s", kind(v))
			}
			if err := fields(v, defaultsFields, &defaults, fail); err != nil {
				return nil, err
			}
		default:
			return nil, fail(k.Line, "unknown key %s (want targets and, optionally, defaults)", input.Quote(k.Value))
		}
	}
	if list == nil || len(list.Content) == 0 {
		return nil, fail(root.Line, "no targets: add a targets list with at least one profile or role_arn")
	}
	if len(list.Content) > maxTargets {
		return nil, fail(list.Line, "%d targets; at most %d are allowed in one file", len(list.Content), maxTargets)
	}
	f := &File{}
	for i, n := range list.Content {
		where := fmt.Sprintf("target %d", i+1)
		if n.Kind != yaml.MappingNode {
			return nil, fail(n.Line, "%s: want a mapping with profile or role_arn, not a %s", where, kind(n))
		}
		t := Target{Line: n.Line}
		if err := fields(n, targetFields, &t, fail); err != nil {
			return nil, err
		}
		if t.RoleARN != "" {
			if t.ExternalID == "" {
				t.ExternalID = defaults.ExternalID
			}
			if t.SessionName == "" {
				t.SessionName = defaults.SessionName
			}
			if t.SourceProfile == "" {
				t.SourceProfile = defaults.SourceProfile
			}
		}
		if t.Region == "" {
			t.Region = defaults.Region
		}
		if err := t.validate(); err != nil {
			return nil, fail(n.Line, "%s: %v", where, err)
		}
		f.Targets = append(f.Targets, t)
	}
	return f, nil
}

func (t Target) validate() error {
	switch {
	case t.Profile == "" && t.RoleARN == "":
		return errors.New("set profile or role_arn")
	case t.Profile != "" && t.RoleARN != "":
		return errors.New("set profile or role_arn, not both")
	case t.RoleARN != "" && !roleARN.MatchString(t.RoleARN):
		return fmt.Errorf("role_arn %s is not an IAM role ARN (arn:aws:iam::123456789012:role/NAME)", input.Quote(t.RoleARN))
	case t.Profile != "" && (t.ExternalID != "" || t.SessionName != "" || t.SourceProfile != ""):
		return errors.New("external_id, session_name and source_profile belong to role_arn entries; a profile carries its own")
	case t.ExternalID != "" && (len(t.ExternalID) < 2 || len(t.ExternalID) > 1224 || !externalID.MatchString(t.ExternalID)):
		return errors.New("external_id: want 2 to 1224 letters, digits or +=,.@:/_-")
	case t.SessionName != "" && !sessionName.MatchString(t.SessionName):
		return fmt.Errorf("session_name %s: want 2 to 64 letters, digits or +=,.@_-", input.Quote(t.SessionName))
	case t.Region != "" && !region.MatchString(t.Region):
		return fmt.Errorf("region %s is not an AWS region name (e.g. eu-west-1)", input.Quote(t.Region))
	}
	return nil
}

// fields copies the scalar members of a mapping into t, rejecting
// unknown and repeated keys and non-string values.
func fields(m *yaml.Node, allowed []string, t *Target, fail func(int, string, ...any) error) error {
	seen := map[string]bool{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k, v := m.Content[i], m.Content[i+1]
		known := false
		for _, a := range allowed {
			known = known || a == k.Value
		}
		if !known {
			return fail(k.Line, "unknown key %s (want one of %s)", input.Quote(k.Value), strings.Join(allowed, ", "))
		}
		if seen[k.Value] {
			return fail(k.Line, "%s is set twice", k.Value)
		}
		seen[k.Value] = true
		if v.Kind != yaml.ScalarNode || v.Tag == "!!null" || v.Value == "" {
			return fail(v.Line, "%s must be a non-empty string", k.Value)
		}
		val := v.Value
		// A name or profile lands in the report; none is anywhere near
		// this long (an ARN is at most 2,048 characters).
		if len(val) > maxValue {
			return fail(v.Line, "%s is %d bytes long; at most %d are allowed", k.Value, len(val), maxValue)
		}
		switch k.Value {
		case "name":
			t.Name = val
		case "profile":
			t.Profile = val
		case "role_arn":
			t.RoleARN = val
		case "external_id":
			t.ExternalID = val
		case "session_name":
			t.SessionName = val
		case "source_profile":
			t.SourceProfile = val
		case "region":
			t.Region = val
		}
	}
	return nil
}

func kind(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "list"
	case yaml.ScalarNode:
		return "value"
	case yaml.AliasNode:
		return "alias"
	}
	return "document"
}
