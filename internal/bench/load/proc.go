package load

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

// serverUsage is what the /proc sampler saw of the server process.
type serverUsage struct {
	CPUSeconds                      float64 // user + system CPU time during the run
	RSSStartMB, RSSEndMB, RSSPeakMB float64
}

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat times: 100 on
// every Linux architecture Go supports (the kernel exports it fixed).
const clockTicks = 100

// procStat reads the CPU seconds (utime + stime) and RSS (MB) of pid.
func procStat(pid int) (cpu, rssMB float64, err error) {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, fmt.Errorf("bench run: server pid %d: %w", pid, err)
	}
	// Fields after the command name, which is in parentheses and may hold spaces.
	i := bytes.LastIndexByte(stat, ')')
	f := strings.Fields(string(stat[i+1:]))
	if i < 0 || len(f) < 13 {
		return 0, 0, fmt.Errorf("bench run: server pid %d: unexpected /proc stat format", pid)
	}
	utime, err1 := strconv.ParseFloat(f[11], 64) // field 14 of stat
	stime, err2 := strconv.ParseFloat(f[12], 64) // field 15
	if err1 != nil || err2 != nil {
		return 0, 0, fmt.Errorf("bench run: server pid %d: unexpected /proc stat format", pid)
	}
	status, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, fmt.Errorf("bench run: server pid %d: %w", pid, err)
	}
	defer status.Close()
	sc := bufio.NewScanner(status)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			if err != nil {
				return 0, 0, fmt.Errorf("bench run: server pid %d: VmRSS %q", pid, v)
			}
			return (utime + stime) / clockTicks, kb / 1024, nil
		}
	}
	return 0, 0, fmt.Errorf("bench run: server pid %d: no VmRSS in /proc status", pid)
}

// procSampler reads a process's RSS every interval until stopped, for
// the peak. mu guards peak; the goroutine ends with stop.
type procSampler struct {
	pid    int
	cpu0   float64
	rss0   float64
	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	peak   float64
}

func startSampler(ctx context.Context, pid int, every time.Duration) (*procSampler, error) {
	cpu, rss, err := procStat(pid)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	s := &procSampler{pid: pid, cpu0: cpu, rss0: rss, peak: rss, cancel: cancel}
	s.wg.Go(func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if _, rss, err := procStat(pid); err == nil {
					s.mu.Lock()
					s.peak = max(s.peak, rss)
					s.mu.Unlock()
				}
			}
		}
	})
	return s, nil
}

// stop ends sampling and returns the usage from start to now; a process
// that has gone leaves its last figures.
func (s *procSampler) stop() serverUsage {
	s.cancel()
	s.wg.Wait()
	u := serverUsage{RSSStartMB: s.rss0, RSSPeakMB: s.peak, RSSEndMB: s.peak}
	if cpu, rss, err := procStat(s.pid); err == nil {
		u.CPUSeconds, u.RSSEndMB, u.RSSPeakMB = cpu-s.cpu0, rss, max(s.peak, rss)
	}
	return u
}
