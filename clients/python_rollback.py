"""Rollback through PyMySQL and SQLAlchemy, which run with autocommit off:
a rollback after an INSERT keeps the customer (Stripe writes cannot be
undone) and says so with warning 1196 naming it, or fails with 1196 under
SET stripe_rollback = 'error'. Run by clients/run; STRIPESQL_PORT names the
server's port. Exits non-zero on the first failed check."""

import os
import sys

import pymysql
from sqlalchemy import create_engine, text

HOST = os.environ.get("STRIPESQL_HOST", "127.0.0.1")
PORT = int(os.environ["STRIPESQL_PORT"])


def check(cond, what):
    if not cond:
        print("FAIL python rollback: " + what, file=sys.stderr)
        sys.exit(1)


def newest_customer(cur):
    cur.execute("SELECT stripe_last_insert_id()")
    return cur.fetchone()[0]


# PyMySQL: autocommit is off, so the INSERT opens a transaction.
conn = pymysql.connect(host=HOST, port=PORT, user="root", database="stripe")
check(not conn.get_autocommit(), "PyMySQL autocommit is on")
cur = conn.cursor()
cur.execute("INSERT INTO Customers (Name) VALUES ('pymysql rollback')")
cid = newest_customer(cur)
check(cid and cid.startswith("cus_"), "stripe_last_insert_id() = %r" % cid)
conn.rollback()
cur.execute("SHOW WARNINGS")
warnings = cur.fetchall()
check(len(warnings) == 1 and warnings[0][1] == 1196 and ("INSERT Customers " + cid) in warnings[0][2],
      "warnings after conn.rollback() = %r, want 1196 naming %s" % (warnings, cid))
cur.execute("SELECT Name FROM Customers WHERE Id = %s", (cid,))
check(cur.fetchone() == ("pymysql rollback",), "the customer did not stay written")

cur.execute("SET stripe_rollback = 'error'")
cur.execute("INSERT INTO Customers (Name) VALUES ('pymysql rollback error')")
cid = newest_customer(cur)
try:
    conn.rollback()
    check(False, "conn.rollback() succeeded under stripe_rollback = 'error'")
except pymysql.err.MySQLError as e:
    check(e.args[0] == 1196 and cid in e.args[1], "conn.rollback() raised %r, want 1196 naming %s" % (e, cid))
conn.close()

# SQLAlchemy: a Connection's transaction rolled back.
engine = create_engine("mysql+pymysql://root@%s:%d/stripe" % (HOST, PORT))
with engine.connect() as c:
    tx = c.begin()
    c.execute(text("INSERT INTO Customers (Name) VALUES ('sqlalchemy rollback')"))
    cid = c.execute(text("SELECT stripe_last_insert_id()")).scalar()
    tx.rollback()
    warnings = c.execute(text("SHOW WARNINGS")).fetchall()
    check(len(warnings) == 1 and warnings[0][1] == 1196 and cid in warnings[0][2],
          "SQLAlchemy: warnings after rollback = %r, want 1196 naming %s" % (warnings, cid))
print("ok python rollback: PyMySQL and SQLAlchemy rollbacks warn 1196 naming the kept customers")
