package tables

// The record of writes: every Stripe write the server makes, kept in
// memory (the most recent maxWriteRecords) and shown by the read-only
// StripeWrites table; with a log file (--write-log), also appended to it
// as JSON lines, synced to disk before the request is sent and again when
// its outcome is known. After a crash a write with no outcome line is
// shown as unknown: it may or may not have reached Stripe.
//
// What is recorded: time, session user and connection, the statement with
// its literals redacted, row, method, path (ids only), idempotency key,
// outcome, object id, Stripe's request id and error message. Never the
// request parameters, so no secret or card data; error messages have long
// digit runs masked in case Stripe echoes a value.

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"sync"
	"time"
)

// maxWriteRecords bounds the writes kept in memory.
const maxWriteRecords = 10000

// writeRecord is one write, as StripeWrites shows it and as the first
// line of it in the log file carries it.
type writeRecord struct {
	Seq       int64     `json:"seq"`
	Time      time.Time `json:"time"`
	User      string    `json:"user,omitempty"`
	Conn      uint32    `json:"connection,omitempty"`
	Account   string    `json:"account,omitempty"`
	Statement string    `json:"statement,omitempty"`
	Verb      string    `json:"verb"`
	Target    string    `json:"target"`
	Row       int       `json:"row"`
	Method    string    `json:"method"`
	Path      string    `json:"path"`
	Key       string    `json:"idempotency_key,omitempty"`
	Outcome   outcome   `json:"outcome"`
	ObjectID  string    `json:"object_id,omitempty"`
	RequestID string    `json:"request_id,omitempty"`
	Attempts  int       `json:"attempts,omitempty"`
	Error     string    `json:"error,omitempty"`
	// Done is when the outcome became known; zero while pending.
	Done time.Time `json:"done,omitzero"`
}

// writeLog is the record. Its zero value is not usable: see newWriteLog.
type writeLog struct {
	mu      sync.Mutex
	next    int64
	records []*writeRecord // oldest first, at most maxWriteRecords
	bySeq   map[int64]*writeRecord
	file    *os.File // nil without --write-log
	path    string
	now     func() time.Time
}

func newWriteLog() *writeLog {
	return &writeLog{next: 1, bySeq: map[int64]*writeRecord{}, now: time.Now}
}

// OpenWriteLog makes the database append its writes to the file at path
// (created 0600 if missing), after loading the writes the file already
// holds: those still pending, whose server stopped before their answer,
// become unknown. Call it before serving.
func (d *Database) OpenWriteLog(path string) error {
	return d.writes().log.open(path)
}

// CloseWriteLog closes the write log file, if any.
func (d *Database) CloseWriteLog() error {
	l := d.writes().log
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.file == nil {
		return nil
	}
	err := l.file.Close()
	l.file = nil
	return err
}

func (l *writeLog) open(path string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.load(path); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("write log: %w", err)
	}
	l.file, l.path = f, path
	return nil
}

// load reads an existing log file. A line that does not parse (the last
// one, cut short by a crash) is skipped: its write was not sent, since a
// request goes out only after its line is synced.
func (l *writeLog) load(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("write log: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r writeRecord
		if json.Unmarshal(sc.Bytes(), &r) != nil || r.Seq <= 0 {
			continue
		}
		if r.Method == "" {
			// An outcome line: it completes its write, unless that one
			// is older than the records kept.
			prev := l.bySeq[r.Seq]
			if prev == nil {
				continue
			}
			prev.Outcome, prev.RequestID = r.Outcome, r.RequestID
			prev.Attempts, prev.Error, prev.Done = r.Attempts, r.Error, r.Done
			if r.ObjectID != "" {
				prev.ObjectID = r.ObjectID
			}
			continue
		}
		l.add(&r)
		l.next = max(l.next, r.Seq+1)
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("write log %s: %w", path, err)
	}
	for _, r := range l.records {
		if r.Outcome == outcomePending {
			r.Outcome = outcomeUnknown
			r.Error = "stripesql stopped before Stripe's answer arrived"
		}
	}
	return nil
}

// add keeps r in memory, dropping the oldest record beyond the bound.
// It must be called with l.mu held.
func (l *writeLog) add(r *writeRecord) {
	l.records = append(l.records, r)
	l.bySeq[r.Seq] = r
	if len(l.records) > maxWriteRecords {
		delete(l.bySeq, l.records[0].Seq)
		l.records[0] = nil
		l.records = l.records[1:]
	}
}

// begin records a write about to be sent and returns its sequence
// number. With a log file, the record is on disk before begin returns;
// if it cannot be written, the write must not be sent.
func (l *writeLog) begin(st *writeStatement, c *writeCall) (int64, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	r := &writeRecord{
		Seq: l.next, Time: l.now().UTC(), User: st.login, Conn: st.conn, Account: st.account, Statement: st.text,
		Verb: st.verb, Target: st.table, Row: c.row, Method: c.method, Path: c.path, Key: c.key,
		Outcome: outcomePending, ObjectID: c.id,
	}
	if err := l.append(r); err != nil {
		return 0, err
	}
	l.next++
	l.add(r)
	return r.Seq, nil
}

// finish records the outcome of write seq.
func (l *writeLog) finish(seq int64, res writeResult) {
	l.mu.Lock()
	defer l.mu.Unlock()
	done := &writeRecord{Seq: seq, Outcome: res.outcome, ObjectID: res.id, RequestID: res.requestID,
		Attempts: res.attempts, Done: l.now().UTC()}
	if res.err != nil {
		done.Error = maskDigits(res.err.Error())
	}
	if r := l.bySeq[seq]; r != nil { // else dropped from memory by newer writes
		r.Outcome, r.RequestID, r.Attempts, r.Error, r.Done = done.Outcome, done.RequestID, done.Attempts, done.Error, done.Done
		if done.ObjectID != "" {
			r.ObjectID = done.ObjectID
		}
	}
	// A failed outcome line leaves the write pending in the file, which
	// reads back as unknown: the cautious answer.
	_ = l.append(done)
}

// append writes one line to the log file and syncs it. It must be called
// with l.mu held.
func (l *writeLog) append(r *writeRecord) error {
	if l.file == nil {
		return nil
	}
	line, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("write log: %w", err)
	}
	if _, err := l.file.Write(append(line, '\n')); err != nil {
		return fmt.Errorf("write log %s: %w", l.path, err)
	}
	if err := l.file.Sync(); err != nil {
		return fmt.Errorf("write log %s: sync: %w", l.path, err)
	}
	return nil
}

// snapshot returns copies of the records, oldest first.
func (l *writeLog) snapshot() []writeRecord {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([]writeRecord, len(l.records))
	for i, r := range l.records {
		out[i] = *r
	}
	return out
}

// digitRun matches what could be a card number: 12 or more digits,
// possibly grouped by spaces or dashes.
var digitRun = regexp.MustCompile(`\d(?:[ -]?\d){11,}`)

// maskDigits hides card-number-like digit runs of an error message.
func maskDigits(s string) string { return digitRun.ReplaceAllString(s, "[redacted]") }
