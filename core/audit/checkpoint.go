package audit

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"time"
)

// Checkpoint is a signed statement of the chain head at a time: entry Seq
// has seal Hash, and the chain's first keyed entry is AnchorSeq with seal
// AnchorHash. opsbot publishes one every hour and on demand outside the
// database (a file, syslog, the sys admins' chat); verify checks the chain
// against all of them, so a truncated or rebuilt log no longer passes.
type Checkpoint struct {
	Seq        int64     `json:"seq"`
	Hash       string    `json:"hash"`
	At         time.Time `json:"at"`
	AnchorSeq  int64     `json:"anchor_seq"`
	AnchorHash string    `json:"anchor_hash"`
	KeyID      string    `json:"key_id"`
	Sig        string    `json:"sig"`
}

func (c Checkpoint) fields() []string {
	return []string{"opsbot-audit-checkpoint-v1", strconv.FormatInt(c.Seq, 10), c.Hash,
		c.At.UTC().Truncate(time.Microsecond).Format(time.RFC3339Nano), strconv.FormatInt(c.AnchorSeq, 10), c.AnchorHash, c.KeyID}
}

// Sign returns c with its key id and signature set.
func (k *Key) Sign(c Checkpoint) Checkpoint {
	c.At = c.At.UTC().Truncate(time.Microsecond)
	c.KeyID = k.ID()
	c.Sig = k.sign(c.fields()...)
	return c
}

// ErrBadCheckpoint means a checkpoint's signature does not match the key.
var ErrBadCheckpoint = errors.New("checkpoint signature does not match the audit key")

// Check returns nil when c was signed with k.
func (k *Key) Check(c Checkpoint) error {
	if c.KeyID != k.ID() {
		return fmt.Errorf("%w: signed with key %s, this key is %s", ErrBadCheckpoint, c.KeyID, k.ID())
	}
	if !hmac.Equal([]byte(c.Sig), []byte(k.sign(c.fields()...))) {
		return ErrBadCheckpoint
	}
	return nil
}

// ReadCheckpoints parses a checkpoint file (JSON lines; blank lines
// skipped) and checks every signature with key. A line that does not
// parse or verify is an error naming the line.
func ReadCheckpoints(r io.Reader, key *Key) ([]Checkpoint, error) {
	var out []Checkpoint
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for n := 1; sc.Scan(); n++ {
		line := bytes.TrimSpace(sc.Bytes())
		if len(line) == 0 {
			continue
		}
		var c Checkpoint
		if err := json.Unmarshal(line, &c); err != nil {
			return nil, fmt.Errorf("checkpoint line %d: %w", n, err)
		}
		if err := key.Check(c); err != nil {
			return nil, fmt.Errorf("checkpoint line %d (entry %d at %s): %w", n, c.Seq, c.At.Format(time.RFC3339), err)
		}
		out = append(out, c)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("checkpoints: %w", err)
	}
	return out, nil
}

// Publisher publishes a signed checkpoint outside the database.
type Publisher interface {
	Publish(ctx context.Context, c Checkpoint) error
}

// FileSink appends checkpoints to a file as JSON lines, synced to disk.
// Keep the file where the database's admins cannot write (another host,
// or chattr +a); it is the record verify --checkpoint reads.
type FileSink struct{ Path string }

// Publish appends c to the file, creating it (0600) when missing.
func (f FileSink) Publish(_ context.Context, c Checkpoint) error {
	line, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("checkpoint file: %w", err)
	}
	fh, err := os.OpenFile(f.Path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("checkpoint file: %w", err)
	}
	if _, err := fh.Write(append(line, '\n')); err != nil {
		_ = fh.Close()
		return fmt.Errorf("checkpoint file %s: %w", f.Path, err)
	}
	if err := fh.Sync(); err != nil {
		_ = fh.Close()
		return fmt.Errorf("checkpoint file %s: %w", f.Path, err)
	}
	if err := fh.Close(); err != nil {
		return fmt.Errorf("checkpoint file %s: %w", f.Path, err)
	}
	return nil
}

// Published returns the checkpoints in the file, their signatures checked
// with key; none when the file does not exist yet.
func (f FileSink) Published(_ context.Context, key *Key) ([]Checkpoint, error) {
	fh, err := os.Open(f.Path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("checkpoint file: %w", err)
	}
	defer fh.Close()
	cps, err := ReadCheckpoints(fh, key)
	if err != nil {
		return nil, fmt.Errorf("checkpoint file %s: %w", f.Path, err)
	}
	return cps, nil
}

// Source is a publisher whose checkpoints can be read back: a new
// checkpoint is signed only when the chain still matches them.
type Source interface {
	Published(ctx context.Context, key *Key) ([]Checkpoint, error)
}

// WriterSink writes checkpoints as JSON lines to w (syslog, a log stream).
type WriterSink struct {
	W      io.Writer
	Prefix string // e.g. "opsbot audit checkpoint "
}

// Publish writes c as one line.
func (s WriterSink) Publish(_ context.Context, c Checkpoint) error {
	line, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	if _, err := fmt.Fprintf(s.W, "%s%s\n", s.Prefix, line); err != nil {
		return fmt.Errorf("checkpoint: %w", err)
	}
	return nil
}
