package server

import (
	"regexp"
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/vitess/go/mysql"
	"gopkg.in/src-d/go-errors.v1"
)

// go-mysql-server sends many errors as 1105 (ER_UNKNOWN_ERROR) and nearly
// all with SQLSTATE HY000, where MySQL sends a specific code and state.
// Clients act on both: PyMySQL raises ProgrammingError for 1054 and 1064
// but InternalError for 1105, Metabase looks for SQLSTATE 42S02 to tell a
// missing table, JDBC drivers pick SQLException subclasses by state class
// (23 integrity, 42 syntax or access). The engine's error kinds are lost by
// the time an error reaches the wire (GMS turns them into *mysql.SQLError
// inside its handler), so the mapping matches the kinds' message formats.

// errorCode is the MySQL code and SQLSTATE for engine errors whose message
// matches pattern.
type errorCode struct {
	pattern *regexp.Regexp
	code    int
	state   string
}

// kindPattern is a regexp matching the messages of kind: its format with
// every verb standing for any text.
func kindPattern(kind *errors.Kind) *regexp.Regexp {
	parts := strings.Split(kind.Message, "%")
	var b strings.Builder
	b.WriteString("^")
	b.WriteString(regexp.QuoteMeta(parts[0]))
	for _, p := range parts[1:] {
		// Drop the verb letter (%s, %q, %v, %d): what it prints is any text.
		if len(p) > 0 {
			p = p[1:]
		}
		b.WriteString("(?s:.*)")
		b.WriteString(regexp.QuoteMeta(p))
	}
	return regexp.MustCompile(b.String())
}

// unknownErrorCodes replace 1105 for the engine errors clients map.
var unknownErrorCodes = []errorCode{
	{kindPattern(sql.ErrColumnNotFound), mysql.ERBadFieldError, "42S22"},
	{kindPattern(sql.ErrTableColumnNotFound), mysql.ERBadFieldError, "42S22"},
	// The parser's errors reach the wire as their bare text.
	{regexp.MustCompile(`^syntax error at position `), mysql.ERParseError, "42000"},
	{kindPattern(sql.ErrInvalidSyntax), mysql.ERParseError, "42000"},
	{kindPattern(sql.ErrUnsupportedSyntax), mysql.ERParseError, "42000"},
	{kindPattern(sql.ErrFunctionNotFound), mysql.ERSPDoesNotExist, "42000"},
	{kindPattern(sql.ErrAmbiguousColumnName), mysql.ERNonUniq, "23000"},
	{kindPattern(sql.ErrTableAlreadyExists), mysql.ERTableExists, "42S01"},
	{kindPattern(sql.ErrUnknownTable), mysql.ERBadTable, "42S02"},
	{kindPattern(sql.ErrInsertIntoMismatchValueCount), mysql.ERWrongValueCountOnRow, "21S01"},
	{kindPattern(sql.ErrInvalidArgumentNumber), erWrongParamcountToNativeFct, "42000"},
	{kindPattern(sql.ErrNoDatabaseSelected), mysql.ERNoDb, "3D000"},
	{kindPattern(sql.ErrUnknownSystemVariable), mysql.ERUnknownSystemVariable, "HY000"},
}

// sqlStates are MySQL's SQLSTATEs for codes the engine already sends right
// but with HY000 (MySQL's include/mysqld_ername.h).
var sqlStates = map[int]string{
	mysql.ERBadFieldError:           "42S22",
	mysql.ERParseError:              "42000",
	mysql.ERNoSuchTable:             "42S02",
	mysql.ERBadTable:                "42S02",
	mysql.ERTableExists:             "42S01",
	mysql.ERBadDb:                   "42000",
	mysql.ERNoDb:                    "3D000",
	mysql.ERDupEntry:                "23000",
	mysql.ERBadNullError:            "23000",
	mysql.ERNonUniq:                 "23000",
	mysql.ErNoReferencedRow2:        "23000",
	mysql.ERRowIsReferenced2:        "23000",
	mysql.ERSubqueryNo1Row:          "21000",
	mysql.EROperandColumns:          "21000",
	mysql.ERWrongValueCountOnRow:    "21S01",
	mysql.ERFieldSpecifiedTwice:     "42000",
	mysql.ERMixOfGroupFuncAndFields: "42000",
	mysql.ERAccessDeniedError:       "28000",
	mysql.ERDBAccessDenied:          "42000",
	erTableAccessDenied:             "42000",
	mysql.ERSpecifiedAccessDenied:   "42000",
	mysql.ERSPDoesNotExist:          "42000",
	erWrongParamcountToNativeFct:    "42000",
	mysql.ERWrongValueForVar:        "42000",
	mysql.ERWrongTypeForVar:         "42000",
	mysql.ERDataTooLong:             "22001",
	mysql.ERWarnDataOutOfRange:      "22003",
	mysql.ERDataOutOfRange:          "22003",
	mysql.ERTruncatedWrongValue:     "22007",
	mysql.ERQueryInterrupted:        "70100",
	mysql.ERLockDeadlock:            "40001",
	1792:                            "25006", // ER_CANT_EXECUTE_IN_READ_ONLY_TRANSACTION
}

// toMySQLError returns err as MySQL would send it: with MySQL's code for
// the engine errors above and MySQL's SQLSTATE for the code. Errors that
// already carry a specific state are left alone.
func toMySQLError(err error) error {
	if err == nil {
		return nil
	}
	se := sql.CastSQLError(err)
	num, state := se.Num, se.State
	if num == mysql.ERUnknownError {
		for _, m := range unknownErrorCodes {
			if m.pattern.MatchString(se.Message) {
				num, state = m.code, m.state
				break
			}
		}
	}
	if state == "" || state == mysql.SSUnknownSQLState {
		if s, ok := sqlStates[num]; ok {
			state = s
		}
	}
	if num == se.Num && state == se.State {
		return err
	}
	out := mysql.NewSQLError(num, state, "%s", se.Message)
	out.Query = se.Query
	return out
}

// Codes vitess has no constant for.
const (
	erTableAccessDenied          = 1142
	erWrongParamcountToNativeFct = 1582
)
