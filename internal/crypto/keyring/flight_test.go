package keyring

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
)

var testFlight = flightKey{flightKeyByID, "acme", "k"}

func TestFlightDedups(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var g flightGroup
		var calls atomic.Int32
		release := make(chan struct{})
		want := &key{id: "k"}
		var wg sync.WaitGroup
		for range 10 {
			wg.Go(func() {
				got, err := g.do(t.Context(), testFlight, func(context.Context) (*key, error) {
					calls.Add(1)
					<-release
					return want, nil
				})
				if err != nil || got != want {
					t.Errorf("do = %v, %v", got, err)
				}
			})
		}
		synctest.Wait() // all ten are in do: one running fn, nine waiting
		close(release)
		wg.Wait()
		if n := calls.Load(); n != 1 {
			t.Fatalf("fn ran %d times, want 1", n)
		}
		if len(g.calls) != 0 {
			t.Fatal("finished flight left in the map")
		}
	})
}

func TestFlightWaiterRetriesWhenLeaderCancelled(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var g flightGroup
		leaderCtx, cancel := context.WithCancel(t.Context())
		go func() {
			_, err := g.do(leaderCtx, testFlight, func(ctx context.Context) (*key, error) {
				<-ctx.Done()
				return nil, ctx.Err()
			})
			if !errors.Is(err, context.Canceled) {
				t.Errorf("leader: err = %v, want Canceled", err)
			}
		}()
		synctest.Wait()
		want := &key{id: "k"}
		done := make(chan struct{})
		go func() {
			defer close(done)
			got, err := g.do(t.Context(), testFlight, func(context.Context) (*key, error) { return want, nil })
			if err != nil || got != want {
				t.Errorf("waiter: do = %v, %v; want its own result", got, err)
			}
		}()
		synctest.Wait() // the waiter is waiting on the leader's flight
		cancel()
		<-done
	})
}

func TestFlightWaiterStopsOnItsContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var g flightGroup
		release := make(chan struct{})
		go g.do(t.Context(), testFlight, func(context.Context) (*key, error) {
			<-release
			return &key{}, nil
		})
		synctest.Wait()
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if _, err := g.do(ctx, testFlight, nil); !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want Canceled", err)
		}
		close(release)
	})
}

func TestFlightPanicReleasesWaiters(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var g flightGroup
		release := make(chan struct{})
		go func() {
			defer func() { _ = recover() }()
			g.do(t.Context(), testFlight, func(context.Context) (*key, error) {
				<-release
				panic("boom")
			})
		}()
		synctest.Wait()
		errc := make(chan error)
		go func() {
			_, err := g.do(t.Context(), testFlight, func(context.Context) (*key, error) {
				t.Error("waiter ran fn: it did not join the flight")
				return nil, nil
			})
			errc <- err
		}()
		synctest.Wait()
		close(release)
		if err := <-errc; err == nil {
			t.Fatal("waiter got no error from a panicked flight")
		}
		if len(g.calls) != 0 {
			t.Fatal("panicked flight left in the map")
		}
	})
}
