package tables

import (
	"time"

	"github.com/stripesql/stripesql/stripeapi"
)

// The mirror's types, as package mirror defines them (mirror-api.md).
// Until that package is on main they are declared here with the same
// shape; then these become aliases of mirror.Query, mirror.Iterator and
// mirror.TableStatus.

// mirrorQuery narrows the objects a read needs (mirror.Query).
type mirrorQuery struct {
	IDs        []string
	CreatedGTE *int64
	CreatedLTE *int64
	Equal      map[string][]string
	Paths      []string
}

// mirrorIterator yields a query's objects (mirror.Iterator).
type mirrorIterator interface {
	Next() (stripeapi.Object, error)
	Close() error
}

// mirrorStatus is one mirrored table's state (mirror.TableStatus).
type mirrorStatus struct {
	Table         string
	State         string
	Backfilled    int64
	Objects       int64
	EventsApplied int64
	Lag           time.Duration
}
