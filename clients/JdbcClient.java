// MariaDB Connector/J against a running stripesql (the demo). Run by
// clients/run as a single-file program: java -cp mariadb-java-client.jar
// JdbcClient.java. STRIPESQL_PORT names the server's port. Exits non-zero
// on the first failed check.

import java.math.BigDecimal;
import java.sql.*;
import java.util.*;

public class JdbcClient {
    static void check(boolean ok, String what) {
        if (!ok) {
            System.err.println("FAIL jdbc: " + what);
            System.exit(1);
        }
    }

    static long stripeRequests(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet r = s.executeQuery("SHOW GLOBAL STATUS LIKE 'Stripe_requests'")) {
            r.next();
            return Long.parseLong(r.getString(2));
        }
    }

    public static void main(String[] args) throws Exception {
        String host = Optional.ofNullable(System.getenv("STRIPESQL_HOST")).orElse("127.0.0.1");
        String url = "jdbc:mariadb://" + host + ":" + System.getenv("STRIPESQL_PORT")
                + "/stripe?user=root&useServerPrepStmts=true";
        try (Connection c = DriverManager.getConnection(url)) {
            // Rows, and exact money as BigDecimal.
            BigDecimal expected = BigDecimal.ZERO;
            int n = 0;
            String firstId = null;
            try (Statement s = c.createStatement(); ResultSet r = s.executeQuery("SELECT Id, Amount, Created FROM Charges ORDER BY Id")) {
                while (r.next()) {
                    if (firstId == null) firstId = r.getString(1);
                    check(r.getObject(2) instanceof Long, "Amount is " + r.getObject(2).getClass());
                    check(r.getObject(3) instanceof Timestamp, "Created is " + r.getObject(3).getClass());
                    expected = expected.add(BigDecimal.valueOf(r.getLong(2)));
                    n++;
                }
            }
            check(n > 10, n + " charges");
            BigDecimal sum, avg;
            try (Statement s = c.createStatement(); ResultSet r = s.executeQuery("SELECT SUM(Amount), AVG(Amount) FROM Charges")) {
                r.next();
                check(r.getObject(1) instanceof BigDecimal, "SUM is " + r.getObject(1).getClass());
                check(r.getObject(2) instanceof BigDecimal, "AVG is " + r.getObject(2).getClass());
                sum = r.getBigDecimal(1);
                avg = r.getBigDecimal(2);
                check(r.getMetaData().getColumnType(1) == Types.DECIMAL, "SUM column type " + r.getMetaData().getColumnTypeName(1));
            }
            check(sum.compareTo(expected) == 0, "SUM " + sum + ", want " + expected);
            BigDecimal wantAvg = expected.divide(BigDecimal.valueOf(n), 4, java.math.RoundingMode.HALF_UP);
            check(avg.equals(wantAvg), "AVG " + avg + ", want " + wantAvg);

            // Server-side prepared statement with parameters (binary protocol).
            try (PreparedStatement p = c.prepareStatement("SELECT Id, Amount FROM Charges WHERE Id = ? AND Amount >= ?")) {
                p.setString(1, firstId);
                p.setLong(2, 0);
                try (ResultSet r = p.executeQuery()) {
                    check(r.next() && r.getString(1).equals(firstId), "prepared lookup of " + firstId);
                    check(!r.next(), "one row");
                }
                p.setString(1, "ch_missing");
                try (ResultSet r = p.executeQuery()) {
                    check(!r.next(), "no row for a missing id");
                }
            }

            // Metadata: tables, columns, keys; zero Stripe calls.
            long before = stripeRequests(c);
            DatabaseMetaData md = c.getMetaData();
            Set<String> tables = new TreeSet<>();
            try (ResultSet r = md.getTables("stripe", null, "%", new String[]{"TABLE"})) {
                while (r.next()) tables.add(r.getString("TABLE_NAME"));
            }
            check(tables.contains("Invoices") && tables.contains("Customers"), "tables " + tables);
            Map<String, Integer> cols = new HashMap<>();
            try (ResultSet r = md.getColumns("stripe", null, "Charges", "%")) {
                while (r.next()) cols.put(r.getString("COLUMN_NAME"), r.getInt("DATA_TYPE"));
            }
            check(cols.get("Amount") == Types.BIGINT, "Charges.Amount type " + cols.get("Amount"));
            check(cols.get("Created") == Types.TIMESTAMP, "Charges.Created type " + cols.get("Created"));
            try (ResultSet r = md.getPrimaryKeys("stripe", null, "Invoices")) {
                check(r.next() && r.getString("COLUMN_NAME").equals("Id"), "Invoices primary key");
            }
            boolean found = false;
            int imported = 0;
            try (ResultSet r = md.getImportedKeys("stripe", null, "Invoices")) {
                while (r.next()) {
                    imported++;
                    found |= r.getString("FKCOLUMN_NAME").equals("CustomerId")
                            && r.getString("PKTABLE_NAME").equals("Customers")
                            && r.getString("PKCOLUMN_NAME").equals("Id");
                }
            }
            check(found, "getImportedKeys(Invoices) lacks CustomerId -> Customers.Id (" + imported + " keys)");
            int exported = 0;
            try (ResultSet r = md.getExportedKeys("stripe", null, "Customers")) {
                while (r.next()) exported += r.getString("FKTABLE_NAME").equals("Invoices") ? 1 : 0;
            }
            check(exported >= 1, "getExportedKeys(Customers) lacks Invoices");
            for (String t : tables) {
                try (ResultSet r = md.getColumns("stripe", null, t, "%")) { while (r.next()) { } }
                try (ResultSet r = md.getImportedKeys("stripe", null, t)) { while (r.next()) { } }
            }
            long after = stripeRequests(c);
            check(after == before, "metadata made " + (after - before) + " Stripe requests");

            // tinyint(1) is a boolean to Connector/J (issue 16): the column is
            // sent with display width 1, in both protocols.
            try (Statement s = c.createStatement(); ResultSet r = s.executeQuery("SELECT Livemode, Paid FROM Charges LIMIT 1")) {
                check(r.next(), "no charge");
                check(r.getObject(1) instanceof Boolean, "Livemode is " + r.getObject(1).getClass());
                check(r.getMetaData().getColumnType(2) == Types.BOOLEAN || r.getMetaData().getColumnType(2) == Types.BIT,
                        "Paid column type " + r.getMetaData().getColumnTypeName(2));
            }
            try (PreparedStatement p = c.prepareStatement("SELECT Paid FROM Charges WHERE Amount >= ? LIMIT 1");) {
                p.setLong(1, 0);
                try (ResultSet r = p.executeQuery()) {
                    check(r.next() && r.getObject(1) instanceof Boolean, "prepared Paid is not a Boolean");
                }
            }
            // MySQL's error codes and SQLSTATEs reach JDBC's exceptions.
            String[][] errs = {{"SELECT Nope FROM Charges", "1054", "42S22"}, {"SELEC 1", "1064", "42000"},
                    {"SELECT * FROM NoSuchTable", "1146", "42S02"}};
            for (String[] e : errs) {
                try (Statement s = c.createStatement()) {
                    s.executeQuery(e[0]);
                    check(false, e[0] + " did not fail");
                } catch (SQLException ex) {
                    check(String.valueOf(ex.getErrorCode()).equals(e[1]) && e[2].equals(ex.getSQLState()),
                            e[0] + ": " + ex.getErrorCode() + " (" + ex.getSQLState() + "), want " + e[1] + " (" + e[2] + ")");
                }
            }

            // Statement.RETURN_GENERATED_KEYS: Connector/J 2.7 builds
            // getGeneratedKeys() from the OK packet's integer id only (0 here:
            // it cannot carry cus_…), so it is empty; the id is read on the
            // same connection with stripe_last_insert_id(), or with RETURNING
            // below (the README's pattern).
            try (Statement s = c.createStatement()) {
                int n1 = s.executeUpdate("INSERT INTO Customers (Name) VALUES ('Keys from JDBC')", Statement.RETURN_GENERATED_KEYS);
                check(n1 == 1, "generated-keys insert count " + n1);
                try (ResultSet k = s.getGeneratedKeys()) {
                    check(!k.next(), "getGeneratedKeys() has a row: the README says it is empty");
                }
                try (ResultSet r = s.executeQuery("SELECT stripe_last_insert_id()")) {
                    check(r.next() && r.getString(1).startsWith("cus_"), "stripe_last_insert_id() after RETURN_GENERATED_KEYS");
                }
            }
            // A write with RETURNING, through a server-side prepared statement.
            try (PreparedStatement p = c.prepareStatement("INSERT INTO Customers (Name, Email) VALUES (?, ?) RETURNING Id, Name, Created")) {
                p.setString(1, "From JDBC");
                p.setString(2, "jdbc@example.test");
                try (ResultSet r = p.executeQuery()) {
                    check(r.next(), "RETURNING gave no row");
                    check(r.getString(1).startsWith("cus_"), "new id " + r.getString(1));
                    check(r.getString(2).equals("From JDBC"), "returned name " + r.getString(2));
                    check(r.getTimestamp(3) != null, "returned Created");
                    System.out.println("ok jdbc: MariaDB Connector/J " + md.getDriverVersion() + ": " + n + " charges, SUM " + sum
                            + " AVG " + avg + " (BigDecimal), " + imported + " imported keys on Invoices, " + tables.size()
                            + " tables at 0 Stripe calls, prepared lookups, INSERT RETURNING " + r.getString(1));
                }
            }
        }
    }
}
