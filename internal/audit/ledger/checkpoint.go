package ledger

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
)

// Checkpoint is a commitment to the tree at one size, in the C2SP
// tlog-checkpoint format (https://c2sp.org/tlog-checkpoint):
//
//	<origin>\n
//	<tree size, decimal>\n
//	<root hash, standard base64>\n
//
// signed as a C2SP signed note (https://c2sp.org/signed-note) with an
// Ed25519 key whose name is the origin.
type Checkpoint struct {
	Origin string
	Size   uint64
	Hash   []byte // RFC 6962 root hash of the first Size leaves
}

// ErrCheckpoint means a checkpoint is malformed, unsigned, signed by
// another key, or for another log.
var ErrCheckpoint = errors.New("ledger: invalid checkpoint")

// Marshal returns the checkpoint's note text.
func (c Checkpoint) Marshal() []byte {
	return fmt.Appendf(nil, "%s\n%d\n%s\n", c.Origin, c.Size, base64.StdEncoding.EncodeToString(c.Hash))
}

// ParseCheckpoint parses a checkpoint's note text (without signatures).
// Extension lines after the root hash are allowed and ignored.
func ParseCheckpoint(text []byte) (Checkpoint, error) {
	lines := strings.SplitAfter(string(text), "\n")
	if len(lines) < 4 || lines[len(lines)-1] != "" {
		return Checkpoint{}, fmt.Errorf("%w: want origin, size and hash lines ending in newline", ErrCheckpoint)
	}
	origin := strings.TrimSuffix(lines[0], "\n")
	sizeStr := strings.TrimSuffix(lines[1], "\n")
	hashStr := strings.TrimSuffix(lines[2], "\n")
	if origin == "" {
		return Checkpoint{}, fmt.Errorf("%w: empty origin", ErrCheckpoint)
	}
	size, err := strconv.ParseUint(sizeStr, 10, 64)
	if err != nil || strconv.FormatUint(size, 10) != sizeStr {
		return Checkpoint{}, fmt.Errorf("%w: bad tree size %q", ErrCheckpoint, sizeStr)
	}
	hash, err := base64.StdEncoding.DecodeString(hashStr)
	if err != nil || len(hash) != 32 {
		return Checkpoint{}, fmt.Errorf("%w: bad root hash", ErrCheckpoint)
	}
	return Checkpoint{Origin: origin, Size: size, Hash: hash}, nil
}

// SignCheckpoint returns c as a signed note. c.Origin must be the
// signer's name.
func SignCheckpoint(c Checkpoint, s note.Signer) ([]byte, error) {
	if c.Origin != s.Name() {
		return nil, fmt.Errorf("%w: origin %q is not the key name %q", ErrCheckpoint, c.Origin, s.Name())
	}
	return note.Sign(&note.Note{Text: string(c.Marshal())}, s)
}

// OpenCheckpoint checks that signed is a checkpoint note signed by v's
// key, for the log named v.Name(), and returns it.
func OpenCheckpoint(signed []byte, v note.Verifier) (Checkpoint, error) {
	n, err := note.Open(signed, note.VerifierList(v))
	if err != nil {
		return Checkpoint{}, fmt.Errorf("%w: %w", ErrCheckpoint, err)
	}
	c, err := ParseCheckpoint([]byte(n.Text))
	if err != nil {
		return Checkpoint{}, err
	}
	if c.Origin != v.Name() {
		return Checkpoint{}, fmt.Errorf("%w: origin %q, want %q", ErrCheckpoint, c.Origin, v.Name())
	}
	return c, nil
}

// SyslogPrefix starts the syslog message that carries a checkpoint: the
// prefix, then the signed note in standard base64, on one line.
const SyslogPrefix = "ward-audit-checkpoint "

// SplitNotes extracts signed notes from what the sinks wrote: the
// concatenated notes of a FileSink (blank lines between them allowed),
// and syslog lines that carry a SyslogPrefix and a base64 note anywhere
// in them (so a whole syslog file can be given). Other lines outside
// notes are ignored. The notes are not verified.
func SplitNotes(data []byte) [][]byte {
	var notes [][]byte
	var cur []byte  // note being collected
	inSigs := false // cur has reached its signature lines
	flush := func() {
		if inSigs {
			notes = append(notes, cur)
		}
		cur, inSigs = nil, false
	}
	for line := range bytes.Lines(data) {
		body := bytes.TrimRight(line, "\r\n")
		if _, b64, ok := bytes.Cut(body, []byte(SyslogPrefix)); ok {
			flush()
			if n, err := base64.StdEncoding.DecodeString(string(bytes.TrimSpace(b64))); err == nil {
				notes = append(notes, n)
			}
			continue
		}
		switch {
		case bytes.HasPrefix(body, []byte("— ")):
			if len(cur) > 0 && bytes.HasSuffix(cur, []byte("\n\n")) || inSigs {
				inSigs = true
				cur = append(cur, body...)
				cur = append(cur, '\n')
			}
		case len(body) == 0:
			if inSigs {
				flush()
			} else if len(cur) > 0 {
				cur = append(cur, '\n') // the blank line before the signatures
			}
		default:
			if inSigs {
				flush()
			}
			if bytes.HasSuffix(cur, []byte("\n\n")) {
				cur = nil // a blank line inside text: not a note; restart
			}
			cur = append(cur, body...)
			cur = append(cur, '\n')
		}
	}
	flush()
	return notes
}
