package mysqlfuncs

import (
	"fmt"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/types"
)

// AssignFunction is the name of the function that stands for MySQL's
// user-variable assignment in an expression, `@v := expr`, which
// go-mysql-server's parser does not take: the server rewrites it to
// stripe_assign('v', expr) (MariaDB ODBC's SQLColumns query assigns @dt,
// @ColSize and @tol in its select list and reads them in later columns).
// Like MySQL's operator it assigns the value, NULL included, and returns
// it; it runs where the expression runs, once per row, left to right, so
// a later column reading @v sees the value.
const AssignFunction = "stripe_assign"

// UserVarFunction reads a user variable with the type of the assignment
// that set it: stripe_user_var('v', expr) is @v, typed as expr. The
// server rewrites reads of a variable the same statement assigns to it,
// because go-mysql-server types @v when it plans the statement, from the
// value the variable had then (NULL for a new one), and a column of type
// NULL loses its values.
const UserVarFunction = "stripe_user_var"

func newAssign(_ *sql.Context, name, value sql.Expression) sql.Expression {
	return &assign{name: name, value: value}
}

type assign struct {
	name, value sql.Expression
}

var (
	_ sql.FunctionExpression         = (*assign)(nil)
	_ sql.NonDeterministicExpression = (*assign)(nil)
	_ sql.FunctionExpression         = (*userVar)(nil)
	_ sql.NonDeterministicExpression = (*userVar)(nil)
)

func (a *assign) FunctionName() string { return AssignFunction }
func (a *assign) Description() string  { return "MySQL's @v := expr" }
func (a *assign) Resolved() bool       { return a.name.Resolved() && a.value.Resolved() }
func (a *assign) String() string       { return fmt.Sprintf("@%s := %s", literalName(a.name), a.value) }
func (a *assign) Type(ctx *sql.Context) sql.Type {
	return a.value.Type(ctx)
}
func (a *assign) IsNullable(ctx *sql.Context) bool { return a.value.IsNullable(ctx) }
func (a *assign) Children() []sql.Expression       { return []sql.Expression{a.name, a.value} }

// IsNonDeterministic keeps the engine from folding the assignment away as
// a constant: it has an effect.
func (a *assign) IsNonDeterministic() bool { return true }

func (a *assign) CollationCoercibility(ctx *sql.Context) (sql.CollationID, byte) {
	return sql.GetCoercibility(ctx, a.value)
}

func (a *assign) WithChildren(_ *sql.Context, children ...sql.Expression) (sql.Expression, error) {
	if len(children) != 2 {
		return nil, sql.ErrInvalidChildrenNumber.New(a, len(children), 2)
	}
	return &assign{name: children[0], value: children[1]}, nil
}

func (a *assign) Eval(ctx *sql.Context, row sql.Row) (any, error) {
	name, err := varName(ctx, a.name, row)
	if err != nil {
		return nil, err
	}
	v, err := a.value.Eval(ctx, row)
	if err != nil {
		return nil, err
	}
	typ := a.value.Type(ctx)
	if v == nil {
		typ = types.Null
	}
	if err := ctx.SetUserVariable(ctx, name, v, typ); err != nil {
		return nil, fmt.Errorf("@%s := …: %w", name, err)
	}
	return v, nil
}

func newUserVar(_ *sql.Context, name, typed sql.Expression) sql.Expression {
	return &userVar{name: name, typed: typed}
}

// userVar is stripe_user_var('v', expr): the value of @v, with expr's
// type; expr is never evaluated.
type userVar struct {
	name, typed sql.Expression
}

func (u *userVar) FunctionName() string           { return UserVarFunction }
func (u *userVar) Description() string            { return "MySQL's @v, typed as the expression assigned to it" }
func (u *userVar) Resolved() bool                 { return u.name.Resolved() && u.typed.Resolved() }
func (u *userVar) String() string                 { return "@" + literalName(u.name) }
func (u *userVar) Type(ctx *sql.Context) sql.Type { return u.typed.Type(ctx) }
func (u *userVar) IsNullable(*sql.Context) bool   { return true }
func (u *userVar) Children() []sql.Expression     { return []sql.Expression{u.name, u.typed} }
func (u *userVar) IsNonDeterministic() bool       { return true }
func (u *userVar) CollationCoercibility(ctx *sql.Context) (sql.CollationID, byte) {
	return sql.GetCoercibility(ctx, u.typed)
}

func (u *userVar) WithChildren(_ *sql.Context, children ...sql.Expression) (sql.Expression, error) {
	if len(children) != 2 {
		return nil, sql.ErrInvalidChildrenNumber.New(u, len(children), 2)
	}
	return &userVar{name: children[0], typed: children[1]}, nil
}

func (u *userVar) Eval(ctx *sql.Context, row sql.Row) (any, error) {
	name, err := varName(ctx, u.name, row)
	if err != nil {
		return nil, err
	}
	_, v, err := ctx.GetUserVariable(ctx, name)
	if err != nil || v == nil {
		return nil, err
	}
	// The value as the column's type: @dt holds what CASE gave, an
	// int64 or a decimal, and the column says which.
	out, _, err := u.typed.Type(ctx).Convert(ctx, v)
	if err != nil {
		return v, nil
	}
	return out, nil
}

// varName evaluates the name argument.
func varName(ctx *sql.Context, e sql.Expression, row sql.Row) (string, error) {
	v, err := e.Eval(ctx, row)
	if err != nil {
		return "", err
	}
	s, ok := v.(string)
	if !ok || s == "" {
		return "", fmt.Errorf("user variable name %v is not a name", v)
	}
	return s, nil
}

// literalName is the name argument as written, for String.
func literalName(e sql.Expression) string {
	s := e.String()
	if len(s) >= 2 && (s[0] == '\'' || s[0] == '"') {
		return s[1 : len(s)-1]
	}
	return s
}
