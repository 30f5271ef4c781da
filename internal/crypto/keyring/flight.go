package keyring

import (
	"context"
	"errors"
	"sync"
)

// flightKind separates the kinds of load so that one kind only ever
// waits on a kind below it, and loads can never wait on each other in a
// cycle: a data key load may wait on a tenant key load, never the reverse.
type flightKind uint8

const (
	flightTenantKey flightKind = iota + 1 // tenant master key by name: get or create
	flightParentKey                       // tenant master key by id, to unwrap a data key
	flightDataKey                         // data key by name: get or create
	flightKeyByID                         // any key by id, for Seal and Open
)

type flightKey struct {
	kind   flightKind
	tenant string
	s      string // name or id
}

// flight is one load in progress; val and err are set before done closes.
type flight struct {
	done chan struct{}
	val  *key
	err  error
}

// flightGroup makes concurrent loads of the same key share one call, so
// that concurrent first uses create one key (the mutex+map form of
// golang.org/x/sync/singleflight). mu guards calls; a flight's result is
// published by closing done.
type flightGroup struct {
	mu    sync.Mutex
	calls map[flightKey]*flight
}

// do runs fn once for concurrent callers with the same fk and gives each
// its result. A caller stops waiting when its ctx ends; when the call it
// waited on failed only because its leader's context ended, it retries
// under its own.
func (g *flightGroup) do(ctx context.Context, fk flightKey, fn func(context.Context) (*key, error)) (*key, error) {
	for {
		g.mu.Lock()
		if g.calls == nil {
			g.calls = make(map[flightKey]*flight)
		}
		if f, ok := g.calls[fk]; ok {
			g.mu.Unlock()
			select {
			case <-f.done:
			case <-ctx.Done():
				return nil, ctx.Err()
			}
			if f.err != nil && isContextErr(f.err) && ctx.Err() == nil {
				continue // the leader gave up, not the load; try again
			}
			return f.val, f.err
		}
		f := &flight{done: make(chan struct{})}
		g.calls[fk] = f
		g.mu.Unlock()

		g.run(ctx, fk, f, fn)
		return f.val, f.err
	}
}

// run calls fn for f and publishes its result, even if fn panics, so
// that waiters are never stranded.
func (g *flightGroup) run(ctx context.Context, fk flightKey, f *flight, fn func(context.Context) (*key, error)) {
	defer func() {
		if f.val == nil && f.err == nil {
			f.err = errors.New("keyring: key load did not complete")
		}
		g.mu.Lock()
		delete(g.calls, fk)
		g.mu.Unlock()
		close(f.done)
	}()
	f.val, f.err = fn(ctx)
}

func isContextErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}
