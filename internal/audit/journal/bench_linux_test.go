package journal_test

import (
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/wardhealth/ward/internal/audit/journal"
)

// BenchmarkAppend is one durable append of one 700-byte record (a batch
// of about three audit events), as the ledger's appender does per batch:
// wall time per op, and the process CPU time (user and system) per op.
func BenchmarkAppend(b *testing.B) {
	j, err := journal.Open(filepath.Join(b.TempDir(), "journal"), 0, journal.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer j.Close()
	rec := [][]byte{make([]byte, 700)}
	c0 := cpuTime(b)
	b.ResetTimer()
	for b.Loop() {
		if _, err := j.Append(rec); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64((cpuTime(b)-c0).Microseconds())/float64(b.N), "cpu-µs/op")
}

func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
