package tables

import "github.com/stripesql/stripesql/mirror"

// The mirror's types (package mirror), under the names tables uses.
type (
	// mirrorQuery narrows the objects a read needs.
	mirrorQuery = mirror.Query
	// mirrorIterator yields a query's objects.
	mirrorIterator = mirror.Iterator
	// mirrorStatus is one mirrored table's state.
	mirrorStatus = mirror.TableStatus
)

// *mirror.Mirror is the Mirror the server uses.
var _ Mirror = (*mirror.Mirror)(nil)
