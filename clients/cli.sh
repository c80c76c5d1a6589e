#!/usr/bin/env bash
# Checks through a command-line client ($1: mysql or mycli) against the
# server at STRIPESQL_HOST:STRIPESQL_PORT: exact money aggregates printed in
# full, foreign keys in SHOW CREATE TABLE, metadata at zero Stripe calls.
set -euo pipefail
client=$1
fail() {
	echo "FAIL $client: $*" >&2
	exit 1
}
# q runs one statement and prints its rows, tab-separated, without headers.
q() {
	case $client in
	mysql) mysql -h "$STRIPESQL_HOST" -P "$STRIPESQL_PORT" -u root --batch --skip-column-names stripe -e "$1" ;;
	# mycli prints a header line in batch mode; its state goes to a
	# throw-away HOME.
	mycli) HOME=$mycli_home mycli -h "$STRIPESQL_HOST" -P "$STRIPESQL_PORT" -u root -D stripe -e "$1" | tail -n +2 ;;
	esac
}
mycli_home=$(mktemp -d)
trap 'rm -rf "$mycli_home"' EXIT

amounts=$(q "SELECT Amount FROM Charges")
n=$(printf '%s\n' "$amounts" | wc -l)
want=$(printf '%s\n' "$amounts" | awk '{s += $1} END {printf "%d", s}')
read -r sum avg dollars < <(q "SELECT SUM(Amount), AVG(Amount), SUM(Amount)/100 FROM Charges")
[ "$sum" = "$want" ] || fail "SUM(Amount) printed $sum, want $want"
[[ $avg =~ ^[0-9]+\.[0-9]{4}$ ]] || fail "AVG(Amount) printed $avg, want a DECIMAL with 4 decimals"
[[ $dollars =~ ^[0-9]+\.[0-9]{4}$ ]] || fail "SUM(Amount)/100 printed $dollars"

before=$(q "SHOW GLOBAL STATUS LIKE 'Stripe_requests'" | cut -f2)
create=$(q "SHOW CREATE TABLE Invoices")
[[ $create == *'FOREIGN KEY (`CustomerId`) REFERENCES `Customers` (`Id`)'* ]] || fail "SHOW CREATE TABLE Invoices has no foreign key to Customers"
fks=$(q "SELECT COUNT(*) FROM information_schema.REFERENTIAL_CONSTRAINTS WHERE CONSTRAINT_SCHEMA = 'stripe'")
[ "$fks" -gt 10 ] || fail "$fks REFERENTIAL_CONSTRAINTS"
q "SHOW FULL COLUMNS FROM Charges" >/dev/null
after=$(q "SHOW GLOBAL STATUS LIKE 'Stripe_requests'" | cut -f2)
[ "$before" = "$after" ] || fail "metadata made $((after - before)) Stripe requests"

# Doubles in full below 1e15, as MySQL prints them (issue 16); mycli
# prints PyMySQL's float, so only the mysql CLI shows the server's text.
if [ "$client" = mysql ]; then
	doubles=$(q "SELECT 1107900e0, CAST(SUM(Amount) AS DOUBLE) * 0 + 1107900, 1e15, 0.00001e0 FROM Charges")
	[ "$doubles" = $'1107900\t1107900\t1e15\t0.00001' ] || fail "doubles printed as $doubles"
	err=$(q "SELECT Nope FROM Charges" 2>&1 || true)
	[[ $err == *"ERROR 1054 (42S22)"* ]] || fail "unknown column gave $err"
fi

echo "ok $client: $n charges, SUM $sum, AVG $avg, SUM/100 $dollars; $fks foreign keys, metadata at 0 Stripe calls"
