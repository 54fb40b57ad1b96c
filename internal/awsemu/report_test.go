package awsemu_test

import (
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
	"github.com/google/go-cmp/cmp"

	"github.com/vigil-sec/vigil/internal/awsemu"
	"github.com/vigil-sec/vigil/internal/awsemu/awsemutest"
)

const memberReport = awsemu.CredentialReportHeader + "\n" +
	"<root_account>,arn:aws:iam::444455556666:root,2022-01-10T08:00:00+00:00,not_supported,no_information,not_supported,not_supported,false," +
	"true,2022-01-10T08:30:00+00:00,2026-10-31T02:00:00+00:00,N/A,s3," +
	"false,2023-05-01T00:00:00+00:00,N/A,N/A,N/A," +
	"true,2022-02-02T00:00:00+00:00,false,N/A\n" +
	"alice,arn:aws:iam::444455556666:user/alice,2021-06-01T12:00:00+00:00,true,2026-10-29T18:02:44+00:00,2026-05-01T10:00:00+00:00,N/A,true," +
	"true,2026-05-01T10:05:00+00:00,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n" +
	"root,arn:aws:iam::444455556666:user/root,2023-01-01T00:00:00+00:00,false,N/A,N/A,N/A,false," +
	"true,2023-01-01T00:00:00+00:00,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n"

func generate(t *testing.T, c *iam.Client) (types.ReportStateType, string) {
	t.Helper()
	out, err := c.GenerateCredentialReport(t.Context(), &iam.GenerateCredentialReportInput{})
	if err != nil {
		t.Fatal(err)
	}
	return out.State, aws.ToString(out.Description)
}

