package server

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	vmysql "github.com/dolthub/vitess/go/mysql"
)

// rawPacket reads one packet from the client side of a connection.
func rawPacket(t *testing.T, c net.Conn) (seq byte, payload []byte) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	defer c.SetReadDeadline(time.Time{})
	var h [4]byte
	if _, err := io.ReadFull(c, h[:]); err != nil {
		t.Fatalf("reading a packet header: %v", err)
	}
	payload = make([]byte, int(h[0])|int(h[1])<<8|int(h[2])<<16)
	if _, err := io.ReadFull(c, payload); err != nil {
		t.Fatalf("reading a packet: %v", err)
	}
	return h[3], payload
}

func writeRaw(t *testing.T, c net.Conn, seq byte, payload []byte) {
	t.Helper()
	b := append([]byte{byte(len(payload)), byte(len(payload) >> 8), byte(len(payload) >> 16), seq}, payload...)
	if _, err := c.Write(b); err != nil {
		t.Fatal(err)
	}
}

// changeUserPacket is the COM_CHANGE_USER a libmysql-style client sends:
// user, an auth response made with the handshake's salt (here junk: the
// server asks again), database, character set, plugin.
func changeUserPacket(user, db string) []byte {
	p := append([]byte{0x11}, user...)
	p = append(p, 0, 20)
	p = append(p, bytes.Repeat([]byte{0xAB}, 20)...)
	p = append(append(p, db...), 0)
	p = append(p, 45, 0) // utf8mb4_general_ci
	return append(append(p, "mysql_native_password"...), 0)
}

// changeUser sends COM_CHANGE_USER over c's socket and answers the
// server's authentication switch with password; it returns the final
// packet's sequence number and payload.
func changeUser(t *testing.T, c *vmysql.Conn, user, password, db string) (byte, []byte) {
	t.Helper()
	writeRaw(t, c.Conn, 0, changeUserPacket(user, db))
	seq, p := rawPacket(t, c.Conn)
	if seq != 1 || len(p) == 0 || p[0] != 0xfe {
		return seq, p
	}
	plugin, salt, _ := bytes.Cut(p[1:], []byte{0})
	if string(plugin) != "mysql_native_password" || len(salt) != 21 {
		t.Fatalf("auth switch to %q with %d bytes of data", plugin, len(salt))
	}
	writeRaw(t, c.Conn, 2, vmysql.ScrambleMysqlNativePassword(salt[:20], []byte(password)))
	return rawPacket(t, c.Conn)
}

