package synth

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"sync"
)

// Stats counts what a writer wrote.
type Stats struct {
	Patients  int   // patients generated
	Resources int   // resources written (Bundles not counted)
	Bytes     int64 // bytes written
}

// ErrRange is returned for a patient range that starts below zero or
// ends before it starts.
var ErrRange = errors.New("synth: invalid patient range")

// WriteBundles writes patients from (inclusive) to to (exclusive) as
// transaction Bundles (see Record.AppendBundle), one compact Bundle per
// line, in patient order. Patients are generated on GOMAXPROCS
// goroutines; the output is the same at any GOMAXPROCS. It stops at the
// first write error or when ctx is done.
func (g *Generator) WriteBundles(ctx context.Context, w io.Writer, from, to int) (Stats, error) {
	fill := func(c *chunk) {
		for i := c.from; i < c.to; i++ {
			rec := g.record(i)
			c.out[0] = (&Record{Index: i, r: rec}).AppendBundle(c.out[0])
			c.out[0] = append(c.out[0], '\n')
			c.resources += rec.total()
			c.reserve(i)
		}
	}
	emit := func(c *chunk) (int, error) { return w.Write(c.out[0]) }
	return g.run(ctx, from, to, fill, emit)
}

// WriteNDJSON writes the resources of patients from (inclusive) to to
// (exclusive) as NDJSON (FHIR bulk data): each resource, in the form
// Record.Resources gives, on its own line of the writer out holds for
// its type. Types out does not hold are skipped; several types may
// share a writer (then each block of patients is written type by
// type). Output order and bytes are the same at any GOMAXPROCS. It stops
// at the first write error or when ctx is done.
func (g *Generator) WriteNDJSON(ctx context.Context, out map[string]io.Writer, from, to int) (Stats, error) {
	var ws [nTypes]io.Writer
	for typ, w := range out {
		t := typeIndex(typ)
		if t < 0 {
			return Stats{}, fmt.Errorf("synth: %q is not a generated resource type", typ)
		}
		ws[t] = w
	}
	fill := func(c *chunk) {
		for i := c.from; i < c.to; i++ {
			rec := g.record(i)
			for t := range nTypes {
				if ws[t] == nil {
					continue
				}
				for k := range rec.count(t) {
					c.out[t] = rec.appendResource(c.out[t], t, k, styleREST)
					c.out[t] = append(c.out[t], '\n')
					c.resources++
				}
			}
			c.reserve(i)
		}
	}
	emit := func(c *chunk) (int, error) {
		total := 0
		for t := range nTypes {
			if len(c.out[t]) == 0 {
				continue
			}
			n, err := ws[t].Write(c.out[t])
			total += n
			if err != nil {
				return total, err
			}
		}
		return total, nil
	}
	return g.run(ctx, from, to, fill, emit)
}

func typeIndex(typ string) int {
	for t, name := range typeNames {
		if name == typ {
			return t
		}
	}
	return -1
}

// chunkSize is the number of patients one worker generates at a time:
// large enough to amortise the hand-offs, small enough to keep the
// buffers in flight (3 per worker) at a few MB.
const chunkSize = 16

// chunk is a block of consecutive patients and their rendered output.
type chunk struct {
	from, to  int
	out       [nTypes][]byte // per resource type; Bundles use out[0]
	resources int
	done      chan struct{} // closed by the worker that filled it
}

// reserve grows a new chunk's buffers, after its first patient i, to
// fit the whole chunk at that size, rather than doubling as it fills.
func (c *chunk) reserve(i int) {
	if i != c.from {
		return
	}
	for t, b := range c.out {
		if want := len(b) * (c.to - c.from) * 9 / 8; cap(b) < want {
			c.out[t] = slices.Grow(b, want-len(b))
		}
	}
}

// run generates patients [from, to) in chunks on GOMAXPROCS workers and
// emits the chunks in order from the calling goroutine, so that only
// the caller touches the writer. The producer, the workers and the
// caller are tied by channels; all goroutines have returned when run
// does.
func (g *Generator) run(ctx context.Context, from, to int, fill func(*chunk), emit func(*chunk) (int, error)) (Stats, error) {
	var st Stats
	if from < 0 || to < from {
		return st, fmt.Errorf("%w: [%d, %d)", ErrRange, from, to)
	}
	if err := ctx.Err(); err != nil {
		return st, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	workers := runtime.GOMAXPROCS(0)
	jobs := make(chan *chunk)
	order := make(chan *chunk, 2*workers) // chunks in patient order, filled or not
	free := make(chan *chunk, 3*workers)  // emitted chunks whose buffers can be reused
	var wg sync.WaitGroup
	wg.Add(workers + 1)
	for range workers {
		go func() {
			defer wg.Done()
			for c := range jobs {
				fill(c)
				close(c.done)
			}
		}()
	}
	go func() {
		defer wg.Done()
		defer close(order)
		defer close(jobs)
		for lo := from; lo < to; lo += min(chunkSize, to-lo) {
			var c *chunk
			select {
			case c = <-free:
			default:
				c = new(chunk)
			}
			c.from, c.to, c.resources = lo, min(lo+chunkSize, to), 0
			for t := range c.out {
				c.out[t] = c.out[t][:0]
			}
			c.done = make(chan struct{})
			// Queue it for the caller before a worker can take it, so
			// the caller always waits on the oldest chunk in flight.
			select {
			case order <- c:
			case <-ctx.Done():
				return
			}
			select {
			case jobs <- c:
			case <-ctx.Done():
				return
			}
		}
	}()

	var err error
	for c := range order {
		if err != nil {
			continue // drain until the producer stops
		}
		select {
		case <-c.done:
		case <-ctx.Done():
			err = ctx.Err()
			continue
		}
		n, werr := emit(c)
		st.Bytes += int64(n)
		if werr != nil {
			err = fmt.Errorf("synth: write: %w", werr)
			cancel()
			continue
		}
		st.Patients += c.to - c.from
		st.Resources += c.resources
		select {
		case free <- c:
		default:
		}
	}
	wg.Wait()
	return st, err
}
