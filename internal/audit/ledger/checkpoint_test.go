package ledger_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"strings"
	"testing"

	"golang.org/x/mod/sumdb/note"

	"github.com/wardhealth/ward/internal/audit/ledger"
)

func TestCheckpointFormat(t *testing.T) {
	s, v := testKey(t)
	root := bytes.Repeat([]byte{0xab}, 32)
	c := ledger.Checkpoint{Origin: origin, Size: 1234, Hash: root}
	signed, err := ledger.SignCheckpoint(c, s)
	if err != nil {
		t.Fatal(err)
	}
	// A C2SP signed note: the checkpoint body, a blank line, and an
	// Ed25519 signature line by the origin's key, readable by note.Open.
	want := origin + "\n1234\n" + base64.StdEncoding.EncodeToString(root) + "\n"
	n, err := note.Open(signed, note.VerifierList(v))
	if err != nil {
		t.Fatalf("note.Open: %v", err)
	}
	if n.Text != want {
		t.Errorf("note text = %q, want %q", n.Text, want)
	}
	if len(n.Sigs) != 1 || n.Sigs[0].Name != origin || n.Sigs[0].Hash != v.KeyHash() {
		t.Errorf("signatures = %+v", n.Sigs)
	}
	if !strings.HasPrefix(string(signed), want+"\n— "+origin+" ") {
		t.Errorf("signed note = %q", signed)
	}
	got, err := ledger.OpenCheckpoint(signed, v)
	if err != nil || got.Size != 1234 || got.Origin != origin || !bytes.Equal(got.Hash, root) {
		t.Errorf("OpenCheckpoint = %+v, %v", got, err)
	}
}

func TestOpenCheckpointRejects(t *testing.T) {
	s, v := testKey(t)
	c := ledger.Checkpoint{Origin: origin, Size: 5, Hash: make([]byte, 32)}
	good, err := ledger.SignCheckpoint(c, s)
	if err != nil {
		t.Fatal(err)
	}
	byOther, err := ledger.SignCheckpoint(c, otherKey(t))
	if err != nil {
		t.Fatal(err)
	}
	edited := bytes.Replace(bytes.Clone(good), []byte("\n5\n"), []byte("\n6\n"), 1)
	// Another log whose key v would accept if the origin were not checked.
	wrongOrigin, err := note.Sign(&note.Note{Text: "elsewhere\n5\n" + base64.StdEncoding.EncodeToString(make([]byte, 32)) + "\n"}, s)
	if err != nil {
		t.Fatal(err)
	}
	for name, signed := range map[string][]byte{
		"another key": byOther, "edited": edited, "unsigned": c.Marshal(), "other origin": wrongOrigin, "empty": nil,
	} {
		if _, err := ledger.OpenCheckpoint(signed, v); !errors.Is(err, ledger.ErrCheckpoint) {
			t.Errorf("%s: OpenCheckpoint = %v, want ErrCheckpoint", name, err)
		}
	}
	if _, err := ledger.SignCheckpoint(ledger.Checkpoint{Origin: "x", Size: 1, Hash: make([]byte, 32)}, s); err == nil {
		t.Error("signed a checkpoint whose origin is not the key name")
	}
}

func TestParseCheckpoint(t *testing.T) {
	h := base64.StdEncoding.EncodeToString(make([]byte, 32))
	good := map[string]string{
		"plain":     "o\n7\n" + h + "\n",
		"extension": "o\n7\n" + h + "\nsome extension\n",
	}
	for name, text := range good {
		if c, err := ledger.ParseCheckpoint([]byte(text)); err != nil || c.Size != 7 || c.Origin != "o" {
			t.Errorf("%s: %+v, %v", name, c, err)
		}
	}
	bad := map[string]string{
		"no newline":    "o\n7\n" + h,
		"no origin":     "\n7\n" + h + "\n",
		"leading zero":  "o\n07\n" + h + "\n",
		"negative":      "o\n-7\n" + h + "\n",
		"short hash":    "o\n7\nAAAA\n",
		"not base64":    "o\n7\n!!\n",
		"missing lines": "o\n7\n",
	}
	for name, text := range bad {
		if _, err := ledger.ParseCheckpoint([]byte(text)); !errors.Is(err, ledger.ErrCheckpoint) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
}

func TestSplitNotes(t *testing.T) {
	s, _ := testKey(t)
	var notes [][]byte
	for size := range uint64(3) {
		n, err := ledger.SignCheckpoint(ledger.Checkpoint{Origin: origin, Size: size + 1, Hash: make([]byte, 32)}, s)
		if err != nil {
			t.Fatal(err)
		}
		notes = append(notes, n)
	}
	syslogLine := "Nov 23 10:02:11 host ward[42]: " + ledger.SyslogPrefix + base64.StdEncoding.EncodeToString(notes[2]) + "\n"
	input := string(notes[0]) + "\n" + string(notes[1]) + // file sink format, with and without separator
		"garbage line\n— dangling signature\n" + syslogLine + "Nov 23 10:02:12 host sshd[1]: unrelated\n"
	got := ledger.SplitNotes([]byte(input))
	if len(got) != 3 {
		t.Fatalf("SplitNotes found %d notes, want 3: %q", len(got), got)
	}
	for i := range got {
		if !bytes.Equal(got[i], notes[i]) {
			t.Errorf("note %d = %q, want %q", i, got[i], notes[i])
		}
	}
	// Back to back, without blank lines between notes.
	if got := ledger.SplitNotes(append(bytes.Clone(notes[0]), notes[1]...)); len(got) != 2 {
		t.Errorf("back-to-back notes: found %d", len(got))
	}
}

func FuzzSplitNotes(f *testing.F) {
	f.Add([]byte("o\n1\nAAAA\n\n— o abc\n"))
	f.Add([]byte(ledger.SyslogPrefix + "b3JpZ2luCg==\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, n := range ledger.SplitNotes(data) {
			_, _ = ledger.ParseCheckpoint(n)
		}
	})
}
