package server

// commandConn reads the commands vitess cannot take before vitess does:
// COM_CHANGE_USER, and the statements of COM_STMT_PREPARE, which vitess
// parses itself (see rewritePrepare).
//
// COM_CHANGE_USER (mysql2's changeUser, connection pools that re-use a
// connection for another account) re-authenticates a connection. vitess,
// which reads the protocol for go-mysql-server, answers it with
// "command handling not implemented yet: 17" and never tells the handler.
// Without forking vitess, the server therefore reads the command itself,
// one layer down: commandConn sits between the socket and vitess,
// passes every other byte through, and on COM_CHANGE_USER
//
//  1. asks the client for mysql_native_password proof with a fresh salt
//     (an AuthSwitchRequest, as MySQL does when it wants another salt or
//     plugin), and checks it with the server's own auth method (the users
//     store, GMS's mysql_db) — the check a new connection gets;
//  2. on success hands vitess a COM_RESET_CONNECTION in its place, and
//     changeUserHandler, seeing that reset, binds the new account and
//     database before go-mysql-server builds the fresh session; the OK
//     vitess writes for the reset is renumbered to follow the exchange;
//  3. on failure answers MySQL's 1045 and keeps the session as it was
//     (mysql_change_user: "the current user authentication will remain");
//     the third failure on a connection closes it, against guessing.
//
// What it cannot do: read a TLS connection's commands (they are encrypted
// below vitess's TLS; vitess still answers those with its 1047), or run a
// multi-round plugin exchange (caching_sha2_password's full auth needs
// TLS anyway). Changing to an account whose plugin is not
// mysql_native_password gets 1045 with a message saying to connect as
// that account instead.

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"sync"

	"github.com/dolthub/vitess/go/mysql"
)

const (
	comChangeUser      = 0x11
	comStmtPrepare     = 0x16
	comResetConnection = 0x1f
	// maxChangeUserFailures failed COM_CHANGE_USERs close the connection
	// (MariaDB blocks the command after three).
	maxChangeUserFailures = 3
	// erHandshakeError is MySQL's ER_HANDSHAKE_ERROR ("Bad handshake").
	erHandshakeError = 1043
	// maxPacketPayload marks a payload continued in the next packet.
	maxPacketPayload = 1<<24 - 1
)

// commandListener wraps each accepted connection in a commandConn.
type commandListener struct {
	net.Listener
	auth mysql.AuthServer
}

func (l *commandListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &commandConn{Conn: c, auth: l.auth}, nil
}

// pendingChange is an authenticated COM_CHANGE_USER waiting for the reset
// that stands in for it.
type pendingChange struct {
	user     string
	userData mysql.Getter
	db       string
}

// commandConn is a server-side connection that carries out
// COM_CHANGE_USER. Reads come from vitess's connection goroutine (and,
// during a query, its disconnect watcher, never at the same time);
// writes from the connection goroutine.
type commandConn struct {
	net.Conn
	auth mysql.AuthServer

	// Read side.
	started  bool   // the client's first packet was seen
	flags    uint32 // the capabilities it claimed (vitess keeps only some)
	opaque   bool   // TLS: bytes pass through unread
	buf      []byte // for reads from the socket
	in       []byte // read from the socket, not yet looked at
	out      []byte // looked at, for vitess
	skip     int    // payload bytes of the current packet still to pass
	readErr  error  // how the stream ended, once what was in in has gone
	failures int

	mu       sync.Mutex
	mc       *mysql.Conn    // vitess's connection, once the handler saw it
	pending  *pendingChange // for changeUserHandler
	renumber bool           // the reply to an injected reset follows the exchange
	nextSeq  byte           // its sequence number
	dropping bool           // the reply's first packet went; drop the rest
	wskip    int            // payload bytes of the written packet still to pass
}

// attach records vitess's connection, whose capabilities and address the
// authentication needs.
func (c *commandConn) attach(mc *mysql.Conn) {
	c.mu.Lock()
	c.mc = mc
	c.mu.Unlock()
}

// takePending returns and clears the authenticated change, if any.
func (c *commandConn) takePending() *pendingChange {
	c.mu.Lock()
	defer c.mu.Unlock()
	p := c.pending
	c.pending = nil
	return p
}

