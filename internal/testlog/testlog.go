// Package testlog holds what tests share to capture log output.
package testlog

import (
	"bytes"
	"sync"
)

// Buffer collects log output written from several goroutines: a server's
// connections, a client's retries.
type Buffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
