package load

import (
	"math/bits"
	"sync/atomic"
	"time"
)

// histogram records latencies in log-linear buckets (as HDR histograms
// do): exact below 1024 µs, then 512 buckets per power of two, so a
// quantile is off by at most 0.2% and memory stays fixed (~90 KB)
// however long the run. Safe for concurrent use.
type histogram struct {
	counts [histBuckets]atomic.Int64
	max    atomic.Int64 // nanoseconds
	n      atomic.Int64
}

const (
	histSub     = 512         // buckets per power of two above histExact
	histExact   = 2 * histSub // values below are counted exactly
	histMaxExp  = 27          // 1024 µs << 27 ≈ 38 hours: far above any latency
	histBuckets = histExact + histMaxExp*histSub
)

// bucket maps a latency in microseconds to its bucket.
func bucket(us int64) int {
	if us < histExact {
		return int(max(us, 0))
	}
	s := bits.Len64(uint64(us)) - 10 // us>>s is in [512, 1024)
	if s > histMaxExp {
		return histBuckets - 1
	}
	return histExact + (s-1)*histSub + int(us>>s) - histSub
}

// upper is the largest latency (µs) bucket b holds.
func upper(b int) int64 {
	if b < histExact {
		return int64(b)
	}
	s := (b-histExact)/histSub + 1
	m := int64((b-histExact)%histSub + histSub)
	return (m+1)<<s - 1
}

func (h *histogram) record(d time.Duration) {
	h.counts[bucket(d.Microseconds())].Add(1)
	h.n.Add(1)
	for {
		m := h.max.Load()
		if int64(d) <= m || h.max.CompareAndSwap(m, int64(d)) {
			return
		}
	}
}

// quantile returns the latency at quantile q (0..1) by nearest rank,
// reported as the bucket's upper bound (never below the true value).
func (h *histogram) quantile(q float64) time.Duration {
	n := h.n.Load()
	if n == 0 {
		return 0
	}
	rank := max(int64(q*float64(n)+0.999999), 1)
	var seen int64
	for b := range h.counts {
		seen += h.counts[b].Load()
		if seen >= rank {
			d := time.Duration(upper(b)) * time.Microsecond
			return min(d, time.Duration(h.max.Load()))
		}
	}
	return time.Duration(h.max.Load())
}