func (c *commandConn) Read(p []byte) (int, error) {
	for {
		if len(c.out) > 0 {
			n := copy(p, c.out)
			c.out = c.out[n:]
			return n, nil
		}
		if c.readErr != nil {
			return 0, c.readErr
		}
		if c.opaque && len(c.in) == 0 {
			return c.Conn.Read(p)
		}
		if c.skip > 0 && len(c.in) == 0 {
			// The rest of a packet passes straight through.
			n, err := c.Conn.Read(p[:min(len(p), c.skip)])
			c.skip -= n
			return n, err
		}
		handled, err := c.scan()
		if err != nil {
			return 0, err
		}
		if handled {
			continue
		}
		if err := c.fill(); err != nil {
			var ne net.Error
			if len(c.in) == 0 || errors.As(err, &ne) && ne.Timeout() {
				// Nothing held back, or a deadline: what is held
				// is still whole to a later read.
				return 0, err
			}
			// The stream ended inside a packet: vitess gets the bytes
			// that came, to see the packet cut short, then the error.
			c.out, c.in, c.readErr = append(c.out, c.in...), nil, err
		}
	}
}

// fill reads more bytes from the socket into in.
func (c *commandConn) fill() error {
	if c.buf == nil {
		c.buf = make([]byte, 4<<10)
	}
	n, err := c.Conn.Read(c.buf)
	c.in = append(c.in, c.buf[:n]...)
	if n > 0 {
		return nil
	}
	if err == nil {
		err = errors.New("read returned nothing")
	}
	return err
}

// scan moves what it can decide about from in to out; false means it
// needs more bytes.
func (c *commandConn) scan() (bool, error) {
	switch {
	case c.opaque:
		c.out, c.in = append(c.out, c.in...), nil
		return true, nil
	case c.skip > 0:
		if len(c.in) == 0 {
			return false, nil
		}
		n := min(c.skip, len(c.in))
		c.out = append(c.out, c.in[:n]...)
		c.in, c.skip = c.in[n:], c.skip-n
		return true, nil
	case len(c.in) < 4:
		return false, nil
	}
	length := int(c.in[0]) | int(c.in[1])<<8 | int(c.in[2])<<16
	seq := c.in[3]
	if !c.started {
		// The handshake response or, with TLS, the SSL request: after
		// that the bytes are TLS records, which only vitess can read.
		// A packet too short to hold the capabilities passes on whole,
		// for vitess to refuse as malformed.
		if length >= 4 {
			if len(c.in) < 8 {
				return false, nil
			}
			c.flags = binary.LittleEndian.Uint32(c.in[4:8])
		}
		c.started = true
		if c.flags&mysql.CapabilityClientSSL != 0 {
			c.opaque = true
			return true, nil
		}
	}
	if seq == 0 {
		// A new command: whatever answered the last one is done.
		c.mu.Lock()
		c.renumber, c.dropping = false, false
		c.mu.Unlock()
		if length > 0 && length < maxPacketPayload {
			if len(c.in) < 5 {
				return false, nil
			}
			switch c.in[4] {
			case comChangeUser:
				if len(c.in) < 4+length {
					return false, nil
				}
				payload := append([]byte(nil), c.in[4:4+length]...)
				c.in = c.in[4+length:]
				return true, c.changeUser(payload)
			case comStmtPrepare:
				if len(c.in) < 4+length {
					return false, nil
				}
				packet, err := rewritePrepare(c.in[:4+length])
				c.in = c.in[4+length:]
				if err != nil {
					// Answered here: vitess would report a syntax error.
					return true, c.writePacket(1, errPacketFrom(err))
				}
				c.out = append(c.out, packet...)
				return true, nil
			}
		}
	}
	c.out = append(c.out, c.in[:4]...)
	c.in, c.skip = c.in[4:], length
	return true, nil
}

