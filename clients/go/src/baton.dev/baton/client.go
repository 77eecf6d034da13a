package baton

import (
	"fmt"
	"os"
	"time"

	"baton.dev/baton/batonv1"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
)

// DefaultAddress is the server address used when neither Dial's argument nor BATON_ADDRESS gives one.
const DefaultAddress = "127.0.0.1:7400"

// AddressEnv names the environment variable Dial reads the server address from.
const AddressEnv = "BATON_ADDRESS"

// Client talks to one Baton server over gRPC. It is safe for concurrent use; make one per
// process and Close it when done.
type Client struct {
	conn      *grpc.ClientConn
	address   string
	workflows batonv1.WorkflowServiceClient
	workers   batonv1.WorkerServiceClient
	admin     batonv1.AdminServiceClient
}

// Option configures Dial.
type Option func(*dialConfig)

type dialConfig struct {
	dialOptions []grpc.DialOption
}

// WithDialOptions adds grpc-go dial options, e.g. transport credentials for TLS (the default is
// cleartext HTTP/2), or interceptors that add metadata to every call.
func WithDialOptions(opts ...grpc.DialOption) Option {
	return func(c *dialConfig) { c.dialOptions = append(c.dialOptions, opts...) }
}

// Dial connects to the server at address; an empty address means $BATON_ADDRESS, else
// 127.0.0.1:7400. The connection is made lazily and re-made after failures (retrying within 5s),
// so Dial fails only for a malformed address; calls made while the server is unreachable fail
// with UNAVAILABLE.
//
//	c, err := baton.Dial("")
//	if err != nil { ... }
//	defer c.Close()
func Dial(address string, opts ...Option) (*Client, error) {
	if address == "" {
		address = os.Getenv(AddressEnv)
	}
	if address == "" {
		address = DefaultAddress
	}
	var config dialConfig
	for _, opt := range opts {
		opt(&config)
	}
	dialOptions := []grpc.DialOption{
		grpc.WithInsecure(),
		grpc.WithDefaultCallOptions(CodecOption()),
		// Reconnect within seconds of a server coming back (grpc-go's default backs off to 2 min).
		grpc.WithConnectParams(grpc.ConnectParams{
			Backoff:           backoff.Config{BaseDelay: 100 * time.Millisecond, Multiplier: 1.6, Jitter: 0.2, MaxDelay: 5 * time.Second},
			MinConnectTimeout: 5 * time.Second,
		}),
	}
	dialOptions = append(dialOptions, config.dialOptions...)
	conn, err := grpc.Dial(address, dialOptions...)
	if err != nil {
		return nil, fmt.Errorf("baton: dial %s: %w", address, err)
	}
	return &Client{
		conn:      conn,
		address:   address,
		workflows: batonv1.NewWorkflowServiceClient(conn),
		workers:   batonv1.NewWorkerServiceClient(conn),
		admin:     batonv1.NewAdminServiceClient(conn),
	}, nil
}

// Close closes the connection; calls in flight fail with CANCELLED.
func (c *Client) Close() error { return c.conn.Close() }

// Address is the server address the client dialed.
func (c *Client) Address() string { return c.address }

// Conn is the underlying connection, for other services on the same server.
func (c *Client) Conn() *grpc.ClientConn { return c.conn }

// WorkflowService is the generated stub, for calls this package does not wrap.
func (c *Client) WorkflowService() batonv1.WorkflowServiceClient { return c.workflows }

// WorkerService is the generated stub of the worker protocol (see package baton.dev/baton/worker).
func (c *Client) WorkerService() batonv1.WorkerServiceClient { return c.workers }

// AdminService is the generated stub of the admin service (circuit breakers, server info).
func (c *Client) AdminService() batonv1.AdminServiceClient { return c.admin }
