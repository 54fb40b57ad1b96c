package awsemu_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/vigil-sec/vigil/internal/awsemu"
	"github.com/vigil-sec/vigil/internal/awsemu/awsemutest"
)

func trailWorld() *awsemu.World {
	w := testWorld()
	day := 24 * time.Hour
	w.Accounts[0].CloudTrail = []awsemu.TrailEvent{
		{Time: t0.Add(-2 * day), Region: "us-east-1", Source: "ec2.amazonaws.com", Name: "RunInstances", AccessKeyID: mgmtRootKey, SourceIP: "203.0.113.5"},
		{Time: t0.Add(-3 * day), Region: "us-east-1", Source: "ec2.amazonaws.com", Name: "DescribeInstances", AccessKeyID: mgmtRootKey, ReadOnly: true},
		{Time: t0.Add(-1 * day), Region: "eu-west-1", Source: "s3.amazonaws.com", Name: "ListBuckets", AccessKeyID: mgmtRootKey, ReadOnly: true},
		{Time: t0.Add(-4 * day), Region: "us-east-1", Source: "iam.amazonaws.com", Name: "ListUsers", AccessKeyID: mgmtAdminKey, ReadOnly: true},
		// Older than the history keeps.
		{Time: t0.Add(-91 * day), Region: "us-east-1", Source: "ec2.amazonaws.com", Name: "StopInstances", AccessKeyID: mgmtRootKey},
	}
	w.Accounts[2].CloudTrail = []awsemu.TrailEvent{
		{Time: t0.Add(-5 * day), Region: "us-east-1", Source: "s3.amazonaws.com", Name: "PutObject", AccessKeyID: memberRootKey},
	}
	return w
}

func trailClient(t *testing.T, srv *awsemu.Server, key, region string) *cloudtrail.Client {
	t.Helper()
	return cloudtrail.NewFromConfig(awsemutest.ConfigFor(t, srv, key, config.WithRegion(region), fastRetries))
}

func byKey(key string) []cttypes.LookupAttribute {
	return []cttypes.LookupAttribute{{AttributeKey: cttypes.LookupAttributeKeyAccessKeyId, AttributeValue: aws.String(key)}}
}