// changeUser carries out one COM_CHANGE_USER whose payload is given. A
// non-nil error ends the connection.
func (c *commandConn) changeUser(payload []byte) error {
	c.mu.Lock()
	mc := c.mc
	c.mu.Unlock()
	req, err := parseChangeUser(payload, c.flags)
	if err != nil || mc == nil {
		return c.writePacket(1, errPacket(erHandshakeError, mysql.SSNetError, "Bad handshake: malformed COM_CHANGE_USER packet"))
	}
	if c.flags&mysql.CapabilityClientPluginAuth == 0 {
		return c.writePacket(1, errPacket(mysql.ERAccessDeniedError, mysql.SSAccessDeniedError,
			"COM_CHANGE_USER needs a client that supports authentication plugins; open a new connection as '%s' instead", req.user))
	}
	method := c.nativeMethod(mc, req.user)
	if method == nil {
		return c.writePacket(1, errPacket(mysql.ERAccessDeniedError, mysql.SSAccessDeniedError,
			"Access denied for user '%s': the account does not use mysql_native_password, and COM_CHANGE_USER here supports only that; open a new connection as '%s' instead", req.user, req.user))
	}
	salt, err := method.AuthPluginData()
	if err != nil {
		return fmt.Errorf("change user: salt: %w", err)
	}
	// AuthSwitchRequest: 0xfe, the plugin, its data (salt and NUL).
	sw := append([]byte{mysql.AuthSwitchRequestPacket}, mysql.MysqlNativePassword...)
	sw = append(append(sw, 0), salt...)
	if err := c.writePacket(1, sw); err != nil {
		return err
	}
	resp, err := c.readPacket(2)
	if err != nil {
		return err
	}
	userData, authErr := method.HandleAuthPluginData(mc, req.user, salt, resp, mc.RemoteAddr())
	if authErr != nil {
		c.failures++
		using := "NO"
		if len(resp) > 0 {
			using = "YES"
		}
		if err := c.writePacket(3, errPacket(mysql.ERAccessDeniedError, mysql.SSAccessDeniedError,
			"Access denied for user '%s'@'%s' (using password: %s)", req.user, clientHost(mc.RemoteAddr()), using)); err != nil {
			return err
		}
		if c.failures >= maxChangeUserFailures {
			return errors.New("change user: too many failures")
		}
		return nil
	}
	c.mu.Lock()
	c.pending = &pendingChange{user: req.user, userData: userData, db: req.db}
	c.renumber, c.nextSeq, c.dropping, c.wskip = true, 3, false, 0
	c.mu.Unlock()
	// vitess resets the session in place of the change; see
	// changeUserHandler.ComResetConnection.
	c.out = append(c.out, 1, 0, 0, 0, comResetConnection)
	return nil
}

// nativeMethod is the server's mysql_native_password method if user
// authenticates with it (an unknown user does too: the check then fails
// as a wrong password does).
func (c *commandConn) nativeMethod(mc *mysql.Conn, user string) mysql.AuthMethod {
	for _, m := range c.auth.AuthMethods() {
		if m.Name() == mysql.MysqlNativePassword && m.HandleUser(mc, user) {
			return m
		}
	}
	return nil
}

// readPacket reads one whole packet of sequence number seq from the
// client, during the exchange.
func (c *commandConn) readPacket(seq byte) ([]byte, error) {
	for len(c.in) < 4 || len(c.in) < 4+(int(c.in[0])|int(c.in[1])<<8|int(c.in[2])<<16) {
		if err := c.fill(); err != nil {
			return nil, fmt.Errorf("change user: %w", err)
		}
	}
	length := int(c.in[0]) | int(c.in[1])<<8 | int(c.in[2])<<16
	if c.in[3] != seq {
		return nil, fmt.Errorf("change user: packet %d, want %d", c.in[3], seq)
	}
	p := append([]byte(nil), c.in[4:4+length]...)
	c.in = c.in[4+length:]
	return p, nil
}

// writePacket writes one packet straight to the socket.
func (c *commandConn) writePacket(seq byte, payload []byte) error {
	b := make([]byte, 4, 4+len(payload))
	b[0], b[1], b[2], b[3] = byte(len(payload)), byte(len(payload)>>8), byte(len(payload)>>16), seq
	_, err := c.Conn.Write(append(b, payload...))
	return err
}

// Write renumbers vitess's answer to an injected reset so that it follows
// the authentication exchange, and passes everything else.
func (c *commandConn) Write(b []byte) (int, error) {
	c.mu.Lock()
	if !c.renumber {
		c.mu.Unlock()
		return c.Conn.Write(b)
	}
	// vitess answers a failed reset with ERR then OK; the client reads
	// one reply, so only the first packet goes.
	var send []byte
	for i := 0; i < len(b); {
		if c.wskip > 0 {
			n := min(c.wskip, len(b)-i)
			if !c.dropping {
				send = append(send, b[i:i+n]...)
			}
			i, c.wskip = i+n, c.wskip-n
			if c.wskip == 0 {
				c.dropping = true
			}
			continue
		}
		if len(b)-i < 4 {
			// vitess writes whole headers; pass a stray tail as it is.
			send = append(send, b[i:]...)
			break
		}
		length := int(b[i]) | int(b[i+1])<<8 | int(b[i+2])<<16
		if !c.dropping {
			send = append(send, b[i], b[i+1], b[i+2], c.nextSeq)
			c.nextSeq++
		}
		i, c.wskip = i+4, length
		if length == 0 {
			c.dropping = true
		}
	}
	c.mu.Unlock()
	if len(send) > 0 {
		if _, err := c.Conn.Write(send); err != nil {
			return 0, err
		}
	}
	return len(b), nil
}

