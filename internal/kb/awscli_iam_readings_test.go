package kb_test

import (
	"slices"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/awsemu"
	"github.com/vigil-sec/vigil/internal/kb/kbtest"
)

// The AWS CLI procedures of the rules that give Security Hub's reading of
// an item beside CIS's: unused credentials at 90 days, and AWSSupportAccess
// held by any user, group with members or role.

// reportStamp is a time as the credential report writes it.
func reportStamp(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05+00:00") }

func iamReadingProcedures() []procedure {
	day := 24 * time.Hour
	with := func(kv ...string) map[string]string {
		m := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	arn := "arn:aws:iam::" + kbtest.StandaloneID + ":"
	attachToOps := "aws iam attach-group-policy --group-name ops --policy-arn " + supportAccess
	return []procedure{
		{
			name: "iam-unused-credentials-90d",
			steps: []step{
				// Every enabled credential with the date its idleness counts
				// from, oldest first: the auditor's key (400 days), the decoy
				// user "root"'s password (300) and the intern's password and
				// key (100), none of them ever used.
				{block: "iam-unused-credentials-90d/find-report", as: kbtest.StandaloneAuditor, want: all(
					contains(reportStamp(now.Add(-400*day))+" auditor access-key-1 never used, set\n",
						reportStamp(now.Add(-300*day))+" root password never used, set\n",
						reportStamp(now.Add(-100*day))+" intern access-key-1 never used, set\n",
						reportStamp(now.Add(-100*day))+" intern password never used, set"),
					firstLineHas(" auditor "), lacks("<root_account>"), lineCount(4))},
				{block: "iam-unused-credentials-90d/list-keys", as: kbtest.StandaloneAuditor, subst: with("USER_NAME", "intern"), want: all(
					contains(kbtest.StandaloneInternKey+"\tActive\t"+now.Add(-100*day).UTC().Format("2006-01-02")), lineCount(1))},
				{block: "iam-unused-credentials-90d/deactivate-key", as: kbtest.StandaloneAuditor,
					subst: with("USER_NAME", "intern", "ACCESS_KEY_ID", kbtest.StandaloneInternKey), state: func(t *testing.T, p *procRun) {
						if u := iamUser(t, p, kbtest.StandaloneID, "intern"); len(u.AccessKeys) != 1 || u.AccessKeys[0].Status != awsemu.StatusInactive || !u.Password {
							t.Errorf("after deactivation: %+v", u)
						}
					}},
				{block: "iam-unused-credentials-90d/delete-password", as: kbtest.StandaloneAuditor, subst: with("USER_NAME", "intern"), state: func(t *testing.T, p *procRun) {
					if u := iamUser(t, p, kbtest.StandaloneID, "intern"); u.Password || len(u.AccessKeys) != 1 {
						t.Errorf("after deleting the password: %+v", u)
					}
					untouched(kbtest.StandaloneID)(t, p)
				}},
			},
		},
		{
			name:  "iam-support-access",
			world: kbtest.Options{IAMEstate: true},
			steps: []step{
				{block: "iam-support-access/find", as: kbtest.StandaloneAuditor, want: equals("")},
				// A group without members holds the policy for nobody: the
				// page prints it with 0 members, which IAM.18 does not count.
				{probe: attachToOps, as: kbtest.StandaloneAuditor},
				{block: "iam-support-access/find", as: kbtest.StandaloneAuditor, want: equals("group ops: 0 members")},
				{probe: "aws iam add-user-to-group --group-name ops --user-name intern", as: kbtest.StandaloneAuditor},
				{block: "iam-support-access/find", as: kbtest.StandaloneAuditor, want: equals("group ops: 1 members")},
				{block: "iam-support-access/attach-role", as: kbtest.StandaloneAuditor, subst: with("ROLE_NAME", "ci-deploy"), state: func(t *testing.T, p *procRun) {
					if r, ok := iamRole(t, p, "ci-deploy"); !ok || !slices.Contains(r.AttachedPolicies, supportAccess) {
						t.Errorf("ci-deploy: %+v, %v", r, ok)
					}
				}},
				{block: "iam-support-access/find", as: kbtest.StandaloneAuditor, want: equals(arn + "role/ci-deploy\ngroup ops: 1 members")},
			},
		},
	}
}
