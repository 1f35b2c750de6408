package container

import (
	"bytes"
	"encoding/json"
	"io"
	"os"

	"github.com/mydocker/mydocker/internal/kernel"
)

// recordHead is what of a container's record (config.json) settling it
// and choosing a new container's name need: its owners and status.
// Decoding a whole record (its run options, mounts, networks) for each
// container is what made every `run` slower the more containers there
// were (bench/README.md, "Many containers"); this is a tenth of it.
type recordHead struct {
	ID, Name, Status       string
	Pid, MonitorPid        int
	PidStart, MonitorStart uint64
	Creator                int
	CreatorStart           uint64
	Releasing, AutoRemove  bool
	Made                   bool
}

// scanHeads reads every container's record as scan does, for what
// settle and Create need of it: only its head (recordHead), unless its
// fate is to be settled or it cannot be read that way, when the whole
// record is read, validated, as scan reads it. Not in creation order.
func (s Store) scanHeads() ([]*Config, error) { return s.scanWith(s.head) }

// head is the record of the state directory id as scanHeads reads it.
func (s Store) head(id string) (*Config, error) {
	var h recordHead
	if err := kernel.ReadState(s.k(), s.Paths.configPath(id), &h); err == nil && h.ID == id {
		c := &Config{ID: h.ID, Name: h.Name, Status: h.Status, Pid: h.Pid, PidStart: h.PidStart,
			MonitorPid: h.MonitorPid, MonitorStart: h.MonitorStart, Creator: h.Creator, CreatorStart: h.CreatorStart,
			Releasing: h.Releasing, AutoRemove: h.AutoRemove, Made: h.Made}
		if c.fate() == fateNone {
			return c, nil
		}
	}
	return s.entry(id)
}

// scanNames reads every container's record for the check that a new
// container's name is free: only its id and name (nameHead).
func (s Store) scanNames() ([]*Config, error) { return s.scanWith(s.nameHead) }

// nameHead is the record of the state directory id as scanNames reads it:
// the first two fields of every record (Config's order), ID and Name, read
// from its first bytes without decoding the rest; the head decoded all of
// a record's JSON, 0.2 ms a container here. A plan's records, and any that
// does not begin so (an older or a damaged one), are read as head reads
// them.
func (s Store) nameHead(id string) (*Config, error) {
	if _, plan := s.k().(*kernel.Plan); !plan {
		if c, ok := readIDName(s.Paths.configPath(id)); ok && c.ID == id {
			return c, nil
		}
	}
	return s.head(id)
}

// readIDName reads a record's leading ID and Name fields.
func readIDName(path string) (*Config, bool) {
	f, err := os.Open(path)
	if err != nil {
		return nil, false
	}
	defer f.Close()
	buf := make([]byte, 512) // an id (64), a name, the JSON around them
	n, _ := io.ReadFull(f, buf)
	dec := json.NewDecoder(bytes.NewReader(buf[:n]))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, false
	}
	var got [2]string
	for i, key := range []string{"ID", "Name"} {
		if t, err := dec.Token(); err != nil || t != key {
			return nil, false
		}
		t, err := dec.Token()
		v, ok := t.(string)
		if err != nil || !ok {
			return nil, false
		}
		got[i] = v
	}
	return &Config{ID: got[0], Name: got[1]}, true
}
