// Package testserver runs a real `baton server` for the Go client's tests: the binary named by
// BATON_BIN, on a loopback port, with its data in a temporary directory.
package testserver

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// BinaryEnv names the environment variable holding the server binary's path.
const BinaryEnv = "BATON_BIN"

const (
	listeningPrefix = "baton: listening on "
	startupTimeout  = 30 * time.Second
	stopTimeout     = 20 * time.Second
)

// Server is a running `baton server` child process.
type Server struct {
	// Addr is the HOST:PORT the server listens on.
	Addr string

	cmd     *exec.Cmd
	tempDir string
	logPath string
	exited  chan struct{}
	waitErr error
}

// Options say how to run the server; the zero value is a fresh server on a free loopback port.
type Options struct {
	// Listen is the --listen address; default 127.0.0.1:0.
	Listen string
	// DataDir is the --data directory, kept after Stop; default a temporary one, removed by Stop.
	DataDir string
	// Args are further arguments, e.g. "--shutdown-grace", "1".
	Args []string
}

// Start runs `$BATON_BIN server --listen LISTEN --data DIR ARGS...` and waits for its
// "baton: listening on HOST:PORT" line.
func Start(opts Options) (*Server, error) {
	binary := os.Getenv(BinaryEnv)
	if binary == "" {
		return nil, fmt.Errorf("%s is not set: the Go client's tests run against a live server; "+
			"set %s to a baton binary (e.g. .build/debug/baton)", BinaryEnv, BinaryEnv)
	}
	if info, err := os.Stat(binary); err != nil || info.IsDir() || info.Mode()&0o111 == 0 {
		return nil, fmt.Errorf("%s=%s is not an executable file (%v)", BinaryEnv, binary, err)
	}
	listen := opts.Listen
	if listen == "" {
		listen = "127.0.0.1:0"
	}
	tempDir, err := os.MkdirTemp("", "baton-go-test-")
	if err != nil {
		return nil, fmt.Errorf("testserver: temp dir: %w", err)
	}
	dataDir := opts.DataDir
	if dataDir == "" {
		dataDir = filepath.Join(tempDir, "data")
	}
	s := &Server{tempDir: tempDir, logPath: filepath.Join(tempDir, "server.stderr"), exited: make(chan struct{})}
	logFile, err := os.Create(s.logPath)
	if err != nil {
		return nil, fmt.Errorf("testserver: %w", err)
	}
	defer logFile.Close()
	args := append([]string{"server", "--listen", listen, "--data", dataDir}, opts.Args...)
	s.cmd = exec.Command(binary, args...)
	s.cmd.Stderr = logFile
	stdout, err := s.cmd.StdoutPipe()
	if err != nil {
		return nil, fmt.Errorf("testserver: %w", err)
	}
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("testserver: start %s: %w", binary, err)
	}
	go func() {
		s.waitErr = s.cmd.Wait()
		close(s.exited)
	}()

	firstLine := make(chan string, 1)
	go func() {
		lines := bufio.NewScanner(stdout)
		first := true
		for lines.Scan() { // keep draining so the server never blocks on a full pipe
			if first {
				firstLine <- lines.Text()
				first = false
			}
		}
		if first {
			close(firstLine)
		}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	timer := time.NewTimer(startupTimeout)
	defer timer.Stop()
	select {
	case line, ok := <-firstLine:
		if !ok || !strings.HasPrefix(line, listeningPrefix) {
			s.kill()
			return nil, fmt.Errorf("testserver: %s printed %q first, expected %q HOST:PORT; stderr:\n%s",
				strings.Join(s.cmd.Args, " "), line, listeningPrefix, s.Stderr())
		}
		s.Addr = strings.TrimSpace(strings.TrimPrefix(line, listeningPrefix))
		return s, nil
	case <-timer.C:
		s.kill()
		return nil, fmt.Errorf("testserver: %s printed no listening line within %s; stderr:\n%s",
			strings.Join(s.cmd.Args, " "), startupTimeout, s.Stderr())
	}
}

// Stderr is what the server has written to stderr so far (its last 64 KiB).
func (s *Server) Stderr() string {
	data, err := os.ReadFile(s.logPath)
	if err != nil {
		return fmt.Sprintf("<%v>", err)
	}
	const limit = 64 << 10
	if len(data) > limit {
		data = data[len(data)-limit:]
	}
	return string(data)
}

// Stop sends SIGTERM and waits for a clean exit (status 0); it kills the server and fails after
// 20s. Its temporary directory (and the data in it, unless Options.DataDir named another) is
// removed either way.
func (s *Server) Stop() error {
	defer os.RemoveAll(s.tempDir)
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	timer := time.NewTimer(stopTimeout)
	defer timer.Stop()
	select {
	case <-s.exited:
	case <-timer.C:
		s.kill()
		return fmt.Errorf("testserver: server did not exit within %s of SIGTERM; stderr:\n%s", stopTimeout, s.Stderr())
	}
	if s.waitErr != nil {
		var exit *exec.ExitError
		if errors.As(s.waitErr, &exit) {
			return fmt.Errorf("testserver: server exited with %v after SIGTERM, expected 0; stderr:\n%s", exit, s.Stderr())
		}
		return fmt.Errorf("testserver: waiting for the server: %w", s.waitErr)
	}
	return nil
}

func (s *Server) kill() {
	_ = s.cmd.Process.Kill()
	<-s.exited
}

// Main is a TestMain body: it starts a server into *server, runs the tests and stops the
// server. A server that cannot start, or does not stop cleanly, fails the run with a message.
//
//	func TestMain(m *testing.M) { os.Exit(testserver.Main(m, &server)) }
func Main(m *testing.M, server **Server) int {
	s, err := Start(Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "FAIL:", err)
		return 1
	}
	*server = s
	code := m.Run()
	if err := s.Stop(); err != nil {
		fmt.Fprintln(os.Stderr, "FAIL:", err)
		if code == 0 {
			code = 1
		}
	}
	return code
}
