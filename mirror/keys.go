package mirror

import (
	"encoding/binary"
	"math"
)

// Key layout. Every key starts with a one-byte kind; table names, paths and
// values are followed by 0x00, which Stripe ids, catalog names and paths
// never contain (an indexed value that does is not indexed, and a query for
// it scans).
//
//	'o' table 0 id                      → primary: version, flags, created
//	'c' table 0 desc(created) id        → the object (codec.go)
//	's' table 0 desc(created) id        → nothing (the same keys, without values)
//	'w' table 0 desc(created) id        → the narrow columns' values (narrow.go)
//	'e' table 0 path 0 value 0 id       → created (equality index)
//	'n' table                           → table meta (JSON: state, counts)
//	'a' event-id                        → created of an applied event
//	'm' "cursor"                        → the events cursor (unix seconds)
//
// The object lives once, in the created-ordered keyspace, which is what
// scans and created ranges read; the primary record says where it is (by
// its created) and holds the version the apply rule compares. created is
// stored descending, so a forward scan, Pebble's fast direction, returns
// newest first, as Stripe's lists do. The 's' keyspace repeats those keys
// without the objects: a query that reads only Id and Created (COUNT of a
// range, GROUP BY month) scans it, a few MB for a million objects, instead
// of every object's bytes.
const (
	kindPrimary = 'o'
	kindObject  = 'c'
	kindSkinny  = 's'
	kindNarrow  = 'w'
	kindIndex   = 'e'
	kindMeta    = 'n'
	kindApplied = 'a'
	kindGlobal  = 'm'
)

var cursorKey = []byte{kindGlobal, 'c', 'u', 'r', 's', 'o', 'r'}

func tablePrefix(kind byte, table string) []byte {
	k := make([]byte, 0, len(table)+2)
	k = append(k, kind)
	k = append(k, table...)
	return append(k, 0)
}

func primaryKey(table, id string) []byte {
	return append(tablePrefix(kindPrimary, table), id...)
}

// descCreated maps created to 8 bytes that sort newest first.
func descCreated(created int64) []byte {
	return binary.BigEndian.AppendUint64(nil, math.MaxUint64-(uint64(created)^(1<<63)))
}

func createdFromDesc(b []byte) int64 {
	return int64((math.MaxUint64 - binary.BigEndian.Uint64(b)) ^ (1 << 63))
}

func objectKey(table string, created int64, id string) []byte {
	k := tablePrefix(kindObject, table)
	k = append(k, descCreated(created)...)
	return append(k, id...)
}

func skinnyKey(table string, created int64, id string) []byte {
	k := tablePrefix(kindSkinny, table)
	k = append(k, descCreated(created)...)
	return append(k, id...)
}

func indexPrefix(table, path, value string) []byte {
	k := tablePrefix(kindIndex, table)
	k = append(k, path...)
	k = append(k, 0)
	k = append(k, value...)
	return append(k, 0)
}

func metaKey(table string) []byte { return append([]byte{kindMeta}, table...) }

func appliedKey(eventID string) []byte { return append([]byte{kindApplied}, eventID...) }

// prefixEnd is the first key after every key that starts with p.
func prefixEnd(p []byte) []byte {
	end := append([]byte(nil), p...)
	for i := len(end) - 1; i >= 0; i-- {
		end[i]++
		if end[i] != 0 {
			return end[:i+1]
		}
	}
	return nil
}

// primary is the record of an object in the primary keyspace.
type primary struct {
	version int64 // unix nanoseconds (see apply.go)
	deleted bool  // a tombstone: the object is deleted (final unless its id can be created again: apply.go)
	// swept is a tombstone left by a backfill that did not see the object,
	// or a re-fetch that got a 404: it is gone as far as the mirror knows,
	// but a snapshot of a later second brings it back (it may only have
	// been out of sight).
	swept   bool
	created int64
}

// gone reports a tombstone of either kind.
func (p primary) gone() bool { return p.deleted || p.swept }

func (p primary) encode() []byte {
	b := binary.BigEndian.AppendUint64(make([]byte, 0, 17), uint64(p.version))
	flag := byte(0)
	switch {
	case p.deleted:
		flag = 1
	case p.swept:
		flag = 2
	}
	b = append(b, flag)
	return binary.BigEndian.AppendUint64(b, uint64(p.created))
}

func decodePrimary(b []byte) (primary, bool) {
	if len(b) != 17 {
		return primary{}, false
	}
	return primary{
		version: int64(binary.BigEndian.Uint64(b)),
		deleted: b[8] == 1,
		swept:   b[8] == 2,
		created: int64(binary.BigEndian.Uint64(b[9:])),
	}, true
}

func int64Bytes(v int64) []byte { return binary.BigEndian.AppendUint64(nil, uint64(v)) }

func bytesInt64(b []byte) (int64, bool) {
	if len(b) != 8 {
		return 0, false
	}
	return int64(binary.BigEndian.Uint64(b)), true
}
