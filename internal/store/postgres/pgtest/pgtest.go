// Package pgtest gives tests a fresh PostgreSQL database each: the server
// named by VIGIL_TEST_POSTGRES (default the local trust-auth server), a
// database created for the test and dropped after it. Without a
// reachable server the test is skipped, unless VIGIL_REQUIRE_POSTGRES=1
// (CI) makes that a failure.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// EnvURL names the server's URL; RequireEnv makes its absence fatal.
const (
	EnvURL     = "VIGIL_TEST_POSTGRES"
	RequireEnv = "VIGIL_REQUIRE_POSTGRES"
	DefaultURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
)

// NewDatabase creates an empty database and returns its URL; it is
// dropped when the test ends.
func NewDatabase(t testing.TB) string {
	t.Helper()
	admin := os.Getenv(EnvURL)
	if admin == "" {
		admin = DefaultURL
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		if os.Getenv(RequireEnv) == "1" {
			t.Fatalf("PostgreSQL at %s is required (%s=1) but unreachable: %v", admin, RequireEnv, err)
		}
		t.Skipf("PostgreSQL at %s unreachable (%v); set %s to another server", admin, err, EnvURL)
	}
	defer conn.Close(ctx)
	var b [6]byte
	rand.Read(b[:])
	name := "vigil_test_" + hex.EncodeToString(b[:])
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create database %s: %v", name, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, admin)
		if err != nil {
			t.Logf("drop database %s: %v", name, err)
			return
		}
		defer c.Close(ctx)
		if _, err := c.Exec(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Logf("drop database %s: %v", name, err)
		}
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}
