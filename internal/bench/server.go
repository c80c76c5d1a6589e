package bench

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	_ "github.com/go-sql-driver/mysql" // the driver BI tools' Go equivalents use
)

// server is a stripesql serve child process, so that its memory is its
// own and can be read from /proc.
type server struct {
	cmd     *exec.Cmd
	db      *sql.DB
	stderr  *lockedBuffer
	done    chan error
	addr    string // where it listens for MySQL clients
	metrics string // the URL of its Prometheus metrics
}

// startServer runs exe serve against apiBase with the client rate limit
// rate (requests/s; 0 for none) and waits until it answers queries.
func startServer(ctx context.Context, exe, apiBase string, rate float64, extra []string) (*server, error) {
	addr, err := freePort()
	if err != nil {
		return nil, err
	}
	metricsAddr, err := freePort()
	if err != nil {
		return nil, err
	}
	if rate <= 0 {
		rate = -1 // the server's flag for unlimited
	}
	args := append([]string{"serve", "--api-base", apiBase, "--api-key", "sk_test_bench", "--listen", addr,
		"--verbosity", "1", "--rate", strconv.FormatFloat(rate, 'f', -1, 64),
		// The bench's scans are meant to read whole tables: no call budget.
		"--max-calls", "0",
		// The Go heap, which /proc cannot tell, comes from the metrics.
		"--metrics-listen", metricsAddr}, extra...)
	s := &server{cmd: exec.Command(exe, args...), stderr: &lockedBuffer{}, done: make(chan error, 1), addr: addr,
		metrics: "http://" + metricsAddr + "/metrics"}
	s.cmd.Env = cleanEnv()
	s.cmd.Stderr = s.stderr
	if err := s.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", exe, err)
	}
	go func() { s.done <- s.cmd.Wait() }()
	if s.db, err = sql.Open("mysql", "root@tcp("+addr+")/stripe"); err != nil {
		s.stop()
		return nil, err
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		pingCtx, cancel := context.WithTimeout(ctx, time.Second)
		err = s.db.PingContext(pingCtx)
		cancel()
		if err == nil {
			break
		}
		select {
		case exitErr := <-s.done:
			s.done <- exitErr
			return nil, fmt.Errorf("the server exited (%v): %s", exitErr, s.stderr.String())
		case <-ctx.Done():
			s.stop()
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.stop()
			return nil, fmt.Errorf("the server did not answer within a minute: %v: %s", err, s.stderr.String())
		}
	}
	// One trivial query, so that what a first query initializes counts as
	// idle rather than as the benchmark's.
	if _, err := s.db.ExecContext(ctx, "SELECT 1"); err != nil {
		s.stop()
		return nil, fmt.Errorf("SELECT 1: %w", err)
	}
	return s, nil
}

// stop ends the server: SIGINT, then SIGKILL after 10 s.
func (s *server) stop() {
	if s.db != nil {
		s.db.Close()
	}
	s.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
	}
}

// memory returns the server's resident set now and its peak so far, in
// bytes (VmRSS and VmHWM of /proc/PID/status).
func (s *server) memory() (rss, peak int64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return 0, 0, fmt.Errorf("server memory: %w", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		name, val, ok := strings.Cut(sc.Text(), ":")
		if !ok || (name != "VmRSS" && name != "VmHWM") {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(val), " kB"), 10, 64)
		if err != nil {
			return 0, 0, fmt.Errorf("server memory: %s: %w", sc.Text(), err)
		}
		if name == "VmRSS" {
			rss = kb << 10
		} else {
			peak = kb << 10
		}
	}
	if rss == 0 || peak == 0 {
		return 0, 0, errors.New("server memory: no VmRSS or VmHWM in /proc (not Linux?)")
	}
	return rss, peak, nil
}

// freePort returns a loopback address with a port free right now.
func freePort() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// cleanEnv is this process's environment without the variables that
// configure stripesql, so that only the benchmark's flags apply.
func cleanEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		if up := strings.ToUpper(name); strings.HasPrefix(up, "STRIPE") || strings.HasSuffix(up, "_PROXY") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

// lockedBuffer collects a child's stderr for error messages.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.b.Len() > 1<<20 { // keep the start, where a failure shows
		return len(p), nil
	}
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// heap returns the server's Go heap in use (go_memstats_heap_alloc_bytes)
// and the time of its last garbage collection. Right after a collection
// the heap in use is the live heap; later it includes garbage.
func (s *server) heap(ctx context.Context) (int64, time.Time, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.metrics, nil)
	if err != nil {
		return 0, time.Time{}, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("server metrics: %w", err)
	}
	defer resp.Body.Close()
	var heap, lastGC float64
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		for name, dst := range map[string]*float64{"go_memstats_heap_alloc_bytes ": &heap, "go_memstats_last_gc_time_seconds ": &lastGC} {
			if v, ok := strings.CutPrefix(sc.Text(), name); ok {
				if *dst, err = strconv.ParseFloat(v, 64); err != nil {
					return 0, time.Time{}, fmt.Errorf("server metrics: %q: %w", sc.Text(), err)
				}
			}
		}
	}
	if err := sc.Err(); err != nil {
		return 0, time.Time{}, fmt.Errorf("server metrics: %w", err)
	}
	if heap == 0 {
		return 0, time.Time{}, errors.New("server metrics: no go_memstats_heap_alloc_bytes")
	}
	sec, frac := math.Modf(lastGC)
	return int64(heap), time.Unix(int64(sec), int64(frac*1e9)), nil
}

// heapAfterGC waits, up to wait, for the server's next garbage collection
// (the Go runtime forces one every two minutes) and returns the heap in
// use right after it: the live heap. ok is false if none came in time;
// the heap is then the current one, garbage included.
func (s *server) heapAfterGC(ctx context.Context, wait time.Duration) (heap int64, ok bool, err error) {
	start := time.Now()
	for {
		h, last, err := s.heap(ctx)
		if err != nil || last.After(start) {
			return h, err == nil, err
		}
		if time.Since(start) > wait {
			return h, false, nil
		}
		select {
		case <-ctx.Done():
			return 0, false, ctx.Err()
		case <-time.After(time.Second):
		}
	}
}

// cpu returns the CPU time the server has used so far (user + system,
// from /proc/PID/stat), to tell a run bound by the server's CPU from one
// bound by the rate.
func (s *server) cpu() (time.Duration, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.cmd.Process.Pid))
	if err != nil {
		return 0, fmt.Errorf("server cpu: %w", err)
	}
	// The command name, in parentheses, may hold spaces: fields count
	// from the last ')'. utime and stime are fields 14 and 15, in clock
	// ticks of 1/100 s on Linux.
	i := bytes.LastIndexByte(b, ')')
	f := strings.Fields(string(b[i+1:]))
	if i < 0 || len(f) < 13 {
		return 0, fmt.Errorf("server cpu: unexpected /proc stat %q", b)
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, fmt.Errorf("server cpu: %w", err)
	}
	return time.Duration(utime+stime) * 10 * time.Millisecond, nil
}

// resetPeak sets the server's peak RSS (VmHWM) back to its RSS now
// (writing 5 to /proc/PID/clear_refs, Linux 4.0 and later), so that a
// later peak is that of what runs after, not of a backfill before.
func (s *server) resetPeak() error {
	if err := os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", s.cmd.Process.Pid), []byte("5"), 0); err != nil {
		return fmt.Errorf("reset the server's peak RSS: %w", err)
	}
	return nil
}
