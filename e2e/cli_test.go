package e2e

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestMySQLClientOnTheDemo is the README's promise: with no Stripe key the
// binary serves the demo emulator, and the stock mysql client reads it.
func TestMySQLClientOnTheDemo(t *testing.T) {
	mysqlCLI, err := exec.LookPath("mysql")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("the mysql client is not installed; make test installs it")
		}
		t.Skip("the mysql client is not installed (make test installs it)")
	}
	bin := buildBinary(t)
	port := freePort(t)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, "--listen", "127.0.0.1:"+port)
	cmd.Env = withoutStripeKey(os.Environ())
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout = cmd.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); _ = cmd.Wait() }()
	firstLine := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		if sc.Scan() {
			firstLine <- sc.Text()
		}
		for sc.Scan() {
		}
	}()
	waitForPort(t, "127.0.0.1:"+port)

	select {
	case line := <-firstLine:
		if !strings.Contains(line, "emulator") || !strings.Contains(line, "mysql -h 127.0.0.1 -P "+port+" -u root stripe") {
			t.Errorf("first log line = %q; want it to name the demo emulator and the mysql command", line)
		}
	case <-time.After(5 * time.Second):
		t.Error("no log line")
	}

	out, err := exec.Command(mysqlCLI, "-h", "127.0.0.1", "-P", port, "-u", "root", "stripe",
		"-e", "SELECT Id, Email FROM Customers LIMIT 5").CombinedOutput()
	if err != nil {
		t.Fatalf("mysql: %v\n%s", err, out)
	}
	lines := strings.Split(strings.TrimSpace(string(out)), "\n")
	if len(lines) != 6 || lines[0] != "Id\tEmail" {
		t.Fatalf("mysql printed:\n%s\nwant a header and five customers", out)
	}
	for _, l := range lines[1:] {
		if !strings.HasPrefix(l, "cus_") {
			t.Errorf("row %q is not a customer", l)
		}
	}

	// The binary serves writes: the created id reaches the mysql client at
	// once, and reading it back finds the customer.
	out, err = exec.Command(mysqlCLI, "-h", "127.0.0.1", "-P", port, "-u", "root", "stripe", "-N",
		"-e", "INSERT INTO Customers (Name) VALUES ('From the CLI'); SELECT stripe_last_insert_id()").CombinedOutput()
	if err != nil {
		t.Fatalf("mysql: %v\n%s", err, out)
	}
	id := strings.TrimSpace(string(out))
	if !strings.HasPrefix(id, "cus_") || strings.Contains(id, "\n") {
		t.Fatalf("stripe_last_insert_id() printed %q, want one customer id", out)
	}
	out, err = exec.Command(mysqlCLI, "-h", "127.0.0.1", "-P", port, "-u", "root", "stripe", "-N",
		"-e", "SELECT Name FROM Customers WHERE Id = '"+id+"'").CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "From the CLI" {
		t.Errorf("reading back %s: %v\n%s", id, err, out)
	}
}

func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "stripesql")
	build := exec.Command("go", "build", "-tags", "gms_pure_go", "-o", bin, "../cmd/stripesql")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return fmt.Sprint(ln.Addr().(*net.TCPAddr).Port)
}

func waitForPort(t *testing.T, addr string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("nothing listens on %s", addr)
}

func withoutStripeKey(env []string) []string {
	var out []string
	for _, kv := range env {
		if !strings.HasPrefix(kv, "STRIPE_API_KEY=") && !strings.HasPrefix(kv, "STRIPE_API_BASE=") {
			out = append(out, kv)
		}
	}
	return out
}
