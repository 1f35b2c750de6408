package container

import "github.com/mydocker/mydocker/internal/kernel"

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
