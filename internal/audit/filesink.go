package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"sync"
)

// FileSink appends events as JSON lines to a file (mode 0600) and syncs
// before Record returns, so an acknowledged access has a durable trace.
// Concurrent Records share fsyncs: one sync covers every event appended
// before it began (group commit).
type FileSink struct {
	mu      sync.Mutex // guards f, written, err; serialises appends
	f       *os.File
	written uint64 // appends so far
	err     error  // sticky: after a failed write or sync nothing is trusted

	syncMu sync.Mutex // one fsync at a time; guards synced
	synced uint64     // appends known durable
}

// OpenFileSink opens (creating if needed) the append-only event file.
func OpenFileSink(path string) (*FileSink, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open audit file: %w", err)
	}
	return &FileSink{f: f}, nil
}

// Record appends and syncs the events; an error means none may be assumed durable.
func (s *FileSink) Record(_ context.Context, events []Event) error {
	var buf []byte
	for _, e := range events {
		b, err := json.Marshal(e)
		if err != nil {
			return fmt.Errorf("audit: encode event: %w", err)
		}
		buf = append(append(buf, b...), '\n')
	}
	s.mu.Lock()
	if err := s.usable(); err != nil {
		s.mu.Unlock()
		return err
	}
	if _, err := s.f.Write(buf); err != nil {
		s.err = fmt.Errorf("audit: write: %w", err)
		s.mu.Unlock()
		return s.err
	}
	s.written++
	mine := s.written
	s.mu.Unlock()

	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	if s.synced >= mine {
		return nil // a sync that began after our append covered it
	}
	s.mu.Lock()
	target, f, err := s.written, s.f, s.usable()
	s.mu.Unlock()
	if err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		s.mu.Lock()
		s.err = fmt.Errorf("audit: sync: %w", err)
		s.mu.Unlock()
		return s.err
	}
	s.synced = target
	return nil
}

func (s *FileSink) usable() error {
	if s.f == nil {
		return fmt.Errorf("audit: sink closed")
	}
	return s.err
}

// Close closes the file; later Records fail.
func (s *FileSink) Close() error {
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		return nil
	}
	err := s.f.Close()
	s.f = nil
	return err
}
