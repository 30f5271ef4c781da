package ledger

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
)

// Sink receives every signed checkpoint the ledger makes, to keep it
// somewhere the database administrator cannot rewrite. Verify takes what
// the sinks kept (see SplitNotes) as its external checkpoints.
type Sink interface {
	// Publish durably records one signed checkpoint note.
	Publish(ctx context.Context, note []byte) error
}

// FileSink appends checkpoint notes to a file opened in append mode,
// created with mode 0600, with a blank line between notes, and syncs
// after each. Put the file outside the data directory, on storage the
// database administrator cannot write (for example a separate volume,
// with chattr +a on Linux).
type FileSink struct {
	mu sync.Mutex // serialises appends; guards f
	f  *os.File
}

// OpenFileSink opens, creating if needed, the checkpoint file at path.
func OpenFileSink(path string) (*FileSink, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("ledger: open checkpoint file: %w", err)
	}
	return &FileSink{f: f}, nil
}

// Publish implements Sink.
func (s *FileSink) Publish(_ context.Context, note []byte) error {
	buf := make([]byte, 0, len(note)+1)
	buf = append(append(buf, note...), '\n')
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.f == nil {
		return errors.New("ledger: checkpoint file closed")
	}
	if _, err := s.f.Write(buf); err != nil {
		return fmt.Errorf("ledger: write checkpoint file: %w", err)
	}
	if err := s.f.Sync(); err != nil {
		return fmt.Errorf("ledger: sync checkpoint file: %w", err)
	}
	return nil
}

// Close closes the file; later Publishes fail.
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
