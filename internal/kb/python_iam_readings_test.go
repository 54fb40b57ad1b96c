package kb_test

import (
	"slices"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/awsemu"
	"github.com/vigil-sec/vigil/internal/kb/kbtest"
)

// The Python procedures of iam-unused-credentials-90d and
// iam-support-access.
func pyIAMReadingProcedures() []pyProcedure {
	day := 24 * time.Hour
	date := func(d time.Duration) string { return now.Add(-d).UTC().Format("2006-01-02") }
	arn := "arn:aws:iam::" + kbtest.StandaloneID + ":"
	return []pyProcedure{
		{
			name: "iam-unused-credentials-90d",
			steps: []pyStep{
				{block: "iam-unused-credentials-90d/find-py", as: kbtest.StandaloneAuditor, want: all(
					contains("auditor: access key 1 never used, set "+date(400*day)+" (400 days before the report)",
						"intern: password never used, set "+date(100*day)+" (100 days before the report); access key 1 never used, set "+date(100*day),
						"root: password never used, set "+date(300*day)+" (300 days before the report)"),
					lacks("<root_account>"), lineCount(3))},
				// Another limit: only the auditor's key is a year idle.
				{block: "iam-unused-credentials-90d/find-py", as: kbtest.StandaloneAuditor, args: []string{"--days", "365"},
					want: equals("auditor: access key 1 never used, set " + date(400*day) + " (400 days before the report)")},
				{block: "iam-unused-credentials-90d/find-py", as: kbtest.StandaloneAuditor, args: []string{"disable", "nobody"}, wantErr: "nobody: not in the credential report"},
				{block: "iam-unused-credentials-90d/find-py", as: kbtest.StandaloneAuditor, args: []string{"--days", "365", "disable", "intern"},
					want: equals("intern: nothing idle for 365 days or more"), state: func(t *testing.T, p *procRun) {
						if u := iamUser(t, p, kbtest.StandaloneID, "intern"); !u.Password || u.AccessKeys[0].Status != awsemu.StatusActive {
							t.Errorf("intern changed: %+v", u)
						}
					}},
				{block: "iam-unused-credentials-90d/find-py", as: kbtest.StandaloneAuditor, args: []string{"disable", "intern"},
					want: equals("intern: console password deleted\nintern: access key 1 (" + kbtest.StandaloneInternKey + ") deactivated"), state: func(t *testing.T, p *procRun) {
						if u := iamUser(t, p, kbtest.StandaloneID, "intern"); u.Password || len(u.AccessKeys) != 1 || u.AccessKeys[0].Status != awsemu.StatusInactive {
							t.Errorf("after disable: %+v", u)
						}
						untouched(kbtest.StandaloneID)(t, p)
					}},
			},
		},
		{
			name:  "iam-support-access",
			world: kbtest.Options{IAMEstate: true},
			steps: []pyStep{
				{block: "iam-support-access/find-py", as: kbtest.StandaloneAuditor, want: equals("nobody holds AWSSupportAccess")},
				{block: "iam-support-access/find-py", as: kbtest.StandaloneAuditor, args: []string{"attach", "nobody"}, wantErr: "NoSuchEntity"},
				{block: "iam-support-access/find-py", as: kbtest.StandaloneAuditor, args: []string{"attach", "ci-deploy"},
					want: equals("role ci-deploy: AWSSupportAccess attached"), state: func(t *testing.T, p *procRun) {
						if r, ok := iamRole(t, p, "ci-deploy"); !ok || !slices.Contains(r.AttachedPolicies, supportAccess) {
							t.Errorf("ci-deploy: %+v, %v", r, ok)
						}
					}},
				{block: "iam-support-access/find-py", as: kbtest.StandaloneAuditor, want: equals("role " + arn + "role/ci-deploy")},
			},
		},
	}
}
