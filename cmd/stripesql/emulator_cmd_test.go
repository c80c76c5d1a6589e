package main

import (
	"encoding/json"
	"net/http"
	"regexp"
	"testing"
)

// TestEmulatorCommandSeedsAndLimits starts an empty emulator with seeded
// customers and a rate limit of two requests, then reads: two pages hold
// the 150 seeded customers, and the third request is refused as Stripe
// refuses it.
func TestEmulatorCommandSeedsAndLimits(t *testing.T) {
	r := startRun(t, []string{"emulator", "--listen", "127.0.0.1:0", "--demo=false", "--seed-customers", "150",
		"--rate", "0.001", "--burst", "2"}, nil)
	line := r.firstLine(t)
	m := regexp.MustCompile(`api_base=(http://127\.0\.0\.1:\d+)`).FindStringSubmatch(line)
	if m == nil || !regexp.MustCompile(`seeded="150 customers, 0 charges, 0 invoices"`).MatchString(line) {
		t.Fatalf("first log line = %q, want api_base and the seeding", line)
	}
	get := func(query string) (*http.Response, map[string]any) {
		req, _ := http.NewRequest("GET", m[1]+"/v1/customers?"+query, nil)
		req.Header.Set("Authorization", "Bearer sk_test_any")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var body map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
			t.Fatal(err)
		}
		return resp, body
	}
	_, first := get("limit=100")
	data := first["data"].([]any)
	last := data[len(data)-1].(map[string]any)["id"].(string)
	_, second := get("limit=100&starting_after=" + last)
	if n := len(data) + len(second["data"].([]any)); n != 150 || second["has_more"] != false {
		t.Errorf("two pages hold %d customers (has_more %v), want the 150 seeded", n, second["has_more"])
	}
	resp, body := get("limit=1")
	e, _ := body["error"].(map[string]any)
	if resp.StatusCode != 429 || e["code"] != "rate_limit" || resp.Header.Get("Stripe-Rate-Limited-Reason") != "global-rate" {
		t.Errorf("third request: %d %v %q, want 429 rate_limit global-rate", resp.StatusCode, e, resp.Header.Get("Stripe-Rate-Limited-Reason"))
	}
}
