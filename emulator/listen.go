package emulator

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"
)

// ListenAndServe serves e on addr (e.g. "127.0.0.1:12111") until ctx is
// canceled, then shuts the server down gracefully and returns nil. It
// returns early with the error if the address cannot be bound.
func ListenAndServe(ctx context.Context, addr string, e *Emulator) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return Serve(ctx, ln, e)
}

// Serve is ListenAndServe on an existing listener, which it closes.
func Serve(ctx context.Context, ln net.Listener, e *Emulator) error {
	srv := &http.Server{Handler: e, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := srv.Shutdown(shutdownCtx)
	if serveErr := <-done; !errors.Is(serveErr, http.ErrServerClosed) && err == nil {
		err = serveErr
	}
	return err
}
