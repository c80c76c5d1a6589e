package e2e

import (
	"context"
	"database/sql"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestMariaDBODBCSQLColumns replays the statement MariaDB Connector/ODBC
// 3.1.15 sends for SQLColumns, which assigns @dt, @ColSize and @tol with
// `:=` in its select list and reads them in later columns, as a text
// query and as a server-side prepared statement (how the driver sends
// it). The expected values are computed here from each column's
// information_schema type with the driver's mapping for a Unicode ODBC 3
// application (utf8mb4: 4 bytes a character).
func TestMariaDBODBCSQLColumns(t *testing.T) {
	e := newEnv(t)
	raw, err := os.ReadFile("../testdata/bi/mariadb_odbc_sqlcolumns.sql")
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range strings.Split(string(raw), "\n") {
		if !strings.HasPrefix(l, "--") && strings.TrimSpace(l) != "" {
			lines = append(lines, l)
		}
	}
	query := strings.Join(lines, "\n")

	type info struct {
		dataType         string
		charMax, numPrec sql.NullInt64
		ordinal          int
		nullable         string
	}
	cols := map[string]info{}
	rows, err := e.db.Query("SELECT COLUMN_NAME, DATA_TYPE, CHARACTER_MAXIMUM_LENGTH, NUMERIC_PRECISION, ORDINAL_POSITION, IS_NULLABLE FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = 'stripe' AND TABLE_NAME = 'Customers'")
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var name string
		var in info
		if err := rows.Scan(&name, &in.dataType, &in.charMax, &in.numPrec, &in.ordinal, &in.nullable); err != nil {
			t.Fatal(err)
		}
		cols[name] = in
	}
	rows.Close()
	if len(cols) < 10 {
		t.Fatalf("%d columns of Customers", len(cols))
	}
	null := "NULL"
	itoa := func(n int64) string { return strconv.FormatInt(n, 10) }
	// want: DATA_TYPE, COLUMN_SIZE, BUFFER_LENGTH, SQL_DATA_TYPE,
	// SQL_DATETIME_SUB, CHAR_OCTET_LENGTH, NULLABLE, IS_NULLABLE.
	want := func(in info) []string {
		nullable, isNullable := "0", "NO"
		if in.nullable == "YES" {
			nullable, isNullable = "1", "YES"
		}
		switch in.dataType {
		case "varchar":
			n := in.charMax.Int64
			return []string{"-9", itoa(n), itoa(4 * n), "-9", null, itoa(4 * n), nullable, isNullable}
		case "longtext":
			n := in.charMax.Int64
			return []string{"-10", itoa(n), itoa(4 * n), "-10", null, itoa(4 * n), nullable, isNullable}
		case "bigint":
			// CHAR_OCTET_LENGTH is CAST((precision + 7) / 8 AS SIGNED):
			// 26/8 = 3.25 rounds to 3.
			p := in.numPrec.Int64
			return []string{"-5", itoa(p), "20", "-5", null, itoa((p + 7) / 8), nullable, isNullable}
		case "tinyint":
			p := in.numPrec.Int64
			return []string{"-6", itoa(p), "1", "-6", null, itoa((p + 7) / 8), nullable, isNullable}
		case "timestamp":
			// A TIMESTAMP is always nullable to ODBC.
			return []string{"93", "19", "16", "9", "3", null, "1", "YES"}
		case "json":
			return []string{"-4", null, null, "-4", null, null, nullable, isNullable}
		}
		return nil
	}

	conn := pinnedConn(t, e)
	stmt, err := conn.PrepareContext(context.Background(), query)
	if err != nil {
		t.Fatalf("preparing the SQLColumns statement: %v", err)
	}
	defer stmt.Close()
	for _, mode := range []string{"text", "prepared"} {
		var names []string
		var result [][]sql.NullString
		if mode == "text" {
			names, result, err = scanText(conn.QueryContext(context.Background(), query))
		} else {
			names, result, err = scanText(stmt.Query())
		}
		if err != nil {
			t.Fatalf("%s: %v", mode, err)
		}
		idx := map[string]int{}
		for i, n := range names {
			idx[n] = i
		}
		fields := []string{"DATA_TYPE", "COLUMN_SIZE", "BUFFER_LENGTH", "SQL_DATA_TYPE", "SQL_DATETIME_SUB", "CHAR_OCTET_LENGTH", "NULLABLE", "IS_NULLABLE"}
		for _, f := range append(fields, "COLUMN_NAME", "ORDINAL_POSITION") {
			if _, ok := idx[f]; !ok {
				t.Fatalf("%s: no column %s in %v", mode, f, names)
			}
		}
		checked, lastOrdinal := map[string]bool{}, 0
		for _, vals := range result {
			get := func(f string) string { return nullText(vals[idx[f]]) }
			name := get("COLUMN_NAME")
			in, ok := cols[name]
			if !ok {
				t.Errorf("%s: unknown column %s", mode, name)
				continue
			}
			ord, _ := strconv.Atoi(get("ORDINAL_POSITION"))
			if ord <= lastOrdinal {
				t.Errorf("%s: %s at ordinal %d after %d: not in ORDER BY order", mode, name, ord, lastOrdinal)
			}
			lastOrdinal = ord
			exp := want(in)
			if exp == nil {
				continue
			}
			checked[in.dataType] = true
			var got []string
			for _, f := range fields {
				got = append(got, get(f))
			}
			if strings.Join(got, " ") != strings.Join(exp, " ") {
				t.Errorf("%s: %s (%s): %s = %v, want %v", mode, name, in.dataType, strings.Join(fields, ", "), got, exp)
			}
		}
		if n := len(result); n != len(cols) {
			t.Errorf("%s: %d rows, want one per column (%d)", mode, n, len(cols))
		}
		for _, typ := range []string{"varchar", "bigint", "tinyint", "timestamp", "json", "longtext"} {
			if !checked[typ] {
				t.Errorf("%s: no %s column checked", mode, typ)
			}
		}
	}
}