// TestLookupEvents: the event history of the caller's account in the
// signed Region, newest first, 90 days back, filtered by one attribute.
func TestLookupEvents(t *testing.T) {
	srv := awsemutest.Start(t, trailWorld(), awsemu.WithClock(func() time.Time { return t0 }))
	ctx := t.Context()
	c := trailClient(t, srv, mgmtAdminKey, "us-east-1")
	out, err := c.LookupEvents(ctx, &cloudtrail.LookupEventsInput{LookupAttributes: byKey(mgmtRootKey)})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range out.Events {
		names = append(names, aws.ToString(e.EventName))
	}
	if strings.Join(names, ",") != "RunInstances,DescribeInstances" || out.NextToken != nil {
		t.Fatalf("events %v (token %v)", names, out.NextToken)
	}
	e := out.Events[0]
	if !e.EventTime.Equal(t0.Add(-48*time.Hour)) || aws.ToString(e.EventSource) != "ec2.amazonaws.com" || aws.ToString(e.AccessKeyId) != mgmtRootKey ||
		aws.ToString(e.Username) != "root" || aws.ToString(e.ReadOnly) != "false" || aws.ToString(e.EventId) == "" {
		t.Errorf("event %+v", e)
	}
	var rec struct {
		UserIdentity     struct{ Type, Arn, AccessKeyId string } `json:"userIdentity"`
		SourceIPAddress  string                                  `json:"sourceIPAddress"`
		EventID          string                                  `json:"eventID"`
		AWSRegion        string                                  `json:"awsRegion"`
		RecipientAccount string                                  `json:"recipientAccountId"`
	}
	if err := json.Unmarshal([]byte(aws.ToString(e.CloudTrailEvent)), &rec); err != nil {
		t.Fatal(err)
	}
	if rec.UserIdentity.Type != "Root" || rec.UserIdentity.Arn != "arn:aws:iam::"+mgmtID+":root" || rec.UserIdentity.AccessKeyId != mgmtRootKey ||
		rec.SourceIPAddress != "203.0.113.5" || rec.EventID != aws.ToString(e.EventId) || rec.AWSRegion != "us-east-1" || rec.RecipientAccount != mgmtID {
		t.Errorf("record %+v", rec)
	}

	// Another Region holds other events; another account sees only its own.
	eu, err := trailClient(t, srv, mgmtAdminKey, "eu-west-1").LookupEvents(ctx, &cloudtrail.LookupEventsInput{LookupAttributes: byKey(mgmtRootKey)})
	if err != nil || len(eu.Events) != 1 || aws.ToString(eu.Events[0].EventName) != "ListBuckets" {
		t.Errorf("eu-west-1: %v %+v", err, eu)
	}
	other, err := trailClient(t, srv, memberAliceKey, "us-east-1").LookupEvents(ctx, &cloudtrail.LookupEventsInput{LookupAttributes: byKey(mgmtRootKey)})
	if err != nil || len(other.Events) != 0 {
		t.Errorf("another account's history: %v %+v", err, other)
	}
	// No attribute: every event of the Region in the window.
	all, err := c.LookupEvents(ctx, &cloudtrail.LookupEventsInput{})
	if err != nil || len(all.Events) != 3 {
		t.Errorf("all events: %v %d", err, len(all.Events))
	}
	// Bounds and paging, through the SDK's paginator.
	p := cloudtrail.NewLookupEventsPaginator(c, &cloudtrail.LookupEventsInput{MaxResults: aws.Int32(1), StartTime: aws.Time(t0.Add(-3 * 24 * time.Hour))})
	var paged []string
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Events) > 1 {
			t.Fatalf("page of %d events with MaxResults 1", len(page.Events))
		}
		for _, e := range page.Events {
			paged = append(paged, aws.ToString(e.EventName))
		}
	}
	if strings.Join(paged, ",") != "RunInstances,DescribeInstances" {
		t.Errorf("paged %v", paged)
	}
	// A Go SDK client and the CLI name the operation differently; both are
	// logged as cloudtrail:LookupEvents, a read.
	if srv.CallCount("cloudtrail", "LookupEvents") == 0 || awsemu.Mutating("cloudtrail", "LookupEvents") {
		t.Error("LookupEvents not logged as a cloudtrail read")
	}
}

func TestLookupEventsErrors(t *testing.T) {
	srv := awsemutest.Start(t, trailWorld(), awsemu.WithClock(func() time.Time { return t0 }))
	ctx := t.Context()
	c := trailClient(t, srv, mgmtAdminKey, "us-east-1")
	two := append(byKey(mgmtRootKey), cttypes.LookupAttribute{AttributeKey: cttypes.LookupAttributeKeyEventName, AttributeValue: aws.String("RunInstances")})
	_, err := c.LookupEvents(ctx, &cloudtrail.LookupEventsInput{LookupAttributes: two})
	wantType[*cttypes.InvalidLookupAttributesException](t, err)
	_, err = c.LookupEvents(ctx, &cloudtrail.LookupEventsInput{MaxResults: aws.Int32(51)})
	wantType[*cttypes.InvalidMaxResultsException](t, err)
	_, err = c.LookupEvents(ctx, &cloudtrail.LookupEventsInput{StartTime: aws.Time(t0), EndTime: aws.Time(t0.Add(-time.Hour))})
	wantType[*cttypes.InvalidTimeRangeException](t, err)
	_, err = c.LookupEvents(ctx, &cloudtrail.LookupEventsInput{NextToken: aws.String("bogus")})
	wantType[*cttypes.InvalidNextTokenException](t, err)

}

