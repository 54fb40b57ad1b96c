package serveconfig

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Events is where `vigil serve` reads the organisation's root events
// from: an SQS queue that EventBridge delivers CloudTrail's root events
// to (`vigil prevent` sets it up).
type Events struct {
	// QueueURL is the queue's URL, as CreateQueue and GetQueueUrl give it.
	QueueURL string
	// Region is the queue's region: from the URL's host
	// (sqs.<region>.amazonaws.com) unless given.
	Region string
	// Profile signs the queue calls; the default credentials when empty.
	Profile string
	// Pollers is how many long polls run at once (default 4).
	Pollers int
	// Visibility is how long a received message stays hidden while it is
	// handled; Vigil extends it while a message is still being handled.
	Visibility time.Duration
	// Rescan is how long a targeted re-scan of an account waits after a
	// root event, so that a burst of events makes one scan (default 5s).
	Rescan time.Duration
	Pos    Pos
}

// Defaults of the events section.
const (
	DefaultPollers        = 4
	DefaultVisibility     = 60 * time.Second
	DefaultRescanDebounce = 5 * time.Second
)

var sqsHost = regexp.MustCompile(`^(?:sqs\.([a-z0-9-]+)\.amazonaws\.com(?:\.cn)?|([a-z0-9-]+)\.queue\.amazonaws\.com(?:\.cn)?)$`)

// QueueRegion is the region in an SQS queue URL's host, or "" when the
// host names none (a custom endpoint).
func QueueRegion(queueURL string) string {
	u, err := url.Parse(queueURL)
	if err != nil {
		return ""
	}
	m := sqsHost.FindStringSubmatch(strings.ToLower(u.Hostname()))
	if m == nil {
		return ""
	}
	if m[1] != "" {
		return m[1]
	}
	return m[2]
}

// CheckQueueURL says what is wrong with a queue URL, if anything: the
// config's sqs_queue_url and serve's --events-queue take the same.
func CheckQueueURL(s string) error {
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || len(strings.Split(strings.Trim(u.Path, "/"), "/")) != 2 {
		return fmt.Errorf("%q is not a queue URL (https://sqs.<region>.amazonaws.com/<account>/<queue>)", s)
	}
	if u.User != nil || u.RawQuery != "" {
		return errors.New("a queue URL has no user information or query")
	}
	return nil
}

func (p *parser) events(v *yaml.Node, path string) *Events {
	e := &Events{Pos: p.pos(v), Pollers: DefaultPollers, Visibility: DefaultVisibility, Rescan: DefaultRescanDebounce}
	seen := p.fields(v, path, []string{"sqs_queue_url", "region", "profile", "pollers", "visibility_timeout", "rescan_after"}, func(key string, _, v *yaml.Node) {
		kp := join(path, key)
		switch key {
		case "sqs_queue_url":
			s, ok := p.nonEmpty(v, kp)
			if !ok {
				return
			}
			if err := CheckQueueURL(s); err != nil {
				p.errorf(v, kp, "%v", err)
				return
			}
			e.QueueURL = s
		case "region":
			e.Region, _ = p.nonEmpty(v, kp)
		case "profile":
			e.Profile, _ = p.nonEmpty(v, kp)
		case "pollers":
			e.Pollers = p.integer(v, kp, 1, 64)
		case "visibility_timeout":
			// At least 10 s so the extension every third of it is not a
			// storm; at most SQS's 12 hours.
			if d := p.duration(v, kp, 10*time.Second); d > 0 {
				if d > 12*time.Hour {
					p.errorf(v, kp, "at most 12h (SQS's limit)")
				}
				e.Visibility = d
			}
		case "rescan_after":
			if d := p.duration(v, kp, 0); d >= 0 {
				if d > 10*time.Minute {
					p.errorf(v, kp, "at most 10m: the re-scan is what turns a root event into an open finding quickly")
				}
				e.Rescan = d
			}
		}
	})
	if v.Kind == yaml.MappingNode {
		p.require(v, path, seen, "sqs_queue_url")
		if e.Region == "" && e.QueueURL != "" {
			e.Region = QueueRegion(e.QueueURL)
		}
	}
	return e
}
