package cli

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/vigil-sec/vigil/internal/awsemu"
	"github.com/vigil-sec/vigil/internal/awsemu/awsemutest"
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
