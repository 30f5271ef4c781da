//go:build !windows && !plan9

package ledger

import (
	"context"
	"encoding/base64"
	"fmt"
	"log/syslog"
)

// SyslogSink sends each checkpoint to syslog as one line: SyslogPrefix
// followed by the signed note in standard base64. Forward syslog to a
// host the database administrator does not control. SplitNotes reads the
// checkpoints back out of a syslog file.
type SyslogSink struct {
	w *syslog.Writer
}

// DialSyslog connects to a syslog daemon (network and raddr as for
// syslog.Dial; both empty for the local daemon) and logs with facility
// AUTHPRIV, severity NOTICE, under tag.
func DialSyslog(network, raddr, tag string) (*SyslogSink, error) {
	w, err := syslog.Dial(network, raddr, syslog.LOG_AUTHPRIV|syslog.LOG_NOTICE, tag)
	if err != nil {
		return nil, fmt.Errorf("ledger: syslog: %w", err)
	}
	return &SyslogSink{w: w}, nil
}

// Publish implements Sink.
func (s *SyslogSink) Publish(_ context.Context, note []byte) error {
	if err := s.w.Notice(SyslogPrefix + base64.StdEncoding.EncodeToString(note)); err != nil {
		return fmt.Errorf("ledger: syslog: %w", err)
	}
	return nil
}

// Close closes the connection to the daemon.
func (s *SyslogSink) Close() error { return s.w.Close() }