// TestLookupEventsDeniedToRootSessions: the delete task policy cannot read
// CloudTrail, so a fixer must say it could not.
func TestLookupEventsDeniedToRootSessions(t *testing.T) {
	srv := awsemutest.Start(t, trailWorld(), awsemu.WithClock(func() time.Time { return t0 }))
	_, out := assumeRoot(t, srv, mgmtAdminKey, memberID, deletePolicy)
	c := out.Credentials
	cfg, err := srv.AWSConfig(t.Context(), aws.Credentials{AccessKeyID: *c.AccessKeyId, SecretAccessKey: *c.SecretAccessKey, SessionToken: *c.SessionToken}, fastRetries)
	if err != nil {
		t.Fatal(err)
	}
	_, err = cloudtrail.NewFromConfig(cfg).LookupEvents(t.Context(), &cloudtrail.LookupEventsInput{LookupAttributes: byKey(memberRootKey)})
	wantAPIError(t, err, "AccessDeniedException", 400)
	// A role in the member account can.
	role, err := clientsFor(t, srv, mgmtAdminKey).sts.AssumeRole(t.Context(), &sts.AssumeRoleInput{
		RoleArn: aws.String("arn:aws:iam::" + memberID + ":role/OrganizationAccountAccessRole"), RoleSessionName: aws.String("trail")})
	if err != nil {
		t.Fatal(err)
	}
	rc := role.Credentials
	rcfg, err := srv.AWSConfig(t.Context(), aws.Credentials{AccessKeyID: *rc.AccessKeyId, SecretAccessKey: *rc.SecretAccessKey, SessionToken: *rc.SessionToken}, fastRetries)
	if err != nil {
		t.Fatal(err)
	}
	got, err := cloudtrail.NewFromConfig(rcfg).LookupEvents(t.Context(), &cloudtrail.LookupEventsInput{LookupAttributes: byKey(memberRootKey)})
	if err != nil || len(got.Events) != 1 || aws.ToString(got.Events[0].EventName) != "PutObject" {
		t.Errorf("through a member role: %v %+v", err, got)
	}
}

// TestTrailEventsInWorldFiles: events load from JSON, are validated, and
// can be added to a running server.
func TestTrailEventsInWorldFiles(t *testing.T) {
	good := `{"accounts":[{"id":"123456789012","root":{"accessKeys":[{"id":"AKIAJSONROOT00000001"}]},
	  "cloudTrail":[{"time":"2026-10-31T12:00:00Z","region":"eu-west-1","source":"s3.amazonaws.com","name":"GetObject","accessKeyId":"AKIAJSONROOT00000001","readOnly":true}]}]}`
	w, err := awsemu.LoadWorld(strings.NewReader(good))
	if err != nil {
		t.Fatal(err)
	}
	srv := awsemutest.Start(t, w, awsemu.WithClock(func() time.Time { return t0 }))
	if err := srv.AddTrailEvents("123456789012", awsemu.TrailEvent{Time: t0.Add(-time.Hour), Region: "eu-west-1", Source: "s3.amazonaws.com", Name: "PutObject", AccessKeyID: "AKIAJSONROOT00000001"}); err != nil {
		t.Fatal(err)
	}
	out, err := trailClient(t, srv, "AKIAJSONROOT00000001", "eu-west-1").LookupEvents(t.Context(), &cloudtrail.LookupEventsInput{LookupAttributes: byKey("AKIAJSONROOT00000001")})
	if err != nil || len(out.Events) != 2 || aws.ToString(out.Events[0].EventName) != "PutObject" {
		t.Fatalf("%v %+v", err, out)
	}
	if err := srv.AddTrailEvents("123456789012", awsemu.TrailEvent{Region: "mars"}); err == nil {
		t.Error("a malformed event was accepted")
	}
	if err := srv.AddTrailEvents("000000000000", awsemu.TrailEvent{}); err == nil {
		t.Error("an unknown account was accepted")
	}
	for name, bad := range map[string]string{
		"region": `{"accounts":[{"id":"123456789012","cloudTrail":[{"time":"2026-10-31T12:00:00Z","region":"nowhere","source":"s3.amazonaws.com","name":"X"}]}]}`,
		"source": `{"accounts":[{"id":"123456789012","cloudTrail":[{"time":"2026-10-31T12:00:00Z","region":"eu-west-1","source":"s3","name":"X"}]}]}`,
		"time":   `{"accounts":[{"id":"123456789012","cloudTrail":[{"region":"eu-west-1","source":"s3.amazonaws.com","name":"X"}]}]}`,
		"record": `{"accounts":[{"id":"123456789012","cloudTrail":[{"time":"2026-10-31T12:00:00Z","region":"eu-west-1","source":"s3.amazonaws.com","name":"X","record":"{"}]}]}`,
	} {
		if _, err := awsemu.LoadWorld(bytes.NewReader([]byte(bad))); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
