"""MariaDB Connector/ODBC (the driver Tableau, Power BI and Excel use)
through pyodbc against a running stripesql (the demo): the catalog calls a
BI tool makes when it lists tables and columns (SQLTables, SQLColumns,
whose query assigns user variables with :=, sent as a server-side prepared
statement), at no Stripe call, and a query with ODBC escapes. Run by
clients/run; STRIPESQL_PORT names the server's port. Exits non-zero on the
first failed check."""

import os
import sys

import pyodbc

HOST = os.environ.get("STRIPESQL_HOST", "127.0.0.1")
PORT = int(os.environ["STRIPESQL_PORT"])

# ODBC's SQL data types.
SQL_WVARCHAR, SQL_BIGINT, SQL_TINYINT, SQL_TYPE_TIMESTAMP = -9, -5, -6, 93


def check(cond, what):
    if not cond:
        print("FAIL odbc: " + what, file=sys.stderr)
        sys.exit(1)


def stripe_requests(cur):
    cur.execute("SHOW GLOBAL STATUS LIKE 'Stripe_requests'")
    return int(cur.fetchone()[1])


conn = pyodbc.connect(
    "DRIVER={MariaDB Unicode};SERVER=%s;PORT=%d;DATABASE=stripe;UID=root;PWD=" % (HOST, PORT)
)
driver = conn.getinfo(pyodbc.SQL_DRIVER_VER)
cur = conn.cursor()
before = stripe_requests(cur)

tables = [r.table_name for r in cur.tables(catalog="stripe", tableType="TABLE").fetchall()]
check("Customers" in tables and "Charges" in tables, "SQLTables: %r" % tables[:5])

cols = {r.column_name: r for r in cur.columns(table="Customers", catalog="stripe").fetchall()}
cur.execute("SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = 'stripe' AND TABLE_NAME = 'Customers'")
want = cur.fetchone()[0]
check(len(cols) == want, "SQLColumns(Customers): %d columns, want %d" % (len(cols), want))
for name, data_type, size, octets in [
    ("Id", SQL_WVARCHAR, 255, 1020),
    ("Balance", SQL_BIGINT, 19, 3),
    ("Livemode", SQL_TINYINT, 3, 1),
    ("Created", SQL_TYPE_TIMESTAMP, 19, None),
]:
    c = cols.get(name)
    check(c is not None, "SQLColumns has no %s" % name)
    got = (c.data_type, c.column_size, c.char_octet_length)
    check(got == (data_type, size, octets), "SQLColumns %s: DATA_TYPE, COLUMN_SIZE, CHAR_OCTET_LENGTH = %r, want %r" % (name, got, (data_type, size, octets)))
check(cols["Id"].nullable == 0 and cols["Email"].nullable == 1, "NULLABLE of Id, Email")
check(stripe_requests(cur) == before, "catalog calls made Stripe requests")

cur.execute("SELECT {fn YEAR({d '2020-03-04'})}, {fn UCASE('x')}")
row = cur.fetchone()
check(tuple(row) == (2020, "X"), "ODBC escapes: %r" % (tuple(row),))

print(
    "ok odbc: MariaDB Connector/ODBC %s: SQLTables %d tables, SQLColumns(Customers) %d columns with their ODBC types at 0 Stripe calls, ODBC escapes"
    % (driver, len(tables), len(cols))
)