func TestCredentialReportLifecycle(t *testing.T) {
	w := testWorld()
	w.Accounts[2].Report.GenerationPolls = 2
	clock := awsemu.NewManualClock(t0)
	srv := awsemutest.Start(t, w, awsemu.WithClock(clock.Now))
	c := clientsFor(t, srv, memberRootKey).iam
	ctx := t.Context()

	_, err := c.GetCredentialReport(ctx, &iam.GetCredentialReportInput{})
	wantType[*types.CredentialReportNotPresentException](t, err)
	wantAPIError(t, err, "ReportNotPresent", 410)

	state, desc := generate(t, c)
	if state != types.ReportStateTypeStarted || desc != "No report exists. Starting a new report generation task" {
		t.Errorf("first Generate = %s %q", state, desc)
	}
	_, err = c.GetCredentialReport(ctx, nil)
	wantType[*types.CredentialReportNotReadyException](t, err)
	wantAPIError(t, err, "ReportInProgress", 404)

	if state, _ := generate(t, c); state != types.ReportStateTypeInprogress {
		t.Errorf("second Generate = %s", state)
	}
	clock.Advance(10 * time.Second)
	if state, _ := generate(t, c); state != types.ReportStateTypeComplete {
		t.Errorf("third Generate = %s", state)
	}
	out, err := c.GetCredentialReport(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if out.ReportFormat != types.ReportFormatTypeTextCsv || !out.GeneratedTime.Equal(t0.Add(10*time.Second)) {
		t.Errorf("format %s, generated %v", out.ReportFormat, out.GeneratedTime)
	}
	if diff := cmp.Diff(memberReport, string(out.Content)); diff != "" {
		t.Errorf("report (-want +got):\n%s", diff)
	}

	// The 4-hour rule: a change is not visible until the report is 4 h old.
	if _, err := c.DeleteAccessKey(ctx, &iam.DeleteAccessKeyInput{AccessKeyId: aws.String(memberRootKey2)}); err != nil {
		t.Fatal(err)
	}
	clock.Advance(4*time.Hour - time.Second)
	if state, _ := generate(t, c); state != types.ReportStateTypeComplete {
		t.Errorf("Generate within 4 h = %s, want COMPLETE", state)
	}
	out, err = c.GetCredentialReport(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if string(out.Content) != memberReport {
		t.Error("report changed within 4 h")
	}

	clock.Advance(time.Second)
	if state, _ := generate(t, c); state != types.ReportStateTypeStarted {
		t.Errorf("Generate after 4 h = %s, want STARTED", state)
	}
	generate(t, c)
	if state, _ := generate(t, c); state != types.ReportStateTypeComplete {
		t.Errorf("Generate = %s", state)
	}
	out, err = c.GetCredentialReport(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	rootRow := strings.Split(string(out.Content), "\n")[1]
	if !strings.Contains(rootRow, ",s3,false,N/A,N/A,N/A,N/A,true,") {
		t.Errorf("root row after deleting key 2: %s", rootRow)
	}
	if !out.GeneratedTime.Equal(clock.Now()) {
		t.Errorf("GeneratedTime = %v, want %v", out.GeneratedTime, clock.Now())
	}
	if ex := must(srv.Account(memberID)).Report.Existing; ex == nil || ex.CSV != string(out.Content) {
		t.Error("completed report not stored in the account state")
	}
}

func must[T any](v T, ok bool) T {
	if !ok {
		panic("not found")
	}
	return v
}

func TestCredentialReportExpired(t *testing.T) {
	w := testWorld()
	w.Accounts[2].Report = awsemu.ReportConfig{Expired: true, Existing: &awsemu.ExistingReport{GeneratedAt: t0.Add(-time.Hour), CSV: "stale"}}
	srv := awsemutest.Start(t, w, awsemu.WithClock(func() time.Time { return t0 }))
	c := clientsFor(t, srv, memberRootKey).iam
	_, err := c.GetCredentialReport(t.Context(), nil)
	wantType[*types.CredentialReportExpiredException](t, err)
	wantAPIError(t, err, "ReportExpired", 410)

	if state, _ := generate(t, c); state != types.ReportStateTypeStarted {
		t.Errorf("Generate with an expired report = %s, want STARTED", state)
	}
	generate(t, c)
	out, err := c.GetCredentialReport(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if string(out.Content) != memberReport {
		t.Errorf("regenerated report:\n%s", out.Content)
	}
}

func TestCredentialReportExisting(t *testing.T) {
	w := testWorld()
	w.Accounts[0].Report.Existing = &awsemu.ExistingReport{GeneratedAt: t0.Add(-time.Hour), CSV: "user,arn\r\nraw,\"as-is\"\r\n"}
	w.Accounts[2].Report.Existing = &awsemu.ExistingReport{GeneratedAt: t0.Add(-2 * time.Hour)}
	srv := awsemutest.Start(t, w, awsemu.WithClock(func() time.Time { return t0 }))

	c := clientsFor(t, srv, mgmtRootKey).iam
	if state, _ := generate(t, c); state != types.ReportStateTypeComplete {
		t.Errorf("Generate with a 1 h old report = %s", state)
	}
	out, err := c.GetCredentialReport(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if string(out.Content) != "user,arn\r\nraw,\"as-is\"\r\n" || !out.GeneratedTime.Equal(t0.Add(-time.Hour)) {
		t.Errorf("existing report = %q at %v", out.Content, out.GeneratedTime)
	}

	// An existing report without CSV shows the state at load time.
	out, err = clientsFor(t, srv, memberRootKey).iam.GetCredentialReport(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if string(out.Content) != memberReport {
		t.Errorf("rendered existing report:\n%s", out.Content)
	}
}

func TestCredentialReportPartitionAndRootPassword(t *testing.T) {
	w := &awsemu.World{Partition: "aws-us-gov", Accounts: []*awsemu.Account{{
		ID:     "123456789012",
		Root:   awsemu.Root{CreateDate: t0, Password: true, AccessKeys: []awsemu.AccessKey{{ID: "AKIAGOVROOT000000001"}}},
		Users:  []awsemu.User{{Name: "b,c", Path: "/team/", CreateDate: t0, Password: true}},
		Report: awsemu.ReportConfig{RootPasswordAsBool: true},
	}}}
	got := string(awsemu.RenderCredentialReport(w.Partition, w.Accounts[0]))
	want := awsemu.CredentialReportHeader + "\n" +
		"<root_account>,arn:aws-us-gov:iam::123456789012:root,2026-11-01T12:00:00+00:00,true,no_information,not_supported,not_supported,false," +
		"true,2026-11-01T12:00:00+00:00,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n" +
		"\"b,c\",\"arn:aws-us-gov:iam::123456789012:user/team/b,c\",2026-11-01T12:00:00+00:00,true,no_information,2026-11-01T12:00:00+00:00,N/A,false," +
		"false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A\n"
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("report (-want +got):\n%s", diff)
	}

	srv := awsemutest.Start(t, w, awsemu.WithClock(func() time.Time { return t0 }))
	c := clientsFor(t, srv, "AKIAGOVROOT000000001").iam
	generate(t, c)
	generate(t, c)
	out, err := c.GetCredentialReport(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if string(out.Content) != want {
		t.Errorf("served report differs from RenderCredentialReport:\n%s", out.Content)
	}
}

func TestCredentialReportFaults(t *testing.T) {
	srv := startTest(t)
	c := clientsFor(t, srv, memberRootKey).iam

	srv.SetFaults(awsemu.Fault{Service: "iam", Action: "GenerateCredentialReport", Code: "LimitExceeded"})
	_, err := c.GenerateCredentialReport(t.Context(), nil)
	wantType[*types.LimitExceededException](t, err)
	wantAPIError(t, err, "LimitExceeded", 409)
	if n := srv.CallCount("iam", "GenerateCredentialReport"); n != 1 {
		t.Errorf("LimitExceeded was retried: %d calls", n)
	}

	srv.SetFaults(awsemu.Fault{Service: "iam", Action: "GetCredentialReport", Code: "ReportInProgress"})
	_, err = c.GetCredentialReport(t.Context(), nil)
	wantType[*types.CredentialReportNotReadyException](t, err)

	srv.ClearFaults()
	srv.ResetCalls()
	generate(t, c)
	generate(t, c)
	srv.SetFaults(awsemu.Fault{Service: "iam", Action: "GetCredentialReport", Code: "ServiceFailure", Times: 1})
	c = clientsFor(t, srv, memberRootKey, fastRetries).iam
	if _, err := c.GetCredentialReport(t.Context(), nil); err != nil {
		t.Fatalf("ServiceFailure once was not retried: %v", err)
	}
	if n := srv.CallCount("iam", "GetCredentialReport"); n != 2 {
		t.Errorf("GetCredentialReport calls = %d, want 2", n)
	}
}
