"""PyMySQL, SQLAlchemy's inspector and pandas against a running stripesql
(the demo). Run by clients/run; STRIPESQL_PORT names the server's port.
Exits non-zero on the first failed check."""

import datetime
import decimal
import os
import sys

import pandas
import pymysql
from sqlalchemy import create_engine, inspect, text

HOST = os.environ.get("STRIPESQL_HOST", "127.0.0.1")
PORT = int(os.environ["STRIPESQL_PORT"])


def check(cond, what):
    if not cond:
        print("FAIL python: " + what, file=sys.stderr)
        sys.exit(1)


def stripe_requests(cur):
    """The server's total of Stripe requests (SHOW STATUS makes none)."""
    cur.execute("SHOW GLOBAL STATUS LIKE 'Stripe_requests'")
    return int(cur.fetchone()[1])


conn = pymysql.connect(host=HOST, port=PORT, user="root", database="stripe")
cur = conn.cursor()

# Rows and types through PyMySQL.
cur.execute("SELECT Id, Amount, Currency, Created, Paid FROM Charges ORDER BY Id")
rows = cur.fetchall()
check(len(rows) > 10, "charges: %d rows" % len(rows))
check(all(r[0].startswith("ch_") for r in rows), "charge ids")
check(all(isinstance(r[1], int) for r in rows), "Amount is int")
check(all(isinstance(r[3], datetime.datetime) for r in rows), "Created is datetime")
expected = sum(decimal.Decimal(r[1]) for r in rows)

# Exact money aggregates: Decimal, equal to the sum of the rows.
cur.execute("SELECT SUM(Amount), AVG(Amount), SUM(Amount)/100 FROM Charges")
s, a, dollars = cur.fetchone()
check(isinstance(s, decimal.Decimal) and s == expected, "SUM(Amount) = %r, want Decimal %s" % (s, expected))
want_avg = (expected / len(rows)).quantize(decimal.Decimal("0.0001"), rounding=decimal.ROUND_HALF_UP)
check(isinstance(a, decimal.Decimal) and a == want_avg, "AVG(Amount) = %r, want %s" % (a, want_avg))
check(dollars == expected / 100, "SUM(Amount)/100 = %r" % dollars)
types = {d[0]: d[1] for d in cur.description}
check(types["SUM(Amount)"] == pymysql.constants.FIELD_TYPE.NEWDECIMAL, "SUM type code %r" % types)

# Server-side parameters (PyMySQL interpolates client-side; the value still
# reaches the pushed-down filter).
cur.execute("SELECT Id, Currency FROM Charges WHERE Id = %s", (rows[0][0],))
check(cur.fetchall() == ((rows[0][0], rows[0][2]),), "lookup by id")

# Metadata through SQLAlchemy's inspector: zero Stripe calls.
before = stripe_requests(cur)
engine = create_engine("mysql+pymysql://root@%s:%d/stripe" % (HOST, PORT))
insp = inspect(engine)
tables = insp.get_table_names()
check("Invoices" in tables and "Customers" in tables, "tables %s" % tables)
fks = insp.get_foreign_keys("Invoices")
check(any(fk["constrained_columns"] == ["CustomerId"] and fk["referred_table"] == "Customers"
          and fk["referred_columns"] == ["Id"] for fk in fks), "Invoices foreign keys %s" % fks)
check(insp.get_pk_constraint("Invoices")["constrained_columns"] == ["Id"], "Invoices primary key")
cols = {c["name"]: str(c["type"]) for c in insp.get_columns("Charges")}
check(cols.get("Amount") == "BIGINT" and cols.get("Created") in ("TIMESTAMP", "DATETIME"), "Charges columns %s" % cols)
for t in tables:
    insp.get_columns(t)
    insp.get_foreign_keys(t)
    insp.get_indexes(t)
after = stripe_requests(cur)
check(after == before, "metadata made %d Stripe requests" % (after - before))