// COM_CHANGE_USER (mysql2's changeUser, pools) re-authenticates the
// connection as another account with a fresh salt, resets the session
// and enters the database asked for; a wrong password gets 1045 and
// leaves the session as it was.
func TestChangeUser(t *testing.T) {
	ts := start(t, Config{})
	admin := ts.open(t)
	for _, q := range []string{
		"CREATE USER 'bob'@'%' IDENTIFIED BY 'hunter2'",
		"GRANT SELECT ON shop.* TO 'bob'@'%'",
	} {
		if _, err := admin.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	host, port, _ := net.SplitHostPort(ts.Addr().String())
	p, _ := strconv.Atoi(port)
	c, err := vmysql.Connect(t.Context(), &vmysql.ConnParams{Host: host, Port: p, Uname: ts.user, Pass: ts.password, DbName: "shop"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	row := func(q string) []string {
		t.Helper()
		r, err := c.ExecuteFetch(q, 10, false)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		var out []string
		for _, v := range r.Rows[0] {
			out = append(out, v.ToString())
		}
		return out
	}
	if _, err := c.ExecuteFetch("SET @kept = 'old session'", 1, false); err != nil {
		t.Fatal(err)
	}

	// A wrong password: 1045 after the exchange, nothing changes.
	seq, resp := changeUser(t, c, "bob", "wrong", "shop")
	if seq != 3 || len(resp) < 3 || resp[0] != 0xff || int(resp[1])|int(resp[2])<<8 != 1045 ||
		!bytes.Contains(resp, []byte("Access denied for user 'bob'")) {
		t.Fatalf("wrong password: packet %d %q, want ERR 1045 as packet 3", seq, resp)
	}
	if got := row("SELECT CURRENT_USER(), @kept"); got[0] != ts.user+"@%" || got[1] != "old session" {
		t.Errorf("after a failed change: %v, want %s@%% and the old session", got, ts.user)
	}

	// The right one: OK as packet 3, the new account, a new session.
	seq, resp = changeUser(t, c, "bob", "hunter2", "shop")
	if seq != 3 || len(resp) == 0 || resp[0] != 0 {
		t.Fatalf("change user: packet %d %q, want OK as packet 3", seq, resp)
	}
	if got := row("SELECT CURRENT_USER(), DATABASE(), @kept IS NULL"); got[0] != "bob@%" || got[1] != "shop" || got[2] != "1" {
		t.Errorf("after the change: CURRENT_USER, DATABASE, @kept IS NULL = %v, want bob@%%, shop, 1", got)
	}
	// The new account's privileges apply.
	if _, err := c.ExecuteFetch("CREATE USER 'mallory'@'%'", 1, false); err == nil {
		t.Error("bob, with SELECT only, created a user")
	}
	// Back to the first account, no database.
	seq, resp = changeUser(t, c, ts.user, ts.password, "")
	if seq != 3 || len(resp) == 0 || resp[0] != 0 {
		t.Fatalf("change back: packet %d %q, want OK as packet 3", seq, resp)
	}
	if got := row("SELECT CURRENT_USER(), DATABASE() IS NULL"); got[0] != ts.user+"@%" || got[1] != "1" {
		t.Errorf("after changing back: %v, want %s@%% and no database", got, ts.user)
	}
	// COM_RESET_CONNECTION still works as before on the connection.
	if _, err := c.ExecuteFetch("SET @v = 1", 1, false); err != nil {
		t.Fatal(err)
	}
	writeRaw(t, c.Conn, 0, []byte{0x1f})
	if seq, resp := rawPacket(t, c.Conn); seq != 1 || resp[0] != 0 {
		t.Fatalf("reset: packet %d %q", seq, resp)
	}
	if got := row("SELECT @v IS NULL, CURRENT_USER()"); got[0] != "1" || got[1] != ts.user+"@%" {
		t.Errorf("after a reset: %v", got)
	}
}

// Three failed changes close the connection, against password guessing.
func TestChangeUserFailuresCloseTheConnection(t *testing.T) {
	ts := start(t, Config{})
	host, port, _ := net.SplitHostPort(ts.Addr().String())
	p, _ := strconv.Atoi(port)
	c, err := vmysql.Connect(t.Context(), &vmysql.ConnParams{Host: host, Port: p, Uname: ts.user, Pass: ts.password, DbName: "shop"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for i := 0; i < 3; i++ {
		if seq, resp := changeUser(t, c, ts.user, "guess"+strconv.Itoa(i), ""); seq != 3 || resp[0] != 0xff {
			t.Fatalf("guess %d: packet %d %q", i, seq, resp)
		}
	}
	if _, err := c.ExecuteFetch("SELECT 1", 1, false); err == nil {
		t.Error("the connection still answers after three failed changes")
	}
}

// Statements of several packets' worth pass through the connection
// wrapper whole: a 3 MB text query, a 1 MB parameter, and a prepared
// statement it rewrites.
func TestLargeStatementsPassThrough(t *testing.T) {
	db := start(t, Config{}).open(t)
	big := strings.Repeat("x", 3<<20)
	var n int
	if err := db.QueryRow("SELECT LENGTH('" + big + "')").Scan(&n); err != nil || n != len(big) {
		t.Fatalf("a 3 MB query: %d, %v", n, err)
	}
	if err := db.QueryRow("SELECT LENGTH(?)", big[:1<<20]).Scan(&n); err != nil || n != 1<<20 {
		t.Fatalf("a 1 MB parameter: %d, %v", n, err)
	}
	var s string
	if err := db.QueryRow("SELECT {fn UCASE(?)}", "abc").Scan(&s); err != nil || s != "ABC" {
		t.Fatalf("a prepared statement with an ODBC escape: %q, %v", s, err)
	}
}

// A first packet too short to hold a handshake response's capabilities
// is passed on for vitess to refuse as malformed, not held while the
// wrapper waits for bytes that will never come; bytes a client sent
// before closing reach vitess ahead of the end of the stream. Every read
// has a deadline, so a wrapper that waits shows as a timeout here.
func TestChangeUserWrapperPassesShortFirstPackets(t *testing.T) {
	read := func(t *testing.T, c net.Conn) ([]byte, error) {
		t.Helper()
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		buf := make([]byte, 64)
		n, err := c.Read(buf)
		return buf[:n], err
	}
	t.Run("a whole packet of 2 bytes, the client waiting", func(t *testing.T) {
		client, server := net.Pipe()
		defer client.Close()
		cc := &commandConn{Conn: server}
		defer cc.Close()
		packet := []byte{2, 0, 0, 1, 0xAB, 0xCD}
		go client.Write(packet)
		var got []byte
		for len(got) < len(packet) {
			b, err := read(t, cc)
			if err != nil {
				t.Fatalf("after %q: %v, want the whole packet %q passed on", got, err, packet)
			}
			got = append(got, b...)
		}
		if !bytes.Equal(got, packet) {
			t.Fatalf("passed on %q, want %q", got, packet)
		}
	})
	for _, sent := range [][]byte{{2, 0}, {1, 0, 0, 1, 0xAB}, {9, 0, 0, 1, 'a', 'b'}} {
		t.Run(fmt.Sprintf("%d bytes, then the client closes", len(sent)), func(t *testing.T) {
			client, server := net.Pipe()
			cc := &commandConn{Conn: server}
			defer cc.Close()
			go func() {
				client.Write(sent)
				client.Close()
			}()
			var got []byte
			var err error
			for err == nil {
				var b []byte
				b, err = read(t, cc)
				got = append(got, b...)
			}
			if err != io.EOF || !bytes.Equal(got, sent) {
				t.Fatalf("read %q then %v, want %q then EOF", got, err, sent)
			}
		})
	}
	t.Run("nothing sent", func(t *testing.T) {
		client, server := net.Pipe()
		defer client.Close()
		cc := &commandConn{Conn: server}
		defer cc.Close()
		// vitess's read deadline reaches the socket through the wrapper.
		cc.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
		n, err := cc.Read(make([]byte, 8))
		if n != 0 || !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("read %d bytes, %v; want the deadline's error", n, err)
		}
	})
}

// Through the server: a client whose handshake response is a 2-byte
// packet is refused and disconnected (vitess: malformed handshake), not
// left waiting.
func TestChangeUserWrapperShortHandshakeIsRefused(t *testing.T) {
	ts := start(t, Config{})
	c, err := net.Dial("tcp", ts.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if seq, greeting := rawPacket(t, c); seq != 0 || len(greeting) == 0 || greeting[0] != 10 {
		t.Fatalf("greeting: packet %d %q", seq, greeting)
	}
	writeRaw(t, c, 1, []byte{0xAB, 0xCD})
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	rest, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("after a 2-byte handshake response: read %q, then %v; want the server to close the connection", rest, err)
	}
}
