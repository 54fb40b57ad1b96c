package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/vigil-sec/vigil/internal/awsemu"
	"github.com/vigil-sec/vigil/internal/awsemu/awsemutest"
	"github.com/vigil-sec/vigil/internal/guardrail"
	"github.com/vigil-sec/vigil/internal/prevent"
)

const (
	tAlone    = "777788889999"
	tAloneKey = "AKIAALONEADMIN000001"
)

// aloneWorld is one account in no organisation.
func aloneWorld() *awsemu.World {
	return &awsemu.World{Accounts: []*awsemu.Account{
		{ID: tAlone, Users: []awsemu.User{{Name: "admin", AccessKeys: []awsemu.AccessKey{{ID: tAloneKey}}}}},
	}}
}

func TestPreventStandaloneArtefacts(t *testing.T) {
	srv := awsemutest.Start(t, aloneWorld())
	emulatorEnv(t, srv, tAloneKey)
	r := runVigil(t, "", false, "prevent")
	if r.code != 0 {
		t.Fatalf("exit %d\n%s", r.code, r.stderr)
	}
	url := "https://sqs.us-east-1.amazonaws.com/" + tAlone + "/vigil-root-activity"
	for _, want := range []string{"account " + tAlone + " (no organisation)", "queue:             " + url, "events:\n    sqs_queue_url: " + url,
		"SCPs:              none", "==> vigil-prevent.tf <=="} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q", want)
		}
	}
	if strings.Contains(r.stdout, "==> scp-") || strings.Contains(r.stdout, "cfn-scp.yaml") {
		t.Error("an account in no organisation got SCPs")
	}
	if !strings.Contains(r.stderr, "is in no AWS Organization") {
		t.Errorf("stderr does not say why there are no SCPs: %s", r.stderr)
	}
	if got := mutating(srv); len(got) != 0 {
		t.Errorf("generating artefacts made mutating calls: %v", got)
	}

	r = runVigil(t, "", false, "prevent", "--format", "json")
	var doc struct {
		Options struct {
			Standalone bool   `json:"standalone"`
			AccountID  string `json:"account_id"`
		} `json:"options"`
		QueueURL string `json:"sqs_queue_url"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil || !doc.Options.Standalone || doc.Options.AccountID != tAlone || doc.QueueURL != url {
		t.Errorf("JSON: %+v %v", doc, err)
	}
	if r := runVigil(t, "", false, "prevent", "--target", "r-ab12"); r.code != 2 || !strings.Contains(r.stderr, "in no organisation") {
		t.Errorf("--target without an organisation: %d %s", r.code, r.stderr)
	}
	if r := runVigil(t, "", false, "prevent", "--standalone", "--target", "r-ab12"); r.code != 2 || !strings.Contains(r.stderr, "SCPs need an AWS Organization") {
		t.Errorf("--standalone --target: %d %s", r.code, r.stderr)
	}
	// Offline: the account is unknown, so the URL is left to the outputs.
	r = runVigil(t, "", false, "prevent", "--offline", "--standalone")
	if r.code != 0 || !strings.Contains(r.stdout, "account (not known) (no organisation)") || !strings.Contains(r.stdout, "CloudFormation output VigilServeConfig") {
		t.Errorf("offline standalone: %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
}

func TestPreventOrgArtefactsNameTheQueue(t *testing.T) {
	srv := awsemutest.Start(t, preventWorld())
	emulatorEnv(t, srv, tMgmtKey)
	r := runVigil(t, "", false, "prevent")
	url := "https://sqs.us-east-1.amazonaws.com/" + tMgmt + "/vigil-root-activity"
	if r.code != 0 || !strings.Contains(r.stdout, "sqs_queue_url: "+url) || !strings.Contains(r.stdout, "arn:aws:sqs:us-east-1:"+tMgmt+":vigil-root-activity") {
		t.Errorf("%d\n%s", r.code, r.stdout[:min(len(r.stdout), 2000)])
	}
}

func TestPreventApplyStandalone(t *testing.T) {
	srv := awsemutest.Start(t, aloneWorld())
	emulatorEnv(t, srv, tAloneKey)
	url := srv.SQSQueueURL(tAlone, "vigil-root-activity")

	r := runVigil(t, "", false, "prevent", "--plan", "--standalone")
	if r.code != 0 {
		t.Fatalf("plan: %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	for _, want := range []string{"events:PutRule", "sqs:CreateQueue", "events:PutTargets", "--apply prints its URL", "This was a dry run"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("plan lacks %q:\n%s", want, r.stdout)
		}
	}
	if got := mutating(srv); len(got) != 0 {
		t.Fatalf("--plan made changes: %v", got)
	}

	audit := filepath.Join(t.TempDir(), "audit.jsonl")
	r = runVigil(t, "", false, "prevent", "--apply", "--standalone", "--yes", "--audit-log", audit)
	if r.code != 0 {
		t.Fatalf("apply: %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stdout, "Results:") || !strings.Contains(r.stdout, "events:\n    sqs_queue_url: "+url) {
		t.Errorf("apply output:\n%s", r.stdout)
	}
	changes := mutating(srv)
	withinPolicy(t, srv)
	log, _ := os.ReadFile(audit)
	if len(changes) != 4 || strings.Count(string(log), "\n") != len(changes) {
		t.Errorf("%d audit lines for changes %v", strings.Count(string(log), "\n"), changes)
	}

	// Again: nothing changes, and it says so, with the URL.
	srv.ResetCalls()
	r = runVigil(t, "", false, "prevent", "--apply", "--standalone", "--yes", "--audit-log", audit)
	if r.code != 0 || !strings.Contains(r.stdout, "Nothing to change.") || !strings.Contains(r.stdout, "sqs_queue_url: "+url) {
		t.Errorf("second apply: %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	if got := mutating(srv); len(got) != 0 {
		t.Errorf("second apply changed %v", got)
	}
	if again, _ := os.ReadFile(audit); string(again) != string(log) {
		t.Error("a run with nothing to change wrote to the audit log")
	}
	r = runVigil(t, "", false, "prevent", "--plan", "--standalone", "--format", "json")
	var doc struct {
		Queue struct{ URL, ARN, ServeConfig string } `json:"root_activity_queue"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &doc); err != nil || doc.Queue.URL != url || doc.Queue.ARN != "arn:aws:sqs:us-east-1:"+tAlone+":vigil-root-activity" {
		t.Errorf("JSON plan: %v %s", err, r.stdout)
	}

	// Without --standalone the organisation's guardrails are asked for.
	r = runVigil(t, "", false, "prevent", "--apply", "--yes", "--target", "r-ab12", "--audit-log", audit)
	if r.code != 1 || !strings.Contains(r.stderr, "run with --standalone") {
		t.Errorf("org apply on a lone account: %d %s", r.code, r.stderr)
	}
	if r := runVigil(t, "", false, "prevent", "--plan", "--standalone", "--home-region", "us-gov-west-1"); r.code != 2 || !strings.Contains(r.stderr, "partition aws-us-gov") {
		t.Errorf("home region of another partition: %d %s", r.code, r.stderr)
	}
}