# pandas: money as Decimal (coerce_float=False keeps the driver's
# Decimal; pandas' default turns every Decimal into float64),
# timestamps as datetime64.
with engine.connect() as c:
    df = pandas.read_sql(text("SELECT Id, Amount, Created FROM Charges"), c)
    check(str(df["Created"].dtype).startswith("datetime64"), "Created dtype %s" % df["Created"].dtype)
    check(str(df["Amount"].dtype) == "int64", "Amount dtype %s" % df["Amount"].dtype)
    agg = pandas.read_sql(text("SELECT Currency, SUM(Amount) AS total, AVG(Amount) AS mean FROM Charges GROUP BY Currency"),
                          c, coerce_float=False)
    check(agg["total"].dtype == object and all(isinstance(v, decimal.Decimal) for v in agg["total"]),
          "SUM dtype %s, values %r" % (agg["total"].dtype, list(agg["total"])))
    check(sum(agg["total"]) == expected, "per-currency sums add up to %s" % expected)

# MySQL's error codes (issue 16): PyMySQL raises ProgrammingError for a
# syntax error and an unknown table, and the codes are MySQL's.
for query, code, cls in [("SELECT Nope FROM Charges", 1054, pymysql.err.OperationalError),
                         ("SELEC 1", 1064, pymysql.err.ProgrammingError),
                         ("SELECT * FROM NoSuchTable", 1146, pymysql.err.ProgrammingError)]:
    try:
        cur.execute(query)
        check(False, "%s did not fail" % query)
    except pymysql.err.MySQLError as e:
        check(type(e) is cls and e.args[0] == code, "%s: %s %r, want %s %d" % (query, type(e).__name__, e.args, cls.__name__, code))

# tinyint(1) is sent with display width 1 (PyMySQL's internal_size).
cur.execute("SELECT Livemode, Paid FROM Charges LIMIT 1")
check([d[3] for d in cur.description] == [1, 1], "tinyint(1) widths %r" % (cur.description,))

# ORM inserts (issue 16): Id NULL means Stripe assigns it; RETURNING gives
# it back, and the SQLAlchemy 1.4 ORM gets it in flush() through the
# README's after_insert event reading stripe_last_insert_id().
cur.execute("INSERT INTO Customers (Id, Name) VALUES (NULL, 'orm null id') RETURNING Id")
new_id = cur.fetchone()[0]
check(new_id.startswith("cus_"), "INSERT Id NULL RETURNING gave %r" % (new_id,))
conn.commit()

import sqlalchemy as sa
from sqlalchemy.orm import Session, declarative_base
from sqlalchemy.orm.attributes import set_committed_value

Base = declarative_base()


class Customer(Base):
    __tablename__ = "Customers"
    Id = sa.Column(sa.String(255), primary_key=True)
    Name = sa.Column(sa.String(255))


@sa.event.listens_for(Base, "after_insert", propagate=True)
def stripe_id(mapper, connection, target):
    if target.Id is None:
        set_committed_value(target, "Id", connection.execute(text("SELECT stripe_last_insert_id()")).scalar())


with Session(engine) as session:
    customer = Customer(Name="from the ORM")
    session.add(customer)
    session.flush()
    check(customer.Id is not None and customer.Id.startswith("cus_"), "ORM flush gave Id %r" % customer.Id)
    session.commit()
    check(session.get(Customer, customer.Id).Name == "from the ORM", "ORM reads back %s" % customer.Id)
orm_id = customer.Id

print("ok python: PyMySQL %s, SQLAlchemy inspector, pandas %s: %d charges, SUM %s, AVG %s, %d foreign keys on Invoices, %d tables inspected at 0 Stripe calls; Id NULL RETURNING %s, ORM flush %s"
      % (pymysql.__version__, pandas.__version__, len(rows), s, a, len(fks), len(tables), new_id, orm_id))
