package load

import (
	"testing"
	"time"
)

func TestHistogramQuantiles(t *testing.T) {
	var h histogram
	for i := 1; i <= 10_000; i++ {
		h.record(time.Duration(i) * 10 * time.Microsecond) // 10 µs .. 100 ms
	}
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 50 * time.Millisecond}, {0.95, 95 * time.Millisecond}, {0.99, 99 * time.Millisecond}, {1, 100 * time.Millisecond}} {
		got := h.quantile(c.q)
		if got < c.want || float64(got) > float64(c.want)*1.003 {
			t.Errorf("p%v = %v, want %v within 0.3%% above", c.q*100, got, c.want)
		}
	}
	if got := time.Duration(h.max.Load()); got != 100*time.Millisecond {
		t.Errorf("max %v", got)
	}
	for b := range histBuckets - 1 {
		if upper(b) >= upper(b+1) || bucket(upper(b)) != b {
			t.Fatalf("bucket %d: upper %d, next %d, bucket(upper) %d", b, upper(b), upper(b+1), bucket(upper(b)))
		}
	}
}
