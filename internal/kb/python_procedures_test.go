package kb_test

import (
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/awsemu"
	"github.com/vigil-sec/vigil/internal/kb/kbtest"
)

// The Python procedures: what a reader of each page does with its scripts,
// and what the accounts must look like before and after. The identities
// are those of the AWS CLI procedures (awscli_procedures_test.go).

func pyProcedures() []pyProcedure {
	day := 24 * time.Hour
	return []pyProcedure{
		{
			name: "root-access-key/standalone",
			seed: func(s *kbtest.Services) {
				s.Seed(kbtest.APICall(kbtest.StandaloneID, "Root", "arn:aws:iam::"+kbtest.StandaloneID+":root", kbtest.StandaloneRootKey1, kbtest.KeyUseRegion, "ec2.amazonaws.com", "RunInstances", trailIP, now.Add(-2*day)))
			},
			steps: []pyStep{
				{block: "root-access-key/find-py", as: kbtest.StandaloneAuditor, want: all(
					contains("the root user holds access key(s)", "key 1: active, created "+now.Add(-8*365*day).Format("2006-01-02")+" (2920 days before the report)", "last used "+now.Add(-2*day).Format("2006-01-02")+" (2 days before the report) in "+kbtest.KeyUseRegion+" for ec2",
						"key 2: active, created", "never used"))},
				{block: "root-access-key/last-use-py", as: kbtest.StandaloneRootKey1, args: []string{kbtest.StandaloneRootKey1},
					want: contains(kbtest.KeyUseRegion+"\t", "ec2.amazonaws.com\tRunInstances", "last used "+now.Add(-2*day).Format("2006-01-02"))},
				{block: "root-access-key/fix-py", as: kbtest.StandaloneAuditor, args: []string{"list"}, wantErr: "sign with one of the root user's access keys"},
				{block: "root-access-key/fix-py", as: kbtest.StandaloneRootKey1, args: []string{"list"}, want: all(contains(kbtest.StandaloneRootKey1+"\tActive", kbtest.StandaloneRootKey2+"\tActive"), lineCount(2))},
				{block: "root-access-key/fix-py", as: kbtest.StandaloneRootKey1, args: []string{"deactivate", kbtest.StandaloneRootKey2}, state: func(t *testing.T, p *procRun) {
					if k := rootKeys(t, p, kbtest.StandaloneID); k[kbtest.StandaloneRootKey2] != awsemu.StatusInactive || k[kbtest.StandaloneRootKey1] != awsemu.StatusActive {
						t.Errorf("after deactivation: %v", k)
					}
				}},
				{block: "root-access-key/fix-py", as: kbtest.StandaloneRootKey1, args: []string{"delete", "AKIAKBNOTAROOTKEY001"}, wantErr: "not its keys: AKIAKBNOTAROOTKEY001"},
				// Both keys at once, the signing one named first: it still goes last.
				{block: "root-access-key/fix-py", as: kbtest.StandaloneRootKey1, args: []string{"delete", kbtest.StandaloneRootKey1, kbtest.StandaloneRootKey2},
					want: equals(kbtest.StandaloneRootKey2 + ": deleted\n" + kbtest.StandaloneRootKey1 + ": deleted"), state: func(t *testing.T, p *procRun) {
						if k := rootKeys(t, p, kbtest.StandaloneID); len(k) != 0 {
							t.Errorf("root keys left: %v", k)
						}
						untouched(kbtest.StandaloneID)(t, p)
					}},
				// The summary is current; the report still shows the keys, and the
				// script says which to believe.
				{block: "root-access-key/find-py", as: kbtest.StandaloneAuditor, want: contains("the root user holds no access key(s)", "older than the latest change")},
			},
		},
		{
			name: "root-access-key/member",
			steps: []pyStep{
				{block: "root-access-key/member-py", as: kbtest.ManagementAdminKey, args: []string{kbtest.MemberID},
					want: all(contains(kbtest.MemberRootKey+"\tActive\tcreated ", "last used "+now.AddDate(0, 0, -40).Format("2006-01-02")+" in us-east-1 for s3"), lineCount(1)), state: noChanges},
				{block: "root-access-key/member-py", as: kbtest.ManagementAdminKey, args: []string{kbtest.MemberID, kbtest.MemberRootKey},
					want: contains(kbtest.MemberRootKey + ": deleted"), state: func(t *testing.T, p *procRun) {
						r := p.account(t, kbtest.MemberID).Root
						if len(r.AccessKeys) != 0 || !r.Password || len(r.SigningCertificates) != 1 || len(r.MFADevices) != 1 {
							t.Errorf("member root after deleting its key: %+v", r)
						}
						untouched(kbtest.MemberID)(t, p)
					}},
				{block: "root-access-key/member-py", as: kbtest.ManagementAdminKey, args: []string{kbtest.MemberID}, want: equals("")},
			},
		},
		{
			name:  "root-access-key/member-without-central-access",
			world: kbtest.Options{NoCentralRootAccess: true},
			steps: []pyStep{
				{block: "root-access-key/member-py", as: kbtest.ManagementAdminKey, args: []string{kbtest.MemberID}, wantErr: "AssumeRoot: "},
			},
		},
		{
			name: "alerts",
			steps: []pyStep{
				{block: "alert/rule-py", as: kbtest.ManagementAdminKey, args: []string{snsTopic}, want: contains("us-east-1: arn:aws:events:us-east-1:" + kbtest.ManagementID + ":rule/vigil-root-activity"),
					state: checkAlert("vigil-root-activity", "root-activity-pattern.json", map[string]bool{
						"root sign-in": true, "root API call": true, "root session API call": true, "user sign-in": false, "user API call": false})},
			},
		},
		{
			name: "monitor",
			seed: func(s *kbtest.Services) { s.CreateTopic(snsTopic) },
			steps: []pyStep{
				// A topic that does not exist: the error code, no traceback.
				{block: "alert/monitor-py", as: kbtest.ManagementAdminKey, args: []string{snsTopic + "-missing"}, wantErr: "Publish: NotFound"},
				{block: "alert/monitor-py", as: kbtest.ManagementAdminKey, args: []string{snsTopic}, state: published(1, kbtest.MemberID+" (production): access key "+kbtest.MemberRootKey+" (active, created ", "signing certificate; password", "in 1 of 3 accounts checked")},
				// As a Lambda function would be configured: the topic from the environment.
				{block: "alert/monitor-py", as: kbtest.ManagementAdminKey, env: map[string]string{"ROOT_ALERT_TOPIC_ARN": snsTopic}, state: published(2, kbtest.MemberRootKey)},
			},
		},
	}
}

// published: the topic holds n messages, the last with these lines, and
// no message names an account that holds nothing.
func published(n int, want ...string) func(*testing.T, *procRun) {
	return func(t *testing.T, p *procRun) {
		t.Helper()
		msgs := p.svc.Published()
		if len(msgs) != n {
			t.Fatalf("%d messages published, want %d: %+v", len(msgs), n, msgs)
		}
		last := msgs[n-1]
		for _, w := range want {
			if !strings.Contains(last.Message, w) {
				t.Errorf("message lacks %q:\n%s", w, last.Message)
			}
		}
		for _, m := range msgs {
			if m.TopicARN != snsTopic || strings.Contains(m.Message, kbtest.CleanID) || strings.Contains(m.Message, kbtest.StandaloneID) {
				t.Errorf("message %+v", m)
			}
		}
	}
}
