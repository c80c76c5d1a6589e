package tables

import (
	"github.com/dolthub/go-mysql-server/sql"

	"github.com/stripesql/stripesql/catalog"
	"github.com/stripesql/stripesql/internal/sqltime"
	"github.com/stripesql/stripesql/stripeapi"
)

// keyMatch is what a lookup by join keys may return: the objects whose
// indexed column equals one of keys (compared as the column's SQL type
// compares), or, for a NULL-safe lookup of NULL, those whose column is
// NULL. Stripe's answer to the call that serves a lookup may hold more (a
// full scan for a NULL-safe lookup, a list filter that ignores case);
// keyMatch keeps the rows exact, since the engine does not re-check a
// join condition that a lookup answers.
type keyMatch struct {
	column catalog.Column
	typ    sql.Type
	keys   []any
	null   bool
	// anyValue accepts every non-NULL value.
	anyValue bool
}

// matches reports whether obj belongs to the lookup's answer.
func (m *keyMatch) matches(ctx *sql.Context, obj stripeapi.Object) (bool, error) {
	v, err := columnValue(m.column, lookupPath(obj, m.column.Path), sqltime.Zone(ctx))
	if err != nil {
		return false, err
	}
	if v == nil {
		return m.null, nil
	}
	if m.anyValue {
		return true, nil
	}
	for _, k := range m.keys {
		c, err := m.typ.Compare(ctx, v, k)
		if err != nil {
			return false, err
		}
		if c == 0 {
			return true, nil
		}
	}
	return false, nil
}

// matchingPartitions marks each partition of a lookup with its keyMatch.
type matchingPartitions struct {
	sql.PartitionIter
	match *keyMatch
}

func (m *matchingPartitions) Next(ctx *sql.Context) (sql.Partition, error) {
	p, err := m.PartitionIter.Next(ctx)
	if part, ok := p.(*partition); ok && err == nil {
		part.match = m.match
	}
	return p, err
}

// matchingObjects yields the objects of src that a keyMatch accepts.
type matchingObjects struct {
	ctx   *sql.Context
	src   objects
	match *keyMatch
}

func (m *matchingObjects) close() { m.src.close() }

func (m *matchingObjects) next() (stripeapi.Object, error) {
	for {
		obj, err := m.src.next()
		if err != nil {
			return nil, err
		}
		ok, err := m.match.matches(m.ctx, obj)
		if err != nil {
			return nil, err
		}
		if ok {
			return obj, nil
		}
	}
}
