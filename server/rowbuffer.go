package server

import (
	"sync"

	"github.com/dolthub/go-mysql-server/sql"
)

// go-mysql-server converts each result row to wire bytes inside a per-query
// sql.ByteBuffer taken from sql.ByteBufPool (server/handler.go, doQuery).
// The buffer is meant to be reset after each batch is sent, but the pinned
// version (and upstream HEAD 4882ca98, 2026-08-21, the newest commit; the
// module proxy serves nothing newer) resets it only when a server-side
// cursor exists, the opposite of its own comment. So an ordinary streamed
// SELECT keeps the wire bytes of every row it sent in one array that
// doubles as it fills: about 0.7 KB a row, 1.4 GB for a million rows.
//
// Resetting the buffer ourselves is not safe: the engine's converter
// goroutine keeps writing into it while up to four converted batches wait
// to be sent, so a reset would let new rows overwrite unsent ones.
//
// Instead every buffer the pool hands out has capacity zero. Such a buffer
// never grows (ByteBuffer.Grow doubles its length, and twice zero is zero),
// so Get always returns a zero-capacity slice, each value's wire bytes are
// appended into an allocation of their own, and a batch's bytes are
// garbage as soon as the batch is written to the client. The cost is one
// small allocation per non-NULL value instead of a bump in a shared array.
var rowBufferOnce sync.Once

// useUnbufferedRows makes the engine's row buffers allocation-per-value. It
// runs before the first server is built, so before any query takes a buffer
// from the pool; buffers are put back only by the queries that took them, so
// the pool never holds a growing one.
func useUnbufferedRows() {
	rowBufferOnce.Do(func() {
		sql.ByteBufPool.New = func() any { return sql.NewByteBuffer(0) }
	})
}
