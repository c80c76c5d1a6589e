package server

// GMS lower-cases the names of stored procedures and their parameters
// (plan.NewProcedure), so information_schema.ROUTINES and PARAMETERS, and
// SHOW PROCEDURE STATUS (a query of ROUTINES), would list
// "createaccountlink" with parameter "account". A client that builds a
// CALL from that metadata (DBeaver, JDBC getProcedureColumns) shows names
// no one declared. routineCaseRule gives the rows back the names as the
// database declares them in its listing (sql.StoredProcedureDatabase).

import (
	"regexp"
	"strings"

	"github.com/dolthub/go-mysql-server/sql"
	"github.com/dolthub/go-mysql-server/sql/analyzer"
	"github.com/dolthub/go-mysql-server/sql/plan"
	"github.com/dolthub/go-mysql-server/sql/transform"
)

// routineCaseRuleID is the id of routineCaseRule among the post-analysis
// rules; any id outside GMS's own works.
const routineCaseRuleID analyzer.RuleId = 9_001

// routineNameColumns are the columns of the two tables that hold a
// procedure's name and, in PARAMETERS, a parameter's.
var routineNameColumns = map[string][2]string{
	"routines":   {"ROUTINE_NAME", "SPECIFIC_NAME"},
	"parameters": {"SPECIFIC_NAME", "PARAMETER_NAME"},
}

func routineCaseRule(db sql.Database) analyzer.Rule {
	pdb, ok := db.(sql.StoredProcedureDatabase)
	apply := func(ctx *sql.Context, _ *analyzer.Analyzer, n sql.Node, _ *plan.Scope, _ analyzer.RuleSelector, _ *sql.QueryFlags) (sql.Node, transform.TreeIdentity, error) {
		if !ok {
			return n, transform.SameTree, nil
		}
		return transform.Node(ctx, n, func(ctx *sql.Context, n sql.Node) (sql.Node, transform.TreeIdentity, error) {
			rt, isTable := n.(*plan.ResolvedTable)
			if !isTable || !strings.EqualFold(rt.Database().Name(), "information_schema") {
				return n, transform.SameTree, nil
			}
			cols, known := routineNameColumns[strings.ToLower(rt.Name())]
			if !known {
				return n, transform.SameTree, nil
			}
			if _, done := rt.Table.(*casedRoutines); done {
				return n, transform.SameTree, nil
			}
			procs, err := pdb.GetStoredProcedures(ctx)
			if err != nil || len(procs) == 0 {
				return n, transform.SameTree, err
			}
			t := &casedRoutines{Table: rt.Table, names: declaredNames(procs), procCol: -1, paramCol: -1}
			for i, c := range rt.Table.Schema(ctx) {
				switch {
				case strings.EqualFold(c.Name, "PARAMETER_NAME"):
					t.paramCol = i
				case strings.EqualFold(c.Name, cols[0]), strings.EqualFold(c.Name, cols[1]):
					t.nameCols = append(t.nameCols, i)
					if strings.EqualFold(c.Name, "SPECIFIC_NAME") {
						t.procCol = i
					}
				}
			}
			nt, err := rt.WithTable(ctx, t)
			if err != nil {
				return n, transform.SameTree, err
			}
			return nt, transform.NewTree, nil
		})
	}
	return analyzer.Rule{Id: routineCaseRuleID, Apply: apply}
}

// paramNameRE finds the parameters in a listed CREATE PROCEDURE.
var paramNameRE = regexp.MustCompile("IN `([^`]+)`")

// declaredNames maps "proc" and "proc.param", lower-cased, to the names as
// declared.
func declaredNames(procs []sql.StoredProcedureDetails) map[string]string {
	m := make(map[string]string, len(procs)*3)
	for _, p := range procs {
		lp := strings.ToLower(p.Name)
		m[lp] = p.Name
		for _, sub := range paramNameRE.FindAllStringSubmatch(p.CreateStatement, -1) {
			m[lp+"."+strings.ToLower(sub[1])] = sub[1]
		}
	}
	return m
}

// casedRoutines is ROUTINES or PARAMETERS with declared names.
type casedRoutines struct {
	sql.Table
	names    map[string]string
	nameCols []int // columns holding a procedure name
	procCol  int   // SPECIFIC_NAME, for PARAMETER_NAME's procedure; -1 if none
	paramCol int   // PARAMETER_NAME; -1 if none
}

func (t *casedRoutines) PartitionRows(ctx *sql.Context, p sql.Partition) (sql.RowIter, error) {
	iter, err := t.Table.PartitionRows(ctx, p)
	if err != nil {
		return nil, err
	}
	return &casedIter{RowIter: iter, t: t}, nil
}

type casedIter struct {
	sql.RowIter
	t *casedRoutines
}

func (it *casedIter) Next(ctx *sql.Context) (sql.Row, error) {
	row, err := it.RowIter.Next(ctx)
	if err != nil {
		return row, err
	}
	out := append(sql.Row(nil), row...)
	proc := ""
	if it.t.procCol >= 0 {
		proc, _ = row[it.t.procCol].(string)
	}
	if it.t.paramCol >= 0 && proc != "" {
		if s, ok := row[it.t.paramCol].(string); ok {
			if name, known := it.t.names[strings.ToLower(proc)+"."+strings.ToLower(s)]; known {
				out[it.t.paramCol] = name
			}
		}
	}
	for _, i := range it.t.nameCols {
		if s, ok := row[i].(string); ok {
			if name, known := it.t.names[strings.ToLower(s)]; known {
				out[i] = name
			}
		}
	}
	return out, nil
}
