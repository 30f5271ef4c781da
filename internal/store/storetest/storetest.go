// Package storetest is the conformance suite every store.Backend must pass
// (SQLite now, PostgreSQL later), in the manner of go-cloud's drivertest.
// Run checks the raw Backend contract and the Store built on it;
// RunKeyStore and RunAuthStore check the key and auth stores the database
// backends also provide.
//
// The suite brings its own Keyring (real AES-256-GCM with keys made at
// test time) and Document (a JSON map), so it depends on no other ward
// package than store, keyring and auth.
package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/wardhealth/ward/internal/store"
)

// Run runs the suite. open must return a new, empty backend each call. The
// suite closes every backend it opens, so Close must tolerate a second
// call if open also registers one.
func Run(t *testing.T, open func(t *testing.T) store.Backend) {
	t.Run("Backend", func(t *testing.T) { runBackend(t, open) })
	t.Run("Store", func(t *testing.T) { runStore(t, open) })
}

// newBackend opens a backend that is closed when the test ends.
func newBackend(t *testing.T, open func(t *testing.T) store.Backend) store.Backend {
	t.Helper()
	b := open(t)
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return b
}

// clock is a fake clock that moves one second forward at each reading,
// starting off the millisecond grid and outside UTC so the Store's
// normalisation shows.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock {
	return &clock{t: time.Date(2025, 3, 14, 9, 26, 53, 589_793_238, time.FixedZone("X", 3600))}
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(time.Second)
	return c.t
}

// peek is the last reading, as the Store stores it.
func (c *clock) peek() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t.UTC().Truncate(time.Millisecond)
}
