package prevent_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoSDK keeps the pure packages pure: generating artefacts, policy
// analysis, the change plumbing and the rules work without the AWS SDK.
func TestNoSDK(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go tool")
	}
	for _, pkg := range []string{"../prevent", "../iampolicy", "../change", "../rules"} {
		out, err := exec.Command("go", "list", "-deps", pkg).Output()
		if err != nil {
			t.Fatalf("go list %s: %v", pkg, err)
		}
		if strings.Contains(string(out), "github.com/aws/aws-sdk-go-v2") {
			t.Errorf("%s depends on the AWS SDK", pkg)
		}
	}
}
