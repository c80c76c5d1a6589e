package stripeapi

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stripesql/stripesql/internal/testproxy"
)

// TestWireLog sends a payment intent through a Digest proxy with the wire
// log on, and checks that it shows each exchange (the 407 included) with
// paths, headers and bodies, and no secret.
func TestWireLog(t *testing.T) {
	const (
		respSecret = "pi_1_secret_RESPONSEcanary"
		reqSecret  = "pi_1_secret_REQUESTcanary"
	)
	up := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) {
		reply(w, 200, `{"id":"pi_1","object":"payment_intent","amount":1500,"client_secret":"`+respSecret+
			`","echo":"`+testKey+`","nested":{"secret": "whsec_canary"}}`)
	})
	proxy := testproxy.Start(t, testproxy.Config{Auth: "digest", User: proxyUser, Password: proxyPassword})
	u, _ := url.Parse(proxy.URL())
	var logs bytes.Buffer
	c := newTestClient(t, up.URL, func(cfg *Config) {
		cfg.Logger = slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: LevelTrace}))
		cfg.Proxy = &ProxyConfig{URL: u, User: proxyUser, Password: proxyPassword, Auth: ProxyAuthDigest}
	})
	_, err := c.Post(t.Context(), "/v1/payment_intents/pi_1/confirm",
		Params{{"amount", "1500"}, {"client_secret", reqSecret}, {"payment_method_data[billing_details][name]", "Ann"}})
	if err != nil {
		t.Fatal(err)
	}

	type record struct {
		Msg    string            `json:"msg"`
		Level  string            `json:"level"`
		Method string            `json:"method"`
		URL    string            `json:"url"`
		Path   string            `json:"path"`
		Status int               `json:"status"`
		Header map[string]string `json:"header"`
		Body   string            `json:"body"`
	}
	var recs []record
	for line := range strings.Lines(logs.String()) {
		for _, secret := range []string{testKey, proxyPassword, respSecret, reqSecret, "whsec_canary"} {
			if strings.Contains(line, secret) {
				t.Errorf("log line contains %q: %s", secret, line)
			}
		}
		var r record
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("not JSON: %s", line)
		}
		recs = append(recs, r)
	}
	// Request, 407, authenticated request, 200.
	if len(recs) != 4 {
		t.Fatalf("%d records, want 4:\n%s", len(recs), logs.String())
	}
	for i, want := range []struct {
		msg       string
		status    int
		proxyAuth bool
	}{
		{"stripe http request", 0, false},
		{"stripe http response", 407, false},
		{"stripe http request", 0, true},
		{"stripe http response", 200, false},
	} {
		r := recs[i]
		if r.Msg != want.msg || r.Status != want.status || r.Level != "DEBUG-4" {
			t.Errorf("record %d = %+v, want %s status %d at DEBUG-4", i, r, want.msg, want.status)
		}
		if want.msg == "stripe http request" {
			if r.Method != "POST" || r.URL != up.URL+"/v1/payment_intents/pi_1/confirm" {
				t.Errorf("record %d: %s %s", i, r.Method, r.URL)
			}
			wantBody := "amount=1500&client_secret=[redacted]&payment_method_data%5Bbilling_details%5D%5Bname%5D=Ann"
			if r.Body != wantBody {
				t.Errorf("record %d: body %q\nwant %q", i, r.Body, wantBody)
			}
			if r.Header["Authorization"] != "[redacted]" || r.Header["Stripe-Version"] != APIVersion || r.Header["Idempotency-Key"] == "" {
				t.Errorf("record %d: headers %v", i, r.Header)
			}
			if got := r.Header["Proxy-Authorization"]; (got == "[redacted]") != want.proxyAuth || (got != "" && got != "[redacted]") {
				t.Errorf("record %d: Proxy-Authorization %q", i, got)
			}
		}
	}
	if body := recs[3].Body; !strings.Contains(body, `"client_secret":"[redacted]"`) || !strings.Contains(body, `"secret": "[redacted]"`) ||
		!strings.Contains(body, `"echo":"[redacted]"`) || !strings.Contains(body, `"amount":1500`) {
		t.Errorf("response body logged as %s", body)
	}
	if recs[3].Path != "/v1/payment_intents/pi_1/confirm" || recs[1].Header["Proxy-Authenticate"] == "" {
		t.Errorf("response records: %+v / %+v", recs[1], recs[3])
	}

	// At Debug, nothing of the wire is logged.
	logs.Reset()
	c = newTestClient(t, up.URL, func(cfg *Config) {
		cfg.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	})
	if _, err := c.Get(t.Context(), "/v1/customers", nil); err != nil {
		t.Fatal(err)
	}
	if logs.Len() != 0 {
		t.Errorf("Debug level logged %s", logs.String())
	}
}

// TestWireLogConnect checks the CONNECT exchange of a tunnel is logged,
// credentials redacted.
func TestWireLogConnect(t *testing.T) {
	up := newServer(t, func(w http.ResponseWriter, r *http.Request, n int) { reply(w, 200, `{"id":"cus_1"}`) })
	proxy := testproxy.Start(t, testproxy.Config{Auth: "basic", User: proxyUser, Password: proxyPassword})
	u, _ := url.Parse(proxy.URL())
	u.User = url.UserPassword(proxyUser, proxyPassword) // credentials in the URL this time
	var logs bytes.Buffer
	c := newTestClient(t, up.URL, func(cfg *Config) {
		cfg.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: LevelTrace}))
		cfg.Proxy = &ProxyConfig{URL: u, SSL: ProxySSLTunnel}
	})
	if _, err := c.Get(t.Context(), "/v1/customers/cus_1", nil); err != nil {
		t.Fatal(err)
	}
	out := logs.String()
	for _, want := range []string{
		`msg="stripe proxy CONNECT" proxy=` + proxy.Addr() + ` proxy_tls=false target=` + strings.TrimPrefix(up.URL, "http://") + ` header.Proxy-Authorization=[redacted]`,
		`msg="stripe proxy CONNECT answer"`, "status=200",
		`msg="stripe http request" method=GET url=` + up.URL + `/v1/customers/cus_1`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("logs lack %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, proxyPassword) {
		t.Errorf("logs contain the proxy password:\n%s", out)
	}
}

func TestRedactBody(t *testing.T) {
	for in, want := range map[string]string{
		`{"client_secret":"pi_1_secret_x","id":"pi_1"}`:    `{"client_secret":"[redacted]","id":"pi_1"}`,
		`{"secret" : "a\"b", "x": 1}`:                      `{"secret" : "[redacted]", "x": 1}`,
		`{"client_secret":null}`:                           `{"client_secret":null}`,
		`client_secret=abc&amount=1`:                       `client_secret=[redacted]&amount=1`,
		`a=1&intent%5Bclient_secret%5D=abc`:                `a=1&intent%5Bclient_secret%5D=[redacted]`,
		`/v1/payment_intents/pi_1?client_secret=abc&x=y`:   `/v1/payment_intents/pi_1?client_secret=[redacted]&x=y`,
		`description=no+secrets+here&metadata%5Bk%5D=v`:    `description=no+secrets+here&metadata%5Bk%5D=v`,
		`{"secret_key_hint":"x","description":"a secret"}`: `{"secret_key_hint":"x","description":"a secret"}`,
	} {
		if got := redactBody(in); got != want {
			t.Errorf("redactBody(%s) = %s\nwant %s", in, got, want)
		}
	}
}
