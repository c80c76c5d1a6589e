package server

import (
	"strings"
	"testing"
)

func TestRedactPasswords(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"CREATE USER 'bob'@'%' IDENTIFIED BY 'hunter2'", "CREATE USER 'bob'@'%' IDENTIFIED BY '***'"},
		{"create user bob identified with caching_sha2_password by \"hu'nter2\"", "create user bob identified with caching_sha2_password by '***'"},
		{"ALTER USER bob IDENTIFIED BY 'new''pw' REPLACE 'old\\'pw'", "ALTER USER bob IDENTIFIED BY '***' REPLACE '***'"},
		{"SET PASSWORD FOR 'bob'@'%' = 'hunter2'", "SET PASSWORD FOR 'bob'@'%' = '***'"},
		{"SET PASSWORD = PASSWORD('hunter2')", "SET PASSWORD = PASSWORD('***')"},
		{"CREATE USER bob IDENTIFIED WITH mysql_native_password AS '*ABCDEF'", "CREATE USER bob IDENTIFIED WITH mysql_native_password AS '***'"},
		{"CREATE USER bob IDENTIFIED BY 'cut off hunt", "CREATE USER bob IDENTIFIED BY '***'"},
		{"SELECT REPLACE(name, 'a', 'b') FROM t", "SELECT REPLACE(name, 'a', 'b') FROM t"},
	} {
		if got := RedactPasswords(c.in); got != c.want {
			t.Errorf("RedactPasswords(%q) = %q, want %q", c.in, got, c.want)
		}
		if strings.Contains(RedactPasswords(c.in), "hunter2") {
			t.Errorf("%q still shows the password", c.in)
		}
	}
}
