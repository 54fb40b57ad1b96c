package collect

import (
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// callable lists every AWS action the collector can call: one per method of
// the interfaces it calls AWS through. The compiler guarantees the collector
// cannot call anything else, so this is the complete surface.
func callable() []string {
	var out []string
	for _, api := range []struct {
		prefix string
		iface  reflect.Type
	}{
		{"iam", reflect.TypeFor[IAM]()},
		{"sts", reflect.TypeFor[STS]()},
		{"organizations", reflect.TypeFor[Organizations]()},
		{"organizations", reflect.TypeFor[OrgPolicies]()},
		{"ec2", reflect.TypeFor[EC2]()},
		{"access-analyzer", reflect.TypeFor[AccessAnalyzer]()},
		{"account", reflect.TypeFor[AccountContacts]()},
	} {
		for i := range api.iface.NumMethod() {
			out = append(out, api.prefix+":"+api.iface.Method(i).Name)
		}
	}
	sort.Strings(out)
	return slices.Compact(out)
}

func TestPolicyMatchesCallableAPIs(t *testing.T) {
	p := ScanPolicy()
	if len(p.Statement) != 1 || p.Statement[0].Effect != "Allow" || p.Statement[0].Resource != "*" {
		t.Fatalf("unexpected policy shape: %+v", p)
	}
	if diff := cmp.Diff(callable(), p.Statement[0].Action); diff != "" {
		t.Errorf("policy actions differ from the APIs the collector can call (-callable +policy):\n%s", diff)
	}
}

func TestCallableAPIsAreReadOnly(t *testing.T) {
	for _, a := range callable() {
		_, action, _ := strings.Cut(a, ":")
		readOnly := slices.ContainsFunc([]string{"Get", "List", "Describe", "Generate"}, func(p string) bool { return strings.HasPrefix(action, p) })
		if !readOnly {
			t.Errorf("%s is not a read-only action", a)
		}
	}
}

// TestRootAuditWithinTaskPolicy: every call an AssumeRoot audit session
// can make is one IAMAuditRootUserCredentials allows; anything else would
// be denied in every member account.
func TestRootAuditWithinTaskPolicy(t *testing.T) {
	iface := reflect.TypeFor[RootAuditIAM]()
	for i := range iface.NumMethod() {
		a := "iam:" + iface.Method(i).Name
		if !slices.Contains(AuditTaskPolicyActions, a) {
			t.Errorf("%s is called in AssumeRoot audit sessions but %s does not allow it", a, AuditTaskPolicy)
		}
	}
}
