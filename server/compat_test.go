package server

import (
	"context"
	"encoding/json"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/dolthub/go-mysql-server/memory"
	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/expression"
	"github.com/dolthub/go-mysql-server/sql/types"
	vmysql "github.com/dolthub/vitess/go/mysql"
	"github.com/dolthub/vitess/go/sqltypes"
)

// newFlagsDB returns database "shop" with table flags(id, paid
// tinyint(1), level tinyint, ratio double) holding one row.
func newFlagsDB(t *testing.T) sql.Database {
	t.Helper()
	db := memory.NewDatabase("shop")
	ctx := sql.NewEmptyContext()
	schema := sql.NewPrimaryKeySchema(sql.Schema{
		{Name: "id", Type: types.Int64, Source: "flags", PrimaryKey: true},
		{Name: "paid", Type: types.Boolean, Source: "flags", Nullable: true},
		{Name: "level", Type: types.Int8, Source: "flags", Nullable: true},
		{Name: "ratio", Type: types.Float64, Source: "flags", Nullable: true},
	})
	flags := memory.NewLocalTable(ctx, db, "flags", schema, db.GetForeignKeyCollection())
	db.AddTable("flags", flags)
	if err := flags.Insert(ctx, sql.Row{int64(1), int8(1), int8(7), float64(1107900)}); err != nil {
		t.Fatal(err)
	}
	return bareDB{db}
}

