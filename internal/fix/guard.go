package fix

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"

	"github.com/vigil-sec/vigil/internal/collect"
	"github.com/vigil-sec/vigil/internal/snapshot"
)

// The guard: before an access key is touched, its last use is read
// (iam:GetAccessKeyLastUsed, live) and the key's recent CloudTrail events
// are listed where CloudTrail can be read; the newest of the two is its
// last use. A key used more recently than MinIdle is refused, and so is a
// key whose last use cannot be read: Vigil never acts on unknown. Force
// overrides both, and the plan says so.

// guard judges one access key and returns the action and the reason.
// act is what the path would do with an idle key.
func guard(c *Credential, act Action, o *Options) (Action, string) {
	now := o.Now()
	last, known := lastUse(c)
	var why string
	switch {
	case !known:
		why = "its last use could not be read (" + orNone(c.LastUsedError) + "), and Vigil never acts on unknown"
	case last != nil && now.Sub(*last) < o.MinIdle:
		why = fmt.Sprintf("used %s ago (%s), within --min-idle %s", ago(now, *last), last.UTC().Format("2006-01-02 15:04 MST"), days(o.MinIdle))
		if c.Signing {
			why += "; this run signs with it, so Vigil's own calls may be part of that use"
		}
	}
	if why == "" {
		if last == nil {
			return act, "no recorded use (IAM records key use since 2015-04-22)"
		}
		return act, fmt.Sprintf("idle for %s, beyond --min-idle %s", ago(now, *last), days(o.MinIdle))
	}
	if o.Force {
		return act, "--force overrides the guard: " + why
	}
	return ActRefuse, "refused: " + why + "; --force overrides"
}

// lastUse is the newest recorded use, and whether the live record could
// be read at all. A CloudTrail event newer than the record counts (the
// record can lag); an event cannot stand in for a record that failed,
// since the history covers only some Regions and 90 days.
func lastUse(c *Credential) (*time.Time, bool) {
	if c.LastUsed == nil {
		return nil, false
	}
	last := c.LastUsed.Date
	for _, e := range c.Events {
		if last == nil || e.Time.After(*last) {
			t := e.Time
			last = &t
		}
	}
	return last, true
}

func orNone(s string) string {
	if s == "" {
		return "no answer"
	}
	return s
}

// ago renders a duration in days, or hours under two days.
func ago(now, t time.Time) string {
	d := now.Sub(t)
	switch {
	case d < 0:
		return "0 days"
	case d < 48*time.Hour:
		return fmt.Sprintf("%d hours", int(d.Hours()))
	}
	return fmt.Sprintf("%d days", int(d.Hours()/24))
}

func days(d time.Duration) string {
	if d%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", d/(24*time.Hour))
	}
	return d.String()
}

// keyUse turns what collect read into the plan's record.
func keyUse(u *snapshot.KeyUse) *Use {
	if u == nil {
		return nil
	}
	return &Use{Date: u.Date, Region: u.Region, Service: u.Service, Source: "iam:GetAccessKeyLastUsed"}
}

// globalRegion is where a partition records IAM, STS (global endpoint)
// and console sign-in events.
func globalRegion(partition string) string {
	switch partition {
	case "aws-us-gov":
		return "us-gov-west-1"
	case "aws-cn":
		return "cn-north-1"
	}
	return "us-east-1"
}

// trailEvents lists the newest events made with a key, in the Region of
// its last recorded use and the partition's global-events Region: one
// page of LookupEvents (AttributeKey AccessKeyId) per Region, bounded by
// the lookback. It never fails the plan: what could not be read is said
// in the returned note.
func trailEvents(ctx context.Context, cfg aws.Config, partition string, c *Credential, o *Options) ([]Event, string) {
	regions := []string{globalRegion(partition)}
	if c.LastUsed != nil && c.LastUsed.Region != "" && c.LastUsed.Region != regions[0] {
		regions = append([]string{c.LastUsed.Region}, regions...)
	}
	now := o.Now()
	since := now.Add(-o.Lookback)
	var events []Event
	var problems []string
	more := false
	for _, region := range regions {
		client := cloudtrail.NewFromConfig(cfg, func(op *cloudtrail.Options) { op.Region = region })
		out, err := lookup(ctx, client, c.ID, since, now, o.MaxEvents)
		if err != nil {
			g := collect.NewGap("", "cloudtrail:LookupEvents", err)
			problems = append(problems, fmt.Sprintf("%s: %s: %s", region, g.Code, g.Message))
			continue
		}
		more = more || out.NextToken != nil
		for _, e := range out.Events {
			events = append(events, eventOf(e, region))
		}
	}
	sort.SliceStable(events, func(i, j int) bool { return events[i].Time.After(events[j].Time) })
	total := len(events)
	if len(events) > o.MaxEvents {
		events = events[:o.MaxEvents]
	}
	var note strings.Builder
	fmt.Fprintf(&note, "CloudTrail event history of the last %s in %s: ", days(o.Lookback), strings.Join(regions, ", "))
	switch {
	case total == 0 && len(problems) == len(regions):
		note.Reset()
		fmt.Fprintf(&note, "CloudTrail could not be read: %s", strings.Join(problems, "; "))
		return nil, note.String()
	case total == 0:
		note.WriteString("no events with this key")
	case more || total > len(events):
		fmt.Fprintf(&note, "the newest %d events (there are more)", len(events))
	default:
		fmt.Fprintf(&note, "%d event(s)", total)
	}
	if len(problems) > 0 {
		fmt.Fprintf(&note, "; not read in %s", strings.Join(problems, "; "))
	}
	return events, note.String()
}

func lookup(ctx context.Context, c Trail, keyID string, since, until time.Time, max int) (*cloudtrail.LookupEventsOutput, error) {
	return c.LookupEvents(ctx, &cloudtrail.LookupEventsInput{
		LookupAttributes: []cttypes.LookupAttribute{{AttributeKey: cttypes.LookupAttributeKeyAccessKeyId, AttributeValue: aws.String(keyID)}},
		StartTime:        aws.Time(since),
		EndTime:          aws.Time(until),
		MaxResults:       aws.Int32(int32(max)),
	})
}

// eventOf keeps what tells a reader what would break: when, which call,
// from where and with which tool (from the CloudTrail record).
func eventOf(e cttypes.Event, region string) Event {
	out := Event{Region: region, Source: aws.ToString(e.EventSource), Name: aws.ToString(e.EventName)}
	if e.EventTime != nil {
		out.Time = e.EventTime.UTC()
	}
	var rec struct {
		SourceIP  string `json:"sourceIPAddress"`
		UserAgent string `json:"userAgent"`
		Region    string `json:"awsRegion"`
		ErrorCode string `json:"errorCode"`
	}
	if json.Unmarshal([]byte(aws.ToString(e.CloudTrailEvent)), &rec) == nil {
		out.SourceIP, out.UserAgent, out.Error = rec.SourceIP, rec.UserAgent, rec.ErrorCode
		if rec.Region != "" {
			out.Region = rec.Region
		}
	}
	return out
}
