package security

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"unsafe"

	"golang.org/x/sys/unix"
)

// ApplyDevicesV1 sets a cgroup v1 devices controller directory to rules with
// V1Writes, then reads devices.list back and checks it is what
// ExpectedDevicesList says.
func ApplyDevicesV1(dir string, rules []*DeviceRule) error {
	for _, w := range V1Writes(rules) {
		if err := os.WriteFile(filepath.Join(dir, w.File), []byte(w.Line), 0); err != nil {
			return fmt.Errorf("devices cgroup: %s: %w", w.Command(dir), err)
		}
	}
	return VerifyDevicesV1(dir, rules)
}

// VerifyDevicesV1 compares dir's devices.list with the expected list.
func VerifyDevicesV1(dir string, rules []*DeviceRule) error {
	want, err := ExpectedDevicesList(rules)
	if err != nil {
		return err
	}
	b, err := os.ReadFile(filepath.Join(dir, "devices.list"))
	if err != nil {
		return err
	}
	got, err := ParseDevicesList(bytes.NewReader(b))
	if err != nil {
		return err
	}
	if !SameDevicesList(got, want) {
		return fmt.Errorf("devices cgroup %s: devices.list is %q, want %v", dir, b, want)
	}
	return nil
}

func bpfSyscall(cmd int, attr unsafe.Pointer, size uintptr) (int, error) {
	r, _, errno := unix.Syscall(unix.SYS_BPF, uintptr(cmd), uintptr(attr), size)
	if errno != 0 {
		return -1, errno
	}
	return int(r), nil
}

// ApplyDevicesV2 loads DeviceProgram(rules) (bpf BPF_PROG_LOAD,
// BPF_PROG_TYPE_CGROUP_DEVICE) and attaches it to the cgroup v2 directory
// dir (BPF_PROG_ATTACH, BPF_CGROUP_DEVICE, BPF_F_ALLOW_MULTI as runc does,
// so that a nested runtime can still attach its own below), then detaches
// any device program that was attached there before. No shell command does
// this (bpftool could only show it).
func ApplyDevicesV2(dir string, rules []*DeviceRule) error {
	insns, err := DeviceProgram(rules)
	if err != nil {
		return err
	}
	cg, err := unix.Open(dir, unix.O_DIRECTORY|unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("device cgroup program: %w", err)
	}
	defer unix.Close(cg)
	old, err := deviceProgIDs(cg)
	if err != nil {
		return fmt.Errorf("device cgroup program on %s: BPF_PROG_QUERY: %w", dir, err)
	}

	license := []byte("Apache\x00")
	load := struct {
		progType, insnCnt  uint32
		insns, license     uint64
		logLevel, logSize  uint32
		logBuf             uint64
		kernVersion, flags uint32
		name               [16]byte
		ifindex, expected  uint32
	}{
		progType: unix.BPF_PROG_TYPE_CGROUP_DEVICE,
		insnCnt:  uint32(len(insns) / 8),
		insns:    uint64(uintptr(unsafe.Pointer(&insns[0]))),
		license:  uint64(uintptr(unsafe.Pointer(&license[0]))),
	}
	copy(load.name[:], "mydocker_dev")
	prog, err := bpfSyscall(unix.BPF_PROG_LOAD, unsafe.Pointer(&load), unsafe.Sizeof(load))
	// The verifier gives up with EAGAIN when a signal is pending (Go's
	// preemption sends SIGURG): load again, as cilium/ebpf does.
	for i := 0; i < 10 && errors.Is(err, unix.EAGAIN); i++ {
		prog, err = bpfSyscall(unix.BPF_PROG_LOAD, unsafe.Pointer(&load), unsafe.Sizeof(load))
	}
	if err != nil {
		// Again with the verifier's log, to say why.
		logBuf := make([]byte, 1<<16)
		load.logLevel, load.logSize, load.logBuf = 1, uint32(len(logBuf)), uint64(uintptr(unsafe.Pointer(&logBuf[0])))
		_, _ = bpfSyscall(unix.BPF_PROG_LOAD, unsafe.Pointer(&load), unsafe.Sizeof(load))
		runtime.KeepAlive(insns)
		runtime.KeepAlive(license)
		return fmt.Errorf("device cgroup program: BPF_PROG_LOAD: %w: %s", err, bytes.TrimRight(logBuf, "\x00"))
	}
	runtime.KeepAlive(insns)
	runtime.KeepAlive(license)
	defer unix.Close(prog)

	attach := struct{ target, prog, typ, flags, replace uint32 }{
		target: uint32(cg), prog: uint32(prog), typ: unix.BPF_CGROUP_DEVICE, flags: unix.BPF_F_ALLOW_MULTI,
	}
	if _, err := bpfSyscall(unix.BPF_PROG_ATTACH, unsafe.Pointer(&attach), unsafe.Sizeof(attach)); err != nil {
		return fmt.Errorf("device cgroup program on %s: BPF_PROG_ATTACH: %w", dir, err)
	}
	for _, id := range old {
		if err := detachProg(cg, id); err != nil {
			return fmt.Errorf("device cgroup program on %s: detaching the old program %d: %w", dir, id, err)
		}
	}
	return nil
}

// deviceProgIDs lists the device programs attached to a cgroup itself.
func deviceProgIDs(cg int) ([]uint32, error) {
	ids := make([]uint32, 64)
	q := struct {
		target, typ, queryFlags, attachFlags uint32
		ids                                  uint64
		cnt                                  uint32
		_                                    uint32
	}{target: uint32(cg), typ: unix.BPF_CGROUP_DEVICE, ids: uint64(uintptr(unsafe.Pointer(&ids[0]))), cnt: uint32(len(ids))}
	if _, err := bpfSyscall(unix.BPF_PROG_QUERY, unsafe.Pointer(&q), unsafe.Sizeof(q)); err != nil {
		return nil, err
	}
	runtime.KeepAlive(ids)
	return ids[:q.cnt], nil
}

func detachProg(cg int, id uint32) error {
	get := struct{ id, next, flags uint32 }{id: id}
	fd, err := bpfSyscall(unix.BPF_PROG_GET_FD_BY_ID, unsafe.Pointer(&get), unsafe.Sizeof(get))
	if errors.Is(err, unix.ENOENT) {
		return nil
	}
	if err != nil {
		return err
	}
	defer unix.Close(fd)
	detach := struct{ target, prog, typ, flags, replace uint32 }{target: uint32(cg), prog: uint32(fd), typ: unix.BPF_CGROUP_DEVICE}
	_, err = bpfSyscall(unix.BPF_PROG_DETACH, unsafe.Pointer(&detach), unsafe.Sizeof(detach))
	return err
}
