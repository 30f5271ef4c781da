package ledger_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/wardhealth/ward/internal/audit/ledger"
)

func TestFileSink(t *testing.T) {
	path := filepath.Join(t.TempDir(), "checkpoints")
	s, v := testKey(t)
	var want [][]byte
	for round := range 2 { // reopening appends
		sink, err := ledger.OpenFileSink(path)
		if err != nil {
			t.Fatal(err)
		}
		for i := range 2 {
			n, err := ledger.SignCheckpoint(ledger.Checkpoint{Origin: origin, Size: uint64(10*round + i + 1), Hash: make([]byte, 32)}, s)
			if err != nil {
				t.Fatal(err)
			}
			if err := sink.Publish(context.Background(), n); err != nil {
				t.Fatal(err)
			}
			want = append(want, n)
		}
		if err := sink.Close(); err != nil {
			t.Fatal(err)
		}
		if err := sink.Publish(context.Background(), want[0]); err == nil {
			t.Error("Publish after Close succeeded")
		}
	}
	if fi, err := os.Stat(path); err != nil || (runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600) {
		t.Errorf("checkpoint file mode = %v, %v; want 0600", fi.Mode().Perm(), err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	got := ledger.SplitNotes(data)
	if len(got) != len(want) {
		t.Fatalf("file holds %d notes, want %d", len(got), len(want))
	}
	for i := range got {
		if !bytes.Equal(got[i], want[i]) {
			t.Errorf("note %d differs", i)
		}
		if _, err := ledger.OpenCheckpoint(got[i], v); err != nil {
			t.Errorf("note %d: %v", i, err)
		}
	}
}

func TestSyslogSink(t *testing.T) {
	if runtime.GOOS == "windows" || runtime.GOOS == "plan9" {
		t.Skip("no syslog")
	}
	// A fake syslog daemon on a Unix datagram socket.
	addr := filepath.Join(t.TempDir(), "log")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: addr, Net: "unixgram"})
	if err != nil {
		t.Skipf("unixgram: %v", err)
	}
	defer conn.Close()
	sink, err := ledger.DialSyslog("unixgram", addr, "ward")
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	s, v := testKey(t)
	n, err := ledger.SignCheckpoint(ledger.Checkpoint{Origin: origin, Size: 9, Hash: make([]byte, 32)}, s)
	if err != nil {
		t.Fatal(err)
	}
	if err := sink.Publish(context.Background(), n); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4096)
	k, err := conn.Read(buf)
	if err != nil {
		t.Fatal(err)
	}
	msg := string(buf[:k])
	if !strings.Contains(msg, ledger.SyslogPrefix+base64.StdEncoding.EncodeToString(n)) || strings.Count(strings.TrimSpace(msg), "\n") != 0 {
		t.Errorf("syslog message = %q", msg)
	}
	// A syslog file with that line yields the checkpoint back.
	notes := ledger.SplitNotes([]byte("Nov 23 host ward: " + msg[strings.Index(msg, ledger.SyslogPrefix):] + "\n"))
	if len(notes) != 1 {
		t.Fatalf("SplitNotes found %d notes", len(notes))
	}
	if c, err := ledger.OpenCheckpoint(notes[0], v); err != nil || c.Size != 9 {
		t.Errorf("checkpoint from syslog: %+v, %v", c, err)
	}
}
