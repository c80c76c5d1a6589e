package tables

import (
	"slices"
	"strings"
	"sync"

	"github.com/stripesql/stripesql/rangescan"
	"github.com/stripesql/stripesql/stripeapi"
)

// maxScanStats caps the lists whose statistics the server keeps. Each is
// a few KB (rangescan.Stats: at most 2,048 points); a list past the cap
// drops the one learned longest ago.
const maxScanStats = 256

// scanStats are the table statistics of the server, like a database's
// persistent statistics (InnoDB's, ANALYZE): what the last complete scan of
// each list learned (how many objects, how they spread over created), so
// that the next scan of the list splits into ranges of even pages at once
// instead of reading its first page alone and guessing (rangescan.Stats).
// One list is one account, path and set of filters besides the created
// bounds: a scan with other created bounds uses statistics that cover
// them.
type scanStats struct {
	mu    sync.Mutex
	lists map[string]*statsEntry
	seq   uint64
}

type statsEntry struct {
	stats *rangescan.Stats
	seq   uint64 // when learned, for eviction
}

func newScanStats() *scanStats {
	return &scanStats{lists: map[string]*statsEntry{}}
}

// get returns the statistics of the list key names, nil if none.
func (s *scanStats) get(key string) *rangescan.Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.lists[key]; e != nil {
		return e.stats
	}
	return nil
}

// put records what a complete scan learned. Statistics that cover a
// wider created interval than the new ones are kept: a scan of one month
// does not replace what a scan of the whole table learned.
func (s *scanStats) put(key string, st *rangescan.Stats) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	if e := s.lists[key]; e != nil {
		if st.Covers(e.stats) {
			e.stats, e.seq = st, s.seq
		}
		return
	}
	if len(s.lists) >= maxScanStats {
		oldest := ""
		for k, e := range s.lists {
			if oldest == "" || e.seq < s.lists[oldest].seq {
				oldest = k
			}
		}
		delete(s.lists, oldest)
	}
	s.lists[key] = &statsEntry{stats: st, seq: s.seq}
}

// statsKey names a list for its statistics: the account, the path and
// the params that choose which objects it holds, not its created bounds,
// page size or cursor.
func statsKey(account, path string, params stripeapi.Params) string {
	var kept []string
	for _, p := range params {
		switch {
		case strings.HasPrefix(p.Key, "created"), p.Key == "limit", p.Key == "starting_after", p.Key == "ending_before":
			continue
		}
		kept = append(kept, p.Key+"="+p.Value)
	}
	slices.Sort(kept)
	return account + " " + path + "?" + strings.Join(kept, "&")
}
