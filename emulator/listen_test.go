package emulator

import (
	"context"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"
)

func TestServeStopsOnCancel(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Serve(ctx, ln, New()) }()
	req, _ := http.NewRequest("GET", "http://"+ln.Addr().String()+"/v1/customers", nil)
	req.Header.Set("Authorization", "Bearer x")
	res, err := http.DefaultClient.Do(req)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("%v %v", res, err)
	}
	res.Body.Close()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve returned %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not stop")
	}
	if err := ListenAndServe(context.Background(), "127.0.0.1:-1", New()); err == nil {
		t.Error("bad address accepted")
	}
}

// TestConcurrentRequests exercises the lock under -race.
func TestConcurrentRequests(t *testing.T) {
	e := NewDemo()
	c := newClient(t, e)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 20 {
				if i%2 == 0 {
					c.post("/v1/customers", vals("email", "x@example.com"))
				} else {
					c.get("/v1/customers/search", vals("query", `email:"x@example.com"`))
					c.get("/v1/customers", vals("limit", "5"))
				}
			}
		}()
	}
	wg.Wait()
	if got := e.Count("customer"); got != 250+80 {
		t.Errorf("%d customers, want 330", got)
	}
	if got := len(e.Requests()); got != 80+160 {
		t.Errorf("%d logged requests, want 240", got)
	}
}

func TestPutAndCount(t *testing.T) {
	e := New()
	e.Put(map[string]any{"object": "customer", "id": "cus_put", "email": "p@example.com", "created": float64(1700000000)})
	e.Put(map[string]any{"object": "customer", "email": "minted@example.com"})
	if e.Count("customer") != 2 || e.Count("customers") != 2 || e.Count("invoice") != 0 {
		t.Fatalf("counts %d %d", e.Count("customer"), e.Count("customers"))
	}
	c := newClient(t, e)
	got := c.get("/v1/customers/cus_put", nil).mustOK(t)
	wantFields(t, got, map[string]any{"email": "p@example.com", "created": 1700000000, "livemode": false, "metadata": map[string]any{}, "phone": nil})
	if ids := e.IDs("customer"); len(ids) != 2 || ids[1] != "cus_put" || len(ids[0]) != len("cus_")+14 {
		t.Errorf("ids %v", ids)
	}
}
