package awsemu_test

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/vigil-sec/vigil/internal/awsemu"
)

// A client that opened a connection and never sent a request (the SDK's
// pool does this) must not hold Close: net/http's Shutdown waits five
// seconds before it counts such a connection as idle, which made every
// demo scan five seconds slower to exit. Close returns without that wait
// and the connection is closed.
func TestCloseDoesNotWaitForUnusedConnections(t *testing.T) {
	srv, err := awsemu.Listen(&awsemu.World{})
	if err != nil {
		t.Fatal(err)
	}
	conn, err := net.Dial("tcp", strings.TrimPrefix(srv.URL(), "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// Let the server accept it: Close must handle a connection it knows.
	time.Sleep(50 * time.Millisecond)

	start := time.Now()
	srv.Close()
	// The wait this guards against is net/http's fixed five seconds; a
	// loaded machine adds well under a second to the fix's 20 ms ticks.
	if took := time.Since(start); took >= 4*time.Second {
		t.Fatalf("Close took %s with an unused connection open", took)
	}
	_ = conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := conn.Read(make([]byte, 1)); err == nil {
		t.Fatal("the unused connection is still open after Close")
	}
}
