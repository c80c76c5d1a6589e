-- Statements BI tools and SQL clients send when they connect and when they
-- sync metadata, replayed against the demo by e2e/bi_queries_test.go.
--
-- Format: a "-- tool:" line names who sends the statements that follow; each
-- statement ends with ";" at the end of a line. "-- calls: 0" before a
-- statement says it must cost no Stripe call (every metadata statement);
-- "-- calls: any" marks a data query (a Grafana panel). "-- rows: N" says it
-- must return at least N rows.
--
-- Grafana's time macros are shown expanded, the way its MySQL data source
-- sends them: $__timeFilter(Created) becomes Created BETWEEN
-- FROM_UNIXTIME(from) AND FROM_UNIXTIME(to), $__timeGroupAlias(Created,1h)
-- becomes UNIX_TIMESTAMP(Created) DIV 3600 * 3600 AS "time",
-- $__unixEpochFilter(col) col >= from AND col <= to.

-- tool: Metabase (MariaDB Connector/J, then its MySQL driver's sync)
-- calls: 0
SELECT @@session.time_zone, @@system_time_zone;
-- calls: 0
SELECT @@GLOBAL.time_zone, @@system_time_zone, time_format(timediff(now(), convert_tz(now(), @@GLOBAL.time_zone, '+00:00')), '%H:%i') AS 'offset';
-- calls: 0
SHOW GRANTS FOR CURRENT_USER();
-- calls: 0
-- rows: 1
SELECT TABLE_SCHEMA, TABLE_NAME, TABLE_TYPE, TABLE_COMMENT FROM information_schema.TABLES WHERE TABLE_SCHEMA = 'stripe';
-- calls: 0
-- rows: 1
SELECT c.TABLE_NAME, c.COLUMN_NAME, c.DATA_TYPE, c.COLUMN_TYPE, c.ORDINAL_POSITION, c.COLUMN_KEY = 'PRI' AS pk, c.COLUMN_COMMENT, c.IS_NULLABLE FROM information_schema.COLUMNS c WHERE c.TABLE_SCHEMA = 'stripe' ORDER BY c.TABLE_NAME, c.ORDINAL_POSITION;
-- calls: 0
-- rows: 1
SELECT kcu.TABLE_NAME AS fk_table, kcu.COLUMN_NAME AS fk_column, kcu.REFERENCED_TABLE_NAME AS pk_table, kcu.REFERENCED_COLUMN_NAME AS pk_column FROM information_schema.KEY_COLUMN_USAGE kcu WHERE kcu.TABLE_SCHEMA = 'stripe' AND kcu.REFERENCED_TABLE_NAME IS NOT NULL;
-- calls: 0
SELECT TABLE_NAME, PRIVILEGE_TYPE FROM information_schema.TABLE_PRIVILEGES WHERE TABLE_SCHEMA = 'stripe';
-- calls: 0
SET SESSION TRANSACTION READ ONLY;
-- calls: 0
SET SESSION TRANSACTION READ WRITE;
-- calls: 0
SHOW FULL TABLES FROM `stripe` LIKE '%';

-- tool: Grafana (MySQL data source: connection test, query editor, panels)
-- calls: 0
SELECT 1;
-- calls: 0
-- rows: 1
SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE() ORDER BY table_name;
-- calls: 0
-- rows: 1
SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = 'Charges' ORDER BY column_name;
-- calls: any
SELECT UNIX_TIMESTAMP(Created) DIV 3600 * 3600 AS "time", SUM(Amount) / 100 AS revenue FROM Charges WHERE Created BETWEEN FROM_UNIXTIME(1577836800) AND FROM_UNIXTIME(1924992000) GROUP BY 1 ORDER BY 1;
-- calls: any
-- rows: 1
SELECT Created AS "time", Amount FROM Charges WHERE UNIX_TIMESTAMP(Created) >= 1577836800 AND UNIX_TIMESTAMP(Created) <= 1924992000 ORDER BY Created;

-- tool: DBeaver (MySQL driver connect, then the navigator)
-- calls: 0
SELECT @@GLOBAL.character_set_server, @@GLOBAL.collation_server, @@GLOBAL.lower_case_table_names;
-- calls: 0
SHOW VARIABLES LIKE 'lower_case_table_names';
-- calls: 0
SELECT DATABASE();
-- calls: 0
SHOW ENGINES;
-- calls: 0
SHOW CHARSET;
-- calls: 0
SHOW COLLATION;
-- calls: 0
SHOW PLUGINS;
-- calls: 0
-- rows: 1
SELECT * FROM information_schema.SCHEMATA;
-- calls: 0
-- rows: 1
SHOW FULL TABLES FROM `stripe`;
-- calls: 0
-- rows: 1
SHOW TABLE STATUS FROM `stripe`;
-- calls: 0
-- rows: 1
SELECT * FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = 'stripe' AND TABLE_NAME = 'Invoices' ORDER BY ORDINAL_POSITION;
-- calls: 0
-- rows: 1
SHOW INDEX FROM `stripe`.`Invoices`;
-- calls: 0
-- rows: 1
SELECT kc.CONSTRAINT_NAME, kc.TABLE_NAME, kc.COLUMN_NAME, kc.ORDINAL_POSITION, kc.REFERENCED_TABLE_SCHEMA, kc.REFERENCED_TABLE_NAME, kc.REFERENCED_COLUMN_NAME, rc.UPDATE_RULE, rc.DELETE_RULE FROM information_schema.KEY_COLUMN_USAGE kc JOIN information_schema.REFERENTIAL_CONSTRAINTS rc ON rc.CONSTRAINT_SCHEMA = kc.CONSTRAINT_SCHEMA AND rc.CONSTRAINT_NAME = kc.CONSTRAINT_NAME WHERE kc.TABLE_SCHEMA = 'stripe' AND kc.TABLE_NAME = 'Invoices' ORDER BY kc.CONSTRAINT_NAME, kc.ORDINAL_POSITION;
-- calls: 0
SELECT * FROM information_schema.TABLE_CONSTRAINTS WHERE TABLE_SCHEMA = 'stripe' AND TABLE_NAME = 'Invoices';
-- calls: 0
SELECT * FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = 'stripe';
-- calls: 0
SELECT * FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = 'stripe';
-- calls: 0
SHOW FULL PROCESSLIST;
-- calls: 0
SHOW STATUS;
-- calls: 0
SHOW CREATE TABLE `stripe`.`Invoices`;

-- The SQL tools generate that go-mysql-server did not take (issue 16).
-- "-- first: X" says the first column of the first row, as text, must be
-- X; "-- rows: none" that there must be no row. (Doubles printed in full are
-- checked through the mysql CLI in clients/cli.sh: the replay's Go driver
-- parses doubles before the test sees their text.)

-- tool: Metabase 0.47 (MySQL driver: week and year truncation, window functions in custom expressions)
-- calls: 0
-- first: 2020-03-01
SELECT str_to_date(concat(yearweek('2020-03-04'), ' Sunday'), '%X%V %W');
-- calls: 0
-- first: 2020-01-01
SELECT makedate(year('2020-03-04'), 1);
-- calls: any
-- rows: 1
SELECT str_to_date(concat(yearweek(`Charges`.`Created`), ' Sunday'), '%X%V %W') AS `Created`, count(*) AS `count` FROM `Charges` GROUP BY str_to_date(concat(yearweek(`Charges`.`Created`), ' Sunday'), '%X%V %W') ORDER BY str_to_date(concat(yearweek(`Charges`.`Created`), ' Sunday'), '%X%V %W') ASC;
-- calls: any
-- rows: 1
SELECT makedate(year(`Charges`.`Created`), 1) AS `Created`, sum(`Charges`.`Amount`) AS `sum` FROM `Charges` GROUP BY makedate(year(`Charges`.`Created`), 1) ORDER BY makedate(year(`Charges`.`Created`), 1) ASC;
-- calls: any
-- rows: 1
SELECT `Id`, CUME_DIST() OVER (ORDER BY `Amount`) AS `cd`, PERCENT_RANK() OVER (ORDER BY `Amount`) AS `pr` FROM `Charges`;

-- tool: Metabase 0.47 (a question's "show totals": WITH ROLLUP; expected rows checked by e2e/rollup_test.go)
-- calls: any
-- rows: 3
SELECT makedate(year(`Charges`.`Created`), 1) AS `Created`, sum(`Charges`.`Amount`) AS `sum` FROM `Charges` GROUP BY makedate(year(`Charges`.`Created`), 1) WITH ROLLUP ORDER BY makedate(year(`Charges`.`Created`), 1) ASC;

-- tool: Tableau 2023.3 (MariaDB ODBC 3.1: ODBC escape sequences)
-- calls: 0
-- first: 2020
SELECT {fn YEAR({d '2020-03-04'})};
-- calls: 0
-- first: 2020-01-02 03:04:05
SELECT {ts '2020-01-02 03:04:05'};
-- calls: 0
-- first: AB
SELECT {fn UCASE({fn CONCAT('a', 'b')})};

-- tool: mycli 1.26 (completion refresher at start-up)
-- calls: 0
-- rows: none
SELECT name from mysql.help_topic WHERE name like "SHOW %";

-- tool: mysql client (MariaDB 10.11 mysql command: help select)
-- calls: 0
-- rows: none
help 'select';

-- tool: DBeaver 23.3 (plan view)
-- calls: 0
-- rows: 1
EXPLAIN FORMAT=JSON SELECT `Id`, `Email` FROM `Customers` WHERE `Id` = 'cus_x';

-- tool: Tableau 2023.3 (MariaDB ODBC 3.1: connection test and extract staging in a temporary table)
-- calls: 0
CREATE TEMPORARY TABLE `#Tableau_1_Connect` (`COL` INT);
-- calls: 0
INSERT INTO `#Tableau_1_Connect` VALUES (1), (2);
-- calls: 0
-- first: 2
SELECT COUNT(*) FROM `#Tableau_1_Connect`;
-- calls: 0
DROP TEMPORARY TABLE `#Tableau_1_Connect`;

-- tool: MariaDB Connector/J 2.7 and mysql2 3.x (connection set-up with a collation)
-- calls: 0
SET NAMES utf8mb4 COLLATE utf8mb4_unicode_ci;
-- calls: 0
-- first: utf8mb4_unicode_ci
SELECT @@collation_connection;
