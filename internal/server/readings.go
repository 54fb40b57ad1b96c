package server

import (
	"sync"

	"github.com/vigil-sec/vigil/internal/fleet"
)

// readings holds, per tick being scanned, the reading of the
// organisation this replica's account jobs of that tick share: each job
// scans one account, and without it each would list the whole
// organisation again (a tick of N accounts, N listings: N² calls).
type readings struct {
	mu     sync.Mutex
	byScan map[int64]*fleet.SharedReading
}

// keepReadings bounds how many ticks' readings a replica holds: the
// newest scans are the ones still running.
const keepReadings = 8

// of returns the reading shared by the account jobs of scan id.
func (r *readings) of(id int64) *fleet.SharedReading {
	r.mu.Lock()
	defer r.mu.Unlock()
	if sh, ok := r.byScan[id]; ok {
		return sh
	}
	if r.byScan == nil {
		r.byScan = map[int64]*fleet.SharedReading{}
	}
	if len(r.byScan) >= keepReadings {
		oldest := id
		for k := range r.byScan {
			oldest = min(oldest, k)
		}
		delete(r.byScan, oldest)
	}
	sh := &fleet.SharedReading{}
	r.byScan[id] = sh
	return sh
}
