package awsreq_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptrace"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/smithy-go/middleware"

	"github.com/vigil-sec/vigil/internal/awsemu"
	"github.com/vigil-sec/vigil/internal/awsemu/awsemutest"
	"github.com/vigil-sec/vigil/internal/awsreq"
	"github.com/vigil-sec/vigil/internal/testclock"
)

// gate holds net/http's writing goroutine right after a request body is
// on the wire, until the SDK has its answer (Do has returned and
// smithy-go has closed the body): on a loaded machine that goroutine can
// lose the CPU at exactly that point, and this makes it lose it every
// time.
type gate struct {
	mu      sync.Mutex
	ch      chan struct{}
	held    atomic.Int32 // body writes held
	dials   atomic.Int32
	closed  chan struct{} // a connection was closed by the client
	onClose sync.Once
}

func newGate() *gate {
	return &gate{ch: make(chan struct{}), closed: make(chan struct{})}
}

func (g *gate) current() chan struct{} {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.ch
}

func (g *gate) release() {
	g.mu.Lock()
	defer g.mu.Unlock()
	close(g.ch)
	g.ch = make(chan struct{})
}

func (g *gate) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	g.dials.Add(1)
	return &gatedConn{Conn: c, g: g}, nil
}

type gatedConn struct {
	net.Conn
	g *gate
}

func (c *gatedConn) Write(p []byte) (int, error) {
	// Taken before the bytes go out: the answer, and the release, may
	// come before this goroutine runs again.
	ch := c.g.current()
	n, err := c.Conn.Write(p)
	// The headers go first on their own (the transport flushes them
	// before a body it cannot size in memory); what follows is the body.
	if err == nil && !bytes.HasPrefix(p, []byte("POST ")) {
		c.g.held.Add(1)
		select {
		case <-ch:
		case <-time.After(10 * time.Second):
		}
	}
	return n, err
}

func (c *gatedConn) Close() error {
	c.g.onClose.Do(func() { close(c.g.closed) })
	return c.Conn.Close()
}

// TestClosedBodyKeepsConnection makes the race deterministic: the SDK gets
// its answer (larger than the transport's 4 KiB read buffer) while the
// transport still holds the request body. Without the bridge, the
// transport takes the closed body's io.EOF for a failed write, closes the
// connection under the answer, and the SDK retries a request that had
// been answered; with it, every call is one request on one connection.
func TestClosedBodyKeepsConnection(t *testing.T) {
	ref := testclock.Ref()
	a := &awsemu.Account{ID: "111122223333", Name: "one",
		Users: []awsemu.User{{Name: "auditor", AccessKeys: []awsemu.AccessKey{{ID: "AKIAAUDITOR000000001"}}}}}
	for i := range 99 {
		a.Users = append(a.Users, awsemu.User{Name: fmt.Sprintf("user-%03d", i), CreateDate: ref.AddDate(-1, 0, 0)})
	}
	srv := awsemutest.Start(t, &awsemu.World{Accounts: []*awsemu.Account{a}})

	for _, tc := range []struct {
		name   string
		bridge bool
	}{{"sdk alone", false}, {"bridged", true}} {
		t.Run(tc.name, func(t *testing.T) {
			g := newGate()
			client := awshttp.NewBuildableClient().WithTransportOptions(func(tr *http.Transport) { tr.DialContext = g.dial })
			// Built here rather than with awsemutest.ConfigFor, which
			// installs the bridge, so that the SDK alone can be seen.
			cfg, err := config.LoadDefaultConfig(context.Background(), config.WithRegion("us-east-1"), config.WithBaseEndpoint(srv.URL()),
				config.WithCredentialsProvider(credentials.NewStaticCredentialsProvider("AKIAAUDITOR000000001", "x", "")),
				config.WithSharedConfigFiles([]string{}), config.WithSharedCredentialsFiles([]string{}), config.WithHTTPClient(client))
			if err != nil {
				t.Fatal(err)
			}
			if tc.bridge {
				awsreq.Install(&cfg)
			}
			var writeErrs []error
			cfg.APIOptions = append(cfg.APIOptions, func(st *middleware.Stack) error {
				return st.Deserialize.Add(middleware.DeserializeMiddlewareFunc("TestGate", func(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
					wrote := make(chan error, 1)
					ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{WroteRequest: func(i httptrace.WroteRequestInfo) { wrote <- i.Err }})
					out, md, err := next.HandleDeserialize(ctx, in)
					// Do has returned and smithy-go has closed the body:
					// now the transport may finish writing the request.
					g.release()
					select {
					case werr := <-wrote:
						writeErrs = append(writeErrs, werr)
						if werr != nil {
							// The transport closes the connection on a
							// failed write; let it do so before the
							// answer is read, as a loaded machine may.
							select {
							case <-g.closed:
							case <-time.After(10 * time.Second):
							}
						}
					case <-time.After(10 * time.Second):
						t.Error("the transport never finished writing the request")
					}
					return out, md, err
				}), middleware.After)
			})

			srv.ResetCalls()
			c := iam.NewFromConfig(cfg)
			const calls = 3
			var callErr error
			for range calls {
				out, err := c.ListUsers(context.Background(), &iam.ListUsersInput{})
				if err != nil {
					callErr = err
					break
				}
				if len(out.Users) != 100 {
					t.Fatalf("ListUsers gave %d users, want 100", len(out.Users))
				}
			}
			if g.held.Load() == 0 {
				t.Fatal("no request body was held: the test no longer reproduces the race")
			}
			var failed []error
			for _, e := range writeErrs {
				if e != nil {
					failed = append(failed, e)
				}
			}
			sent, dials := srv.CallCount("iam", "ListUsers"), g.dials.Load()
			t.Logf("%s: %d requests for %d calls on %d connections; transport write errors: %v; call error: %v", tc.name, sent, calls, dials, failed, callErr)
			broken := callErr != nil || len(failed) > 0 || sent != calls || dials != 1
			if tc.bridge && broken {
				t.Errorf("with the bridge: %d requests for %d calls on %d connections, write errors %v, call error %v; want %d requests on 1 connection and none", sent, calls, dials, failed, callErr, calls)
			}
			if !tc.bridge && !broken {
				t.Errorf("the SDK alone no longer breaks its connection when its request body is closed early: smithy-go or net/http has fixed it, and internal/awsreq can go")
			}
		})
	}
}
