package tables

import (
	"errors"
	"fmt"

	"github.com/dolthub/vitess/go/mysql"
)

// MySQL error codes for writes refused before any request, as MySQL uses
// them for the same mistakes.
const (
	// ErrNonUpdatableColumn (ER_NONUPDATEABLE_COLUMN): a column Stripe does
	// not let this write set.
	ErrNonUpdatableColumn = 1348
	// ErrBadNull (ER_BAD_NULL_ERROR): NULL or '' where Stripe needs a value.
	ErrBadNull = 1048
	// ErrNoDefault (ER_NO_DEFAULT_FOR_FIELD): a column a create requires
	// is missing.
	ErrNoDefault = 1364
)

// refusal is a write refused before any request, with its MySQL code. It
// travels wrapped in row context and becomes a *mysql.SQLError at the edge
// (sqlErrorf), because the engine honours only an unwrapped SQLError.
type refusal struct {
	code  int
	state string
	msg   string
}

func (r *refusal) Error() string { return r.msg }

func refuse(code int, format string, args ...any) error {
	state := "HY000"
	if code == ErrBadNull {
		state = "23000"
	}
	return &refusal{code: code, state: state, msg: fmt.Sprintf(format, args...)}
}

// sqlErrorf words an error with context, keeping the MySQL code of a
// refusal inside it (1105, the engine's default, otherwise).
func sqlErrorf(err error, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...) + ": " + err.Error()
	var r *refusal
	if errors.As(err, &r) {
		return mysql.NewSQLError(r.code, r.state, "%s", msg)
	}
	return errors.New(msg)
}
