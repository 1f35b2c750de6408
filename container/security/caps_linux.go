package security

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// ApplyCaps sets the calling thread's capabilities to c, in runc's order
// (libcontainer/capabilities): the bounding set is cut first
// (PR_CAPBSET_DROP for each capability not in it, which needs CAP_SETPCAP),
// ambient is cleared, then permitted, effective and inheritable are set with
// one capset(2). Capabilities are per thread: call it on the locked OS thread
// that then execs. A user switch (SetUser) goes between DropBounding and
// SetCaps; ApplyCaps does both when there is none.
func ApplyCaps(c Caps, lastCap int) error {
	if err := DropBounding(c.Bounding, lastCap); err != nil {
		return err
	}
	return SetCaps(c)
}

// DropBounding removes from the bounding set every capability up to lastCap
// that keep does not name.
func DropBounding(keep []string, lastCap int) error {
	bits, err := capBits(keep)
	if err != nil {
		return err
	}
	for n := 0; n <= lastCap; n++ {
		if bits&(1<<n) != 0 {
			continue
		}
		if err := unix.Prctl(unix.PR_CAPBSET_DROP, uintptr(n), 0, 0, 0); err != nil && err != unix.EINVAL {
			return fmt.Errorf("prctl(PR_CAPBSET_DROP, %s): %w", CapName(n), err)
		}
	}
	return nil
}

// SetCaps clears the ambient set and sets permitted, effective and
// inheritable with capset(2) (version 3, 64 bits).
func SetCaps(c Caps) error {
	if err := unix.Prctl(unix.PR_CAP_AMBIENT, unix.PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0); err != nil && err != unix.EINVAL {
		return fmt.Errorf("prctl(PR_CAP_AMBIENT_CLEAR_ALL): %w", err)
	}
	var sets [3]uint64
	for i, names := range [][]string{c.Permitted, c.Effective, c.Inheritable} {
		b, err := capBits(names)
		if err != nil {
			return err
		}
		sets[i] = b
	}
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	for i := 0; i < 2; i++ {
		data[i].Permitted = uint32(sets[0] >> (32 * i))
		data[i].Effective = uint32(sets[1] >> (32 * i))
		data[i].Inheritable = uint32(sets[2] >> (32 * i))
	}
	if err := unix.Capset(&hdr, &data[0]); err != nil {
		return fmt.Errorf("capset: %w", err)
	}
	return nil
}