// rawConn is a vitess client connection, which shows the fields and the
// text of values exactly as the server sent them.
func rawConn(t *testing.T, ts *testServer) *vmysql.Conn {
	t.Helper()
	host, port, _ := net.SplitHostPort(ts.Addr().String())
	p, _ := strconv.Atoi(port)
	c, err := vmysql.Connect(context.Background(), &vmysql.ConnParams{Host: host, Port: p, Uname: ts.user, Pass: ts.password, DbName: "shop"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return c
}

func TestMySQLErrorCodesAndStates(t *testing.T) {
	db := start(t, Config{}).open(t)
	for _, tc := range []struct {
		query string
		code  uint16
		state string
	}{
		{"SELECT nope FROM items", 1054, "42S22"},
		{"SELEC 1", 1064, "42000"},
		{"SELECT * FROM nothere", 1146, "42S02"},
		{"SELECT makedate_nope(1)", 1305, "42000"},
		{"SELECT id FROM items, items i2", 1052, "23000"},
		{"INSERT INTO items VALUES (1, 'dup')", 1062, "23000"},
		{"INSERT INTO items (id, name) VALUES (9)", 1136, "21S01"},
		{"SELECT (SELECT id FROM items)", 1242, "21000"},
		{"SELECT * FROM nodb.x", 1049, "42000"},
		{"SELECT @@nope_variable", 1193, "HY000"},
	} {
		_, err := db.Exec(tc.query)
		if err == nil {
			t.Errorf("%s: no error", tc.query)
			continue
		}
		me := mysqlError(t, err)
		if me.Number != tc.code || string(me.SQLState[:]) != tc.state {
			t.Errorf("%s: %d (%s) %q, want %d (%s)", tc.query, me.Number, me.SQLState[:], me.Message, tc.code, tc.state)
		}
	}
}

func TestTinyint1HasDisplayWidth1AndDoublesPrintInFull(t *testing.T) {
	ts := start(t, Config{Database: newFlagsDB(t)})
	c := rawConn(t, ts)
	res, err := c.ExecuteFetch("SELECT f.paid, level, ratio, ratio * 1e8, ratio / 1e12, paid = 1 FROM flags f", 10, true)
	if err != nil {
		t.Fatal(err)
	}
	var widths []uint32
	for _, f := range res.Fields {
		widths = append(widths, f.ColumnLength)
	}
	// paid is tinyint(1) even through an alias; level a plain tinyint; an
	// expression keeps the engine's width.
	if widths[0] != 1 || widths[1] != 4 || widths[5] == 1 {
		t.Errorf("column lengths %v, want paid 1, level 4", widths)
	}
	var got []string
	for _, v := range res.Rows[0][2:5] {
		got = append(got, v.ToString())
	}
	want := []string{"1107900", "110790000000000", "0.0000011079"}
	if res.Rows[0][2].Type() != sqltypes.Float64 || !slicesEqual(got, want) {
		t.Errorf("doubles %v (%v), want %v", got, res.Rows[0][2].Type(), want)
	}
}

func slicesEqual(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestFormatDoubleAsMySQL(t *testing.T) {
	// Expected texts are what MySQL 8.0 prints for SELECT <v>e0.
	for _, tc := range []struct {
		f    float64
		want string
	}{
		{1107900, "1107900"},
		{-1107900, "-1107900"},
		{0.1, "0.1"},
		{1.5, "1.5"},
		{100000000000000, "100000000000000"},
		{999999999999999, "999999999999999"},
		{1e15, "1e15"},
		{1.5e15, "1.5e15"},
		{1234567890123456.8, "1234567890123456.8"},
		{1e100, "1e100"},
		{0.00001, "0.00001"},
		{1e-15, "0.000000000000001"},
		{1e-16, "1e-16"},
		{-2.5e-20, "-2.5e-20"},
		{0, "0"},
		{1.7976931348623157e308, "1.7976931348623157e308"},
	} {
		if got := formatDouble(tc.f); got != tc.want {
			t.Errorf("formatDouble(%v) = %q, want %q", tc.f, got, tc.want)
		}
	}
}

// newKeyedDB returns database "shop" with table notes(id varchar primary
// key default 'assigned', body), a key the database assigns, and items,
// whose integer key has no default.
func newKeyedDB(t *testing.T) sql.Database {
	t.Helper()
	db := newShopDB(t).(bareDB).Database.(*memory.Database)
	ctx := sql.NewEmptyContext()
	def, err := sql.NewColumnDefaultValue(expression.NewLiteral("assigned", types.Text), types.Text, true, false, false)
	if err != nil {
		t.Fatal(err)
	}
	schema := sql.NewPrimaryKeySchema(sql.Schema{
		{Name: "id", Type: types.Text, Source: "notes", PrimaryKey: true, Default: def},
		{Name: "body", Type: types.Text, Source: "notes", Nullable: true},
	})
	db.AddTable("notes", memory.NewLocalTable(ctx, db, "notes", schema, db.GetForeignKeyCollection()))
	return bareDB{db}
}

func TestInsertNullIntoAssignedKeyMeansDefault(t *testing.T) {
	db := start(t, Config{Database: newKeyedDB(t)}).open(t)
	// As an ORM sends it: NULL for the key, through a prepared statement.
	if _, err := db.Exec("INSERT INTO notes (id, body) VALUES (?, ?)", nil, "from an ORM"); err != nil {
		t.Fatalf("insert with a NULL key: %v", err)
	}
	// And as text, with the column named in another case.
	if _, err := db.Exec("INSERT INTO notes (ID, body) VALUES (NULL, 'typed')"); err == nil {
		t.Errorf("a second row with the same assigned key was accepted")
	} else {
		wantCode(t, "second assigned key", err, 1062) // the memory table's key is the default itself
	}
	got := queryStrings(t, db, "SELECT concat(id, '/', body) FROM notes")
	if len(got) != 1 || got[0] != "assigned/from an ORM" {
		t.Errorf("notes %v, want [assigned/from an ORM]", got)
	}
	// A key without a default still refuses NULL, as MySQL does.
	_, err := db.Exec("INSERT INTO items (id, name) VALUES (NULL, 'x')")
	wantCode(t, "NULL integer key", err, 1048)
}

func TestMySQLFunctionsTheEngineLacks(t *testing.T) {
	db := start(t, Config{}).open(t)
	for q, want := range map[string][]string{
		"SELECT makedate(year('2020-03-04'), 1)":                                                {"2020-01-01"},
		"SELECT str_to_date(concat(yearweek('2020-03-04'), ' Sunday'), '%X%V %W')":              {"2020-03-01"},
		"SELECT concat(id, ':', cume_dist() over (order by id)) FROM items ORDER BY id":         {"1:0.5", "2:1"},
		"SELECT concat(id, ':', percent_rank() over (order by id desc)) FROM items ORDER BY id": {"1:1", "2:0"},
	} {
		if got := queryStrings(t, db, q); !slicesEqual(got, want) {
			t.Errorf("%s = %v, want %v", q, got, want)
		}
	}
}

func TestRewriteODBCEscapes(t *testing.T) {
	for in, want := range map[string]string{
		"SELECT {fn YEAR(created)} FROM t":                       "SELECT YEAR(created) FROM t",
		"SELECT {d '2020-01-02'}, {ts '2020-01-02 03:04:05'}":    "SELECT DATE '2020-01-02', TIMESTAMP '2020-01-02 03:04:05'",
		"SELECT {t '03:04:05'}":                                  "SELECT TIME '03:04:05'",
		"SELECT {fn UCASE({fn LEFT(name, 1)})} FROM t":           "SELECT UCASE(LEFT(name, 1)) FROM t",
		"SELECT * FROM {oj a LEFT OUTER JOIN b ON a.x = b.x}":    "SELECT * FROM a LEFT OUTER JOIN b ON a.x = b.x",
		"SELECT '{fn not me}', `{d`, \"{ts}\" -- {fn x}\nFROM t": "SELECT '{fn not me}', `{d`, \"{ts}\" -- {fn x}\nFROM t",
		"SELECT JSON_EXTRACT('{\"a\": 1}', '$.a')":               "SELECT JSON_EXTRACT('{\"a\": 1}', '$.a')",
		"SELECT 'it''s {fn x}', {fn NOW()}":                      "SELECT 'it''s {fn x}', NOW()",
		// MySQL reads {d expr} of a non-literal as expr.
		"SELECT {d NOW()}, {ts '2020-01-02 03:04:05'}": "SELECT NOW(), TIMESTAMP '2020-01-02 03:04:05'",
		// Braces that close no escape stay, for the parser to refuse.
		"SELECT '}', 1 }":                "SELECT '}', 1 }",
		"SELECT {fn NOW()} }":            "SELECT NOW() }",
		"SELECT {d '2020-01-02'}}":       "SELECT DATE '2020-01-02'}",
		"SELECT {fn CONCAT('a', {x})}":   "SELECT {fn CONCAT('a', {x})}",
		"SELECT {fn UCASE({x} )} FROM t": "SELECT {fn UCASE({x} )} FROM t",
		// An escape is one expression (a join for oj), closed: anything
		// else is left as sent, for the parser to refuse.
		"SELECT {fn NOW() FROM t }":                             "SELECT {fn NOW() FROM t }",
		"SELECT {fn NOW(), 1}":                                  "SELECT {fn NOW(), 1}",
		"SELECT {fn NOW()":                                      "SELECT {fn NOW()",
		"SELECT {fn LCASE({fn NOW() FROM t})}":                  "SELECT {fn LCASE({fn NOW() FROM t})}",
		"SELECT * FROM {oj a LEFT JOIN b ON a.x = b.x WHERE 1}": "SELECT * FROM {oj a LEFT JOIN b ON a.x = b.x WHERE 1}",
		"SELECT 1 FROM t WHERE a LIKE 'x!%' {escape '!'}":       "SELECT 1 FROM t WHERE a LIKE 'x!%' ESCAPE '!'",
		"SELECT {fn UCASE(?)}, {fn IFNULL(@a := 1, 2)}":         "SELECT UCASE(?), IFNULL(@a := 1, 2)",
	} {
		if got := rewriteODBCEscapes(in); got != want {
			t.Errorf("rewriteODBCEscapes(%q)\n = %q\nwant %q", in, got, want)
		}
	}
}

func TestStatementsToolsSend(t *testing.T) {
	db := start(t, Config{}).open(t)
	db.SetMaxOpenConns(1)
	// ODBC escapes (MariaDB ODBC: Tableau, Power BI, Excel).
	got := queryStrings(t, db, "SELECT concat({fn YEAR({d '2020-03-04'})}, ' ', {ts '2020-01-02 03:04:05'}, ' ', {fn UCASE(name)}) FROM items WHERE id = 1")
	if want := []string{"2020 2020-01-02 03:04:05 APPLE"}; !slicesEqual(got, want) {
		t.Errorf("ODBC escapes gave %v, want %v", got, want)
	}
	// What MySQL's parser refuses is a syntax error here too, not
	// mended by the rewrite: a brace closing no escape, an escape
	// holding more than an expression.
	for _, q := range []string{"SELECT 1 }", "SELECT {fn UCASE(name)} } FROM items", "SELECT {fn UCASE(name) FROM items}", "SELECT {fn UCASE(name)"} {
		if _, err := db.Exec(q); err == nil || mysqlError(t, err).Number != 1064 {
			t.Errorf("%s: %v, want a syntax error (1064)", q, err)
		}
	}
	// mycli's start-up query and the mysql client's server-side help.
	for _, q := range []string{"SELECT name FROM mysql.help_topic", "SELECT * FROM mysql.help_keyword WHERE name LIKE 'SEL%'", "help 'select'", "HELP 'contents'"} {
		if got := queryStrings(t, db, q); len(got) != 0 {
			t.Errorf("%s gave %v, want no rows", q, got)
		}
	}
	// DBeaver's plan view.
	got = queryStrings(t, db, "EXPLAIN FORMAT=JSON SELECT name FROM items WHERE id = 2")
	if len(got) != 1 {
		t.Fatalf("EXPLAIN FORMAT=JSON gave %d rows, want 1", len(got))
	}
	var doc struct {
		QueryBlock struct {
			Plan []string `json:"plan"`
		} `json:"query_block"`
	}
	if err := json.Unmarshal([]byte(got[0]), &doc); err != nil || len(doc.QueryBlock.Plan) == 0 || !strings.Contains(strings.Join(doc.QueryBlock.Plan, "\n"), "items") {
		t.Errorf("EXPLAIN FORMAT=JSON gave %s (%v), want a query_block whose plan reads items", got[0], err)
	}
}

// endingDB records the sessions the server says ended.
type endingDB struct {
	bareDB
	ended chan uint32
}

func (d endingDB) SessionEnded(conn uint32) { d.ended <- conn }

func TestResetConnectionEndsTheDatabaseSession(t *testing.T) {
	db := endingDB{bareDB: newShopDB(t).(bareDB), ended: make(chan uint32, 4)}
	ts := start(t, Config{Database: db})
	c := rawConn(t, ts)
	id := c.ConnectionID
	// COM_RESET_CONNECTION, as pools (mysql2, Connector/J) send it.
	// A packet: 3-byte length, sequence 0, the command byte.
	if _, err := c.Conn.Write([]byte{1, 0, 0, 0, vmysql.ComResetConnection}); err != nil {
		t.Fatal(err)
	}
	ok := make([]byte, 5) // header and the packet's first byte
	if _, err := io.ReadFull(c.Conn, ok); err != nil || ok[4] != vmysql.OKPacket {
		t.Fatalf("reset answered %v, %v; want an OK packet", ok, err)
	}
	rest := make([]byte, int(ok[0])|int(ok[1])<<8|int(ok[2])<<16-1)
	if _, err := io.ReadFull(c.Conn, rest); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ExecuteFetch("SELECT 1", 1, false); err != nil {
		t.Fatalf("after reset: %v", err)
	}
	select {
	case got := <-db.ended:
		if got != id {
			t.Errorf("session %d ended, want %d", got, id)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the database was not told the session ended")
	}
}

func TestSetNamesCollate(t *testing.T) {
	db := start(t, Config{}).open(t)
	db.SetMaxOpenConns(1)
	mustExec(t, db, "SET NAMES utf8mb4 COLLATE utf8mb4_unicode_ci")
	got := queryStrings(t, db, "SELECT concat(@@character_set_client, ' ', @@collation_connection)")
	if want := []string{"utf8mb4 utf8mb4_unicode_ci"}; !slicesEqual(got, want) {
		t.Errorf("after SET NAMES … COLLATE: %v, want %v", got, want)
	}
}

func TestWaitTimeoutClosesAnIdleConnection(t *testing.T) {
	ts := start(t, Config{})
	idle, busy := rawConn(t, ts), rawConn(t, ts)
	if _, err := idle.ExecuteFetch("SET SESSION wait_timeout = 1", 1, false); err != nil {
		t.Fatal(err)
	}
	// The server closes the idle connection: reading it ends.
	done := make(chan error, 1)
	go func() {
		_, err := idle.Conn.Read(make([]byte, 1))
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil {
			t.Errorf("the server sent data instead of closing")
		}
	case <-time.After(20 * time.Second):
		t.Fatal("a connection idle past wait_timeout = 1 was not closed")
	}
	// A connection with the default wait_timeout (8 hours) is still served.
	if _, err := busy.ExecuteFetch("SELECT 1", 1, false); err != nil {
		t.Errorf("default wait_timeout: %v", err)
	}
}

func TestSessionTemporaryTables(t *testing.T) {
	ts := start(t, Config{})
	db := ts.open(t)
	db.SetMaxOpenConns(1)
	// As Tableau stages an extract.
	mustExec(t, db,
		"CREATE TEMPORARY TABLE tab_extract (id BIGINT PRIMARY KEY, name VARCHAR(100))",
		"INSERT INTO tab_extract SELECT id, upper(name) FROM items",
	)
	got := queryStrings(t, db, "SELECT concat(t.id, t.name, i.name) FROM tab_extract t JOIN items i ON i.id = t.id ORDER BY t.id")
	if want := []string{"1APPLEapple", "2PEARpear"}; !slicesEqual(got, want) {
		t.Errorf("temporary table joined %v, want %v", got, want)
	}
	// Another session does not see it.
	other := ts.open(t)
	_, err := other.Exec("SELECT * FROM tab_extract")
	wantCode(t, "other session", err, 1146)
	// Dropped, it is gone; the served tables cannot be dropped.
	mustExec(t, db, "DROP TEMPORARY TABLE tab_extract")
	_, err = db.Exec("SELECT * FROM tab_extract")
	wantCode(t, "after drop", err, 1146)
	if _, err := db.Exec("DROP TABLE items"); err == nil {
		t.Errorf("DROP TABLE items succeeded")
	}
	if got := queryStrings(t, db, "SELECT count(*) FROM items"); !slicesEqual(got, []string{"2"}) {
		t.Errorf("items has %v rows after DROP TABLE", got)
	}
}

// skipLiteral, which every rewrite uses to pass over what it must not
// read: where each quoted text or comment ends, and nothing else skipped.
func TestSkipLiteral(t *testing.T) {
	for _, c := range []struct {
		q       string
		i, want int
	}{
		{"'it''s' x", 0, 7},
		{`'a\'b' x`, 0, 6},
		{"`a``b` x", 0, 6},
		{`"a" x`, 0, 3},
		{"'open", 0, 5},
		{"# c\nx", 0, 3},
		{"-- c\nx", 0, 4},
		{"--c\nx", 0, 0},
		{"/* c */x", 0, 7},
		{"/* open", 0, 7},
		{"/x", 0, 0},
		{"a '", 0, 0},
		{"a '", 2, 3},
	} {
		if got := skipLiteral(c.q, c.i); got != c.want {
			t.Errorf("skipLiteral(%q, %d) = %d, want %d", c.q, c.i, got, c.want)
		}
	}
}