// changeUserRequest is what a COM_CHANGE_USER asks for.
type changeUserRequest struct {
	user string
	db   string
}

// parseChangeUser reads the payload of a COM_CHANGE_USER: the user, the
// auth response (ignored: it is computed with the handshake's salt, and
// the server asks again with a fresh one), the database; the character
// set, plugin and attributes that may follow are not needed.
func parseChangeUser(payload []byte, flags uint32) (changeUserRequest, error) {
	var r changeUserRequest
	if len(payload) == 0 || payload[0] != comChangeUser {
		return r, errors.New("not COM_CHANGE_USER")
	}
	rest := payload[1:]
	cstr := func() (string, bool) {
		i := bytes.IndexByte(rest, 0)
		if i < 0 {
			return "", false
		}
		s := string(rest[:i])
		rest = rest[i+1:]
		return s, true
	}
	var ok bool
	if r.user, ok = cstr(); !ok {
		return r, errors.New("no user")
	}
	if flags&mysql.CapabilityClientSecureConnection != 0 {
		if len(rest) < 1 || len(rest) < 1+int(rest[0]) {
			return r, errors.New("short auth response")
		}
		rest = rest[1+int(rest[0]):]
	} else if _, ok = cstr(); !ok {
		return r, errors.New("no auth response")
	}
	if len(rest) > 0 {
		if r.db, ok = cstr(); !ok {
			return r, errors.New("no database")
		}
	}
	return r, nil
}

// errPacket is the payload of an ERR packet.
func errPacket(code int, state, format string, args ...any) []byte {
	msg := fmt.Sprintf(format, args...)
	b := []byte{mysql.ErrPacket, byte(code), byte(code >> 8), '#'}
	b = append(b, state...)
	return append(b, msg...)
}

// changeUserHandler binds the account and database of an authenticated
// COM_CHANGE_USER when vitess runs the reset that stands in for it.
type changeUserHandler struct {
	mysql.Handler
}

// NewConnection implements mysql.Handler.
func (h changeUserHandler) NewConnection(c *mysql.Conn) {
	if cu, ok := c.Conn.(*commandConn); ok {
		cu.attach(c)
	}
	h.Handler.NewConnection(c)
}

// ComResetConnection implements mysql.Handler: a plain reset, or the
// session change of a COM_CHANGE_USER.
func (h changeUserHandler) ComResetConnection(c *mysql.Conn) error {
	cu, ok := c.Conn.(*commandConn)
	if !ok {
		return h.Handler.ComResetConnection(c)
	}
	p := cu.takePending()
	if p == nil {
		return h.Handler.ComResetConnection(c)
	}
	// The reset keeps the current database, which the new account may
	// not see: leave it first (as the old account), then enter the
	// requested one as the new account.
	if err := h.Handler.ComInitDB(c, ""); err != nil {
		return err
	}
	c.User, c.UserData = p.user, p.userData
	if err := h.Handler.ComResetConnection(c); err != nil {
		return err
	}
	if p.db == "" {
		return nil
	}
	return h.Handler.ComInitDB(c, p.db)
}

// rewritePrepare returns a COM_STMT_PREPARE packet with its statement
// rewritten as rewriteQuery rewrites queries. vitess parses a statement
// to prepare before any handler sees it, so the handler's rewrite comes
// too late for what its parser refuses (`@v := …` in MariaDB ODBC's
// catalog queries, ODBC escapes).
func rewritePrepare(packet []byte) ([]byte, error) {
	query := string(packet[5:])
	rewritten, _, err := rewriteQuery(query)
	if err != nil {
		return nil, err
	}
	if rewritten == query || len(rewritten)+1 >= maxPacketPayload {
		return packet, nil
	}
	n := len(rewritten) + 1
	out := make([]byte, 0, 4+n)
	out = append(out, byte(n), byte(n>>8), byte(n>>16), 0, comStmtPrepare)
	return append(out, rewritten...), nil
}

// errPacketFrom is the ERR payload of err: its MySQL code and state if it
// has them.
func errPacketFrom(err error) []byte {
	var se *mysql.SQLError
	if errors.As(err, &se) {
		return errPacket(se.Num, se.State, "%s", se.Message)
	}
	return errPacket(mysql.ERUnknownError, mysql.SSUnknownSQLState, "%s", err.Error())
}
