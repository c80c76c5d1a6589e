package main

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
)

func TestHandlerTransport(t *testing.T) {
	echo := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Header().Set("X-Seen", r.Method+" "+r.RequestURI+" "+r.Header.Get("Authorization")+" "+r.Header.Get("Content-Length"))
		w.WriteHeader(http.StatusCreated)
		w.Header().Set("X-Late", "ignored") // after WriteHeader: not sent
		io.WriteString(w, "got "+string(body))
	})
	client := &http.Client{Transport: handlerTransport{echo}}
	req, err := http.NewRequest("POST", "http://emulator.invalid/v1/customers?expand[]=x", strings.NewReader("name=abc"))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer sk_test_x")
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)

	if resp.StatusCode != http.StatusCreated || resp.Status != "201 Created" {
		t.Errorf("status = %d %q, want 201 Created", resp.StatusCode, resp.Status)
	}
	if got, want := resp.Header.Get("X-Seen"), "POST /v1/customers?expand[]=x Bearer sk_test_x 8"; got != want {
		t.Errorf("handler saw %q, want %q", got, want)
	}
	if resp.Header.Get("X-Late") != "" {
		t.Error("a header set after WriteHeader was sent")
	}
	if string(body) != "got name=abc" || resp.ContentLength != int64(len(body)) {
		t.Errorf("body = %q (length %d)", body, resp.ContentLength)
	}
}

func TestHandlerTransportErrors(t *testing.T) {
	drop := http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic(http.ErrAbortHandler) })
	_, err := (&http.Client{Transport: handlerTransport{drop}}).Get("http://emulator.invalid/v1/x")
	if !errors.Is(err, errConnectionDropped) {
		t.Errorf("aborting handler: got %v, want errConnectionDropped", err)
	}

	called := false
	never := http.HandlerFunc(func(http.ResponseWriter, *http.Request) { called = true })
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://emulator.invalid/v1/x", nil)
	if _, err := (&http.Client{Transport: handlerTransport{never}}).Do(req); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled request: got %v, want context.Canceled", err)
	}
	if called {
		t.Error("handler ran for a cancelled request")
	}
}
