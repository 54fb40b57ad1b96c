package scenario

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/vigil-sec/vigil/internal/awsemu"
)

// Tests with deadlines run them on a clock.Manual: a deadline passes when
// the test advances the clock, after it has seen that everything meant to
// finish first has finished. Nothing then depends on how fast the machine
// is. What the tests wait for they wait for without a time limit of their
// own, except hangLimit, which only turns a hang (a bug) into a failure.

// hangLimit bounds a wait that only a bug makes long.
const hangLimit = 2 * time.Minute

// waitUntil waits until cond holds, checking it every few milliseconds.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(hangLimit); !cond(); time.Sleep(2 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %s", hangLimit, what)
		}
	}
}

// heldBy names the calls the server holds back for an account, sorted
// ("iam:GetAccountSummary").
func heldBy(srv *awsemu.Server, account string) []string {
	var out []string
	for _, c := range srv.Held() {
		if c.CallerAccount == account {
			out = append(out, c.Service+":"+c.Action)
		}
	}
	slices.Sort(out)
	return out
}

// doneSet is an organisation scan's progress: which accounts finished.
type doneSet struct {
	mu   sync.Mutex
	done map[string]bool
}

func (d *doneSet) Add(int)        {}
func (d *doneSet) DiscoveryDone() {}
func (d *doneSet) Done(id string, _ bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.done == nil {
		d.done = map[string]bool{}
	}
	d.done[id] = true
}

// all reports whether every account in ids finished.
func (d *doneSet) all(ids []string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, id := range ids {
		if !d.done[id] {
			return false
		}
	}
	return true
}

// opLog records, on the client's side, every attempt of a call that
// returned, with the access key that signed it. The emulator logs a call
// before its answer reaches the client, so only the client knows when an
// answer has been taken in (and a deadline passing can no longer cut it).
type opLog struct {
	mu  sync.Mutex
	ops []op
}

type op struct {
	key, call string
	ok        bool
}

// option adds the recording to a configuration, and so to every client
// and session made from it.
func (l *opLog) option(o *config.LoadOptions) error {
	o.APIOptions = append(o.APIOptions, func(st *middleware.Stack) error {
		return st.Finalize.Add(middleware.FinalizeMiddlewareFunc("ScenarioOpLog",
			func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
				key := ""
				if r, ok := in.Request.(*smithyhttp.Request); ok {
					// Credential=AKID/date/region/service/aws4_request
					_, cred, _ := strings.Cut(r.Header.Get("Authorization"), "Credential=")
					key, _, _ = strings.Cut(cred, "/")
				}
				out, md, err := next.HandleFinalize(ctx, in)
				call := strings.ToLower(awsmiddleware.GetServiceID(ctx)) + ":" + awsmiddleware.GetOperationName(ctx)
				l.mu.Lock()
				l.ops = append(l.ops, op{key: key, call: call, ok: err == nil})
				l.mu.Unlock()
				return out, md, err
			}), middleware.After)
	})
	return nil
}

// answered reports whether every call in calls returned to the client,
// signed with key; a call marked "+ok" must have succeeded.
func (l *opLog) answered(key string, calls ...string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, c := range calls {
		name, needOK := strings.CutSuffix(c, "+ok")
		found := false
		for _, o := range l.ops {
			found = found || o.key == key && o.call == name && (o.ok || !needOK)
		}
		if !found {
			return false
		}
	}
	return true
}