func TestPreventApplyAddsTheQueueToTheCentralRule(t *testing.T) {
	srv := awsemutest.Start(t, preventWorld())
	emulatorEnv(t, srv, tMgmtKey)
	// The central stack of an older Vigil: bus and rule, SNS target only.
	eb := eventbridge.NewFromConfig(awsemutest.ConfigFor(t, srv, tMgmtKey))
	if _, err := eb.CreateEventBus(t.Context(), &eventbridge.CreateEventBusInput{Name: aws.String("vigil-root-activity")}); err != nil {
		t.Fatal(err)
	}
	if _, err := eb.PutRule(t.Context(), &eventbridge.PutRuleInput{Name: aws.String("vigil-root-activity-alert"), EventBusName: aws.String("vigil-root-activity"),
		EventPattern: aws.String(prevent.EventPatternJSON()), State: ebtypes.RuleState(prevent.RuleState)}); err != nil {
		t.Fatal(err)
	}
	srv.ResetCalls()
	audit := filepath.Join(t.TempDir(), "audit.jsonl")
	r := runVigil(t, "", false, "prevent", "--apply", "--yes", "--target", tRoot, "--audit-log", audit)
	url := srv.SQSQueueURL(tMgmt, "vigil-root-activity")
	if r.code != 0 || !strings.Contains(r.stdout, "sqs:CreateQueue") || !strings.Contains(r.stdout, "sqs_queue_url: "+url) {
		t.Fatalf("apply: %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
	withinPolicy(t, srv)
	rules := srv.EventRules(tMgmt, "us-east-1")
	if len(rules) != 1 || len(rules[0].Targets) != 1 || rules[0].Targets[0].Id != "vigil-queue" {
		t.Errorf("rules %+v", rules)
	}
	srv.ResetCalls()
	r = runVigil(t, "", false, "prevent", "--apply", "--yes", "--target", tRoot, "--audit-log", audit)
	if r.code != 0 || !strings.Contains(r.stdout, "Nothing to change.") || len(mutating(srv)) != 0 {
		t.Errorf("second apply: %d\n%s", r.code, r.stdout)
	}
}

// withinPolicy: every call the run made is one vigil policy --for prevent
// grants.
func withinPolicy(t *testing.T, srv *awsemu.Server) {
	t.Helper()
	granted := map[string]bool{}
	for _, st := range guardrail.Policy("aws").Statement {
		for _, a := range st.Action {
			granted[a] = true
		}
	}
	for _, c := range srv.Calls() {
		if c.Service == "" || c.CallerAccount == "" {
			continue
		}
		if a := c.Service + ":" + c.Action; !granted[a] {
			t.Errorf("the run called %s, which vigil policy --for prevent does not grant", a)
		}
	}
}
