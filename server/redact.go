package server

import "regexp"

// passwordLiteral finds the string literals of SQL that carry a password:
//
//	CREATE USER / ALTER USER ... IDENTIFIED [WITH plugin] BY 'pw' | AS 'hash'
//	ALTER USER ... REPLACE 'current'
//	SET PASSWORD [FOR u] = 'pw', PASSWORD('pw')
//
// A literal cut off by truncation (no closing quote) is matched to the
// end, so a shortened log line cannot leak its start either.
var passwordLiteral = regexp.MustCompile(`(?is)(\bIDENTIFIED\s+(?:WITH\s+\S+\s+)?(?:BY|AS)\s*|\bREPLACE\s+|\bPASSWORD\s*\(\s*|\bSET\s+PASSWORD\b[^=]*=\s*)` +
	`(?:'(?:[^'\\]|\\.|'')*(?:'|$)|"(?:[^"\\]|\\.|"")*(?:"|$))`)

// mentionsPassword is a cheap filter: statements without these words
// (nearly all) skip the expensive expression.
var mentionsPassword = regexp.MustCompile(`(?i)identified|password|replace`)

// RedactPasswords replaces the passwords in SQL text with '***': for log
// lines and the process list. Other text is returned unchanged.
func RedactPasswords(s string) string {
	if !mentionsPassword.MatchString(s) {
		return s
	}
	return passwordLiteral.ReplaceAllString(s, "$1'***'")
}
