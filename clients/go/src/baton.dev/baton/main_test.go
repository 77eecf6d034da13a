package baton_test

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"baton.dev/baton"
	"baton.dev/baton/internal/testserver"
)

// server is the live `$BATON_BIN server` every test of this package talks to.
var server *testserver.Server

func TestMain(m *testing.M) { os.Exit(testserver.Main(m, &server)) }

// dial connects to the test server; the connection closes with the test.
func dial(t *testing.T, opts ...baton.Option) *baton.Client {
	t.Helper()
	c, err := baton.Dial(server.Addr, opts...)
	if err != nil {
		t.Fatalf("dial %s: %v", server.Addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// timeout is a context that ends after d or with the test.
func timeout(t *testing.T, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

var serial int64

// unique is a definition or workflow name no other test uses.
func unique(t *testing.T, kind string) string {
	name := strings.NewReplacer("/", "_", " ", "_").Replace(t.Name())
	return fmt.Sprintf("go_%s_%s_%d", strings.ToLower(name), kind, atomic.AddInt64(&serial, 1))
}

// register registers a definition whose YAML follows a generated name.
func register(t *testing.T, c *baton.Client, body string) string {
	t.Helper()
	name := unique(t, "def")
	def, err := c.RegisterDefinition(timeout(t, 10*time.Second), "name: "+name+"\n"+body)
	if err != nil {
		t.Fatalf("register %s: %v", name, err)
	}
	if def.Name != name || def.Version != 1 || !def.Created {
		t.Fatalf("register %s: got %+v, want version 1 created", name, def)
	}
	return name
}
