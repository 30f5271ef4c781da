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
// mu serialises writers.
type FileSink struct {
	mu sync.Mutex
	f  *os.File
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
	defer s.mu.Unlock()
	if s.f == nil {
		return fmt.Errorf("audit: sink closed")
	}
	if _, err := s.f.Write(buf); err != nil {
		return fmt.Errorf("audit: write: %w", err)
	}
	if err := s.f.Sync(); err != nil {
		return fmt.Errorf("audit: sync: %w", err)
	}
	return nil
}

// Close closes the file; later Records fail.
func (s *FileSink) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		return nil
	}
	err := s.f.Close()
	s.f = nil
	return err
}
