package server

import (
	"fmt"
	"time"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"
)

// ServerVersion is the version stripesql reports in the handshake banner,
// in @@version and in VERSION(). It keeps the MySQL 8.0 prefix GMS emulates
// so that clients choosing features by version keep working.
const ServerVersion = "8.0.31-stripesql"

// VersionComment is @@version_comment, which the mysql client prints after
// the server version in its banner. ASCII only: clients show it in whatever
// character set they happen to negotiate.
const VersionComment = "stripesql - Stripe over MySQL"

// noFileAccess is the value of @@secure_file_priv. GMS's default, "", lets
// any client read and write the server's files (LOAD_FILE, LOAD DATA
// INFILE, SELECT ... INTO OUTFILE) with the server's permissions, and
// GMS has no value meaning "none". A directory that cannot exist, because
// its parent is not a directory, makes every such access fail.
// LOAD DATA LOCAL INFILE reads the client's files and is unaffected.
const noFileAccess = "/dev/null/stripesql-file-access-disabled"

// setGlobalVariables sets the system variables stripesql changes from
// GMS's defaults: @@version and @@version_comment ("8.0.31" and "Dolt"
// there) and @@secure_file_priv, and adds @@have_ssl (YES with TLS,
// DISABLED without), which clients and tools read to tell whether the
// server offers TLS, and sets max_execution_time to the configured one.
//
// GMS keeps system variables in a process-wide registry
// (sql.SystemVariables) and copies it into each new session, so this is the
// one place stripesql writes to GMS's global state. The values are
// constants, so servers created concurrently in one process agree on them.
func setGlobalVariables(tls bool, maxExecutionTime time.Duration) error {
	haveSSL := "DISABLED"
	if tls {
		haveSSL = "YES"
	}
	if _, _, ok := sql.SystemVariables.GetGlobal("have_ssl"); !ok {
		sql.SystemVariables.AddSystemVariables([]sql.SystemVariable{&sql.MysqlSystemVariable{
			Name: "have_ssl", Scope: sql.GetMysqlScope(sql.SystemVariableScope_Global),
			Type: types.NewSystemStringType("have_ssl"), Default: haveSSL,
		}})
	}
	err := sql.SystemVariables.AssignValues(map[string]any{
		"have_ssl":           haveSSL,
		"max_execution_time": maxExecutionTime.Milliseconds(),
		"version":            ServerVersion,
		"version_comment":    VersionComment,
		"secure_file_priv":   noFileAccess,
	})
	if err != nil {
		return fmt.Errorf("set system variables: %w", err)
	}
	return nil
}
