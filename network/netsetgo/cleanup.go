package netsetgo

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"

	"github.com/vishvananda/netlink"

	"github.com/mydocker/mydocker/internal/kernel"
	"github.com/mydocker/mydocker/internal/statefile"
	"github.com/mydocker/mydocker/network"
)

// Cleanup removes what the wiring of pid made: its veth pair, its
// record, and, when no other wiring uses the bridge any more, the rules it
// appended. With removeBridge (the bridge's name, "" for none) it also
// deletes the bridge if netsetgo created it and nothing else is plugged
// into it (or takes back the address it put on a bridge it reused). Without
// a wiring for pid, only that bridge is looked at.
func (s *Wirer) Cleanup(pid int, removeBridge string) error {
	if pid <= 0 {
		return errors.New("netsetgo needs a pid")
	}
	s.k.Let("PID", strconv.Itoa(pid))
	return network.Locked(s.root, func() error {
		w, err := s.loadWiring(pid)
		if errors.Is(err, statefile.ErrCorrupt) {
			// What it named is unknown: its veth went with the process's
			// namespace, or stays with the process.
			s.k.Log().Warnf("%v: removing it", err)
			return s.k.Do(kernel.RemoveState{Path: s.wiringPath(pid)})
		}
		if perr := s.pruneWirings(pid); perr != nil {
			return perr
		}
		if errors.Is(err, os.ErrNotExist) {
			if removeBridge != "" {
				if rec, err := s.loadBridgeRecord(removeBridge); err == nil && rec.held() {
					return s.releaseBridge(removeBridge, true, 0)
				}
			}
			// A cleanup killed after its last record went may have left
			// the base chains, empty: they go now (kept while used).
			if err := network.NewFirewall(s.k).ReleaseBase(); err != nil {
				return err
			}
			return fmt.Errorf("%w for pid %d (no record in %s)", ErrNoWiring, pid, s.dir())
		}
		if err != nil {
			return err
		}
		if removeBridge != "" && removeBridge != w.Bridge {
			return fmt.Errorf("pid %d is wired to the bridge %s, not %s", pid, w.Bridge, removeBridge)
		}
		return s.unwire(w, removeBridge != "")
	})
}

// Watch waits for the process of w to exit, then cleans up as
// Cleanup does (a wiring already cleaned up meanwhile is fine).
func (s *Wirer) Watch(w *Wiring, removeBridge string) error {
	s.k.Log().Infof("watching pid %d: its wiring goes when it exits", w.Pid)
	if err := waitExit(w.Pid, w.StartTime); err != nil {
		return err
	}
	s.k.Log().Infof("pid %d exited: cleaning up", w.Pid)
	err := s.Cleanup(w.Pid, removeBridge)
	if errors.Is(err, ErrNoWiring) {
		return nil
	}
	return err
}

// unwire removes one wiring (held lock), then what its bridge no longer needs.
func (s *Wirer) unwire(w *Wiring, removeBridge bool) error {
	var errs []error
	// Only the link this wiring made: the name may have been reused by a
	// later wiring after this one's process died and took its veth along.
	// (An unfinished wiring has no index yet; its names were free when it
	// was recorded, and nobody could take them while its pair held them.)
	if l, err := netlink.LinkByName(w.HostVeth); err == nil && (l.Attrs().Index == w.HostVethIndex || w.Wiring) && l.Type() == "veth" {
		errs = append(errs, s.k.Do(kernel.LinkDel{Name: w.HostVeth, Peer: w.PeerVeth, PeerIn: w.Pid,
			Reason: fmt.Sprintf("delete the veth pair %s/%s of pid %d (both ends go)", w.HostVeth, w.PeerVeth, w.Pid)}))
	}
	// The record goes last: a cleanup killed before it leaves it for the
	// next one.
	errs = append(errs, s.releaseBridge(w.Bridge, removeBridge, w.Pid))
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("clean up the wiring of pid %d: %w", w.Pid, err)
	}
	if err := s.k.Do(kernel.RemoveState{Path: s.wiringPath(w.Pid)}); err != nil {
		return fmt.Errorf("clean up the wiring of pid %d: %w", w.Pid, err)
	}
	s.k.Log().Infof("wiring of pid %d removed (%s on %s)", w.Pid, w.HostVeth, w.Bridge)
	return nil
}

// releaseBridge undoes what netsetgo did to a bridge once no wiring uses
// it (but the one of pid going): its rules; with removeBridge, the bridge
// itself (if netsetgo created it and no port is left on it) or the address
// it added.
func (s *Wirer) releaseBridge(name string, removeBridge bool, going int) error {
	ws, err := s.loadWirings()
	if err != nil {
		return err
	}
	for _, w := range ws {
		if w.Bridge == name && w.Pid != going {
			return nil // still used
		}
	}
	rec, err := s.loadBridgeRecord(name)
	if err != nil {
		return err
	}
	var errs []error
	rules := make([]network.Rule, 0, len(rec.Rules))
	for i := len(rec.Rules) - 1; i >= 0; i-- {
		rules = append(rules, rec.Rules[i])
	}
	errs = append(errs, network.NewFirewall(s.k).DelRules(fmt.Sprintf("no wiring on %s left: remove its rules", name), rules))
	rec.Rules = nil
	br, lerr := netlink.LinkByName(name)
	if lerr != nil {
		rec.Created, rec.AddedAddress = false, "" // gone: deleted by someone else
	}
	if removeBridge && lerr == nil {
		switch {
		case rec.Created && hasPorts(br):
			s.k.Log().Warnf("bridge %s kept: other links are plugged into it", name)
		case rec.Created:
			errs = append(errs, s.k.Do(kernel.LinkDel{Name: name, Reason: fmt.Sprintf("delete the bridge %s netsetgo created (its address goes with it)", name)}))
			rec.Created = false
		case rec.AddedAddress != "":
			if _, a, err := net.ParseCIDR(rec.AddedAddress); err == nil {
				ip, _, _ := net.ParseCIDR(rec.AddedAddress)
				errs = append(errs, s.k.Do(kernel.AddrDel{Dev: name, Addr: &net.IPNet{IP: ip, Mask: a.Mask}, Reason: fmt.Sprintf("take back the address netsetgo put on the bridge %s", name)}))
			}
			rec.AddedAddress = ""
		}
	}
	errs = append(errs, s.k.Do(s.bridgeRecordOp(rec)), network.NewFirewall(s.k).ReleaseBase())
	return errors.Join(errs...)
}

// hasPorts reports whether any link is plugged into the bridge.
func hasPorts(br netlink.Link) bool {
	ls, err := netlink.LinkList()
	if err != nil {
		return true // when in doubt, keep it
	}
	for _, l := range ls {
		if l.Attrs().MasterIndex == br.Attrs().Index {
			return true
		}
	}
	return false
}
