package container

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/mydocker/mydocker/cgroups"
	"github.com/mydocker/mydocker/internal/procfs"
)

// StatsRow is one line of `mydocker stats`.
type StatsRow struct {
	ID, Name   string
	CPUPercent float64 // of one CPU: 200% is both CPUs of a 2-CPU machine, as docker
	MemUsage   uint64
	MemLimit   uint64 // the cgroup's limit, or the machine's memory when none
	Pids       uint64
	// NetRx and NetTx are the bytes its interfaces (not lo) received and
	// sent, when NetRead (a running container with a network of its own).
	NetRx, NetTx uint64
	NetRead      bool
}

// MemPercent is the usage as a share of the limit.
func (s StatsRow) MemPercent() float64 {
	if s.MemLimit == 0 {
		return 0
	}
	return float64(s.MemUsage) / float64(s.MemLimit) * 100
}

// Sampler reads containers' cgroups at intervals; CPU % is the CPU time
// used between two readings against the machine's, as docker computes it.
type Sampler struct {
	r        *Runtime
	refs     []string // none: every running container, looked up anew each time
	Interval time.Duration
	prev     map[string]uint64 // container id -> CPU ns at the last reading
	prevHost cgroups.HostCPU
}

// NewSampler samples refs (or all running containers) every second.
func (r *Runtime) NewSampler(refs []string) *Sampler {
	return &Sampler{r: r, refs: refs, Interval: time.Second}
}

type reading struct {
	c  *Config
	st *cgroups.Stats // nil when the container has no cgroup (not running)
}

// Next waits an interval (two readings the first time, so that CPU % has a
// span to cover) and returns one row per container.
func (s *Sampler) Next() ([]StatsRow, error) {
	if s.prev == nil {
		if _, err := s.read(); err != nil {
			return nil, err
		}
	}
	time.Sleep(s.Interval)
	return s.read()
}

func (s *Sampler) read() ([]StatsRow, error) {
	list, err := s.containers()
	if err != nil {
		return nil, err
	}
	host, err := cgroups.ReadHostCPU()
	if err != nil {
		return nil, err
	}
	total := hostMemory()
	cur := map[string]uint64{}
	rows := make([]StatsRow, 0, len(list))
	for _, c := range list {
		row := StatsRow{ID: c.ID, Name: c.Name}
		if c.IsRunning() {
			m, err := s.r.cgroup(c)
			if err != nil {
				return nil, err
			}
			if st, err := m.Stats(); err == nil {
				cur[c.ID] = st.CPUUsageNs
				if prev, ok := s.prev[c.ID]; ok {
					row.CPUPercent = cgroups.CPUPercent(prev, st.CPUUsageNs, s.prevHost, host)
				}
				row.MemUsage, row.MemLimit, row.Pids = st.MemoryUsage, st.MemoryLimit, st.Pids
				if row.MemLimit == 0 || row.MemLimit > total {
					row.MemLimit = total
				}
			}
			if c.NetworkMode != NetworkHost {
				if rx, tx, err := procfs.NetIO(c.Pid); err == nil {
					row.NetRx, row.NetTx, row.NetRead = rx, tx, true
				}
			}
		}
		rows = append(rows, row)
	}
	s.prev, s.prevHost = cur, host
	return rows, nil
}

// containers are the named ones, or every running one.
func (s *Sampler) containers() ([]*Config, error) {
	if len(s.refs) == 0 {
		all, err := s.r.store().List()
		if err != nil {
			return nil, err
		}
		var out []*Config
		for _, c := range all {
			if c.IsRunning() {
				out = append(out, c)
			}
		}
		return out, nil
	}
	out := make([]*Config, 0, len(s.refs))
	for _, ref := range s.refs {
		c, err := s.r.store().Get(ref)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// hostMemory is MemTotal, the limit stats shows for an unlimited container.
func hostMemory() uint64 {
	f, err := os.Open("/proc/meminfo")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "MemTotal:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb * 1024
		}
	}
	return 0
}

// WriteStats prints rows as docker stats does.
func WriteStats(w io.Writer, rows []StatsRow) error {
	tw := tabwriter.NewWriter(w, 0, 0, 3, ' ', 0)
	fmt.Fprintln(tw, "CONTAINER ID\tNAME\tCPU %\tMEM USAGE / LIMIT\tMEM %\tPIDS")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%.2f%%\t%s / %s\t%.2f%%\t%d\n", ShortID(r.ID), r.Name, r.CPUPercent,
			BytesSize(r.MemUsage), BytesSize(r.MemLimit), r.MemPercent(), r.Pids)
	}
	return tw.Flush()
}

// BytesSize writes a size as docker does: four significant digits and a
// binary unit ("1.953MiB", "64MiB", "0B").
func BytesSize(n uint64) string {
	units := []string{"B", "KiB", "MiB", "GiB", "TiB", "PiB"}
	v, i := float64(n), 0
	for v >= 1024 && i < len(units)-1 {
		v /= 1024
		i++
	}
	return strconv.FormatFloat(v, 'g', 4, 64) + units[i]
}
