package security

import (
	"encoding/binary"
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// The cgroup v2 device program. runc's generator (opencontainers/cgroups
// devices) is the reference and this one emits the same program for the
// same allow list; it is written here over golang.org/x/sys/unix instead of
// imported because that package brings systemd, D-Bus, cilium/ebpf and
// logrus with it, and their package initialisers (a statfs of the cgroup
// mount among them) cost every mydocker process 0.15-0.2 ms and the binary
// 0.9 MB, against a budget of 1 ms for all of the containment.

// eBPF instruction classes and operations used (linux/bpf.h, bpf_common.h).
const (
	ebpfLdxMemW = unix.BPF_LDX | unix.BPF_MEM | unix.BPF_W // dst = *(u32 *)(src + off)
	ebpfAnd32K  = unix.BPF_ALU | unix.BPF_AND | unix.BPF_K // dst &= imm (32 bit)
	ebpfRsh32K  = unix.BPF_ALU | unix.BPF_RSH | unix.BPF_K // dst >>= imm
	ebpfMov32X  = unix.BPF_ALU | unix.BPF_MOV | unix.BPF_X // dst = src
	ebpfMov32K  = unix.BPF_ALU | unix.BPF_MOV | unix.BPF_K // dst = imm
	ebpfJneK    = unix.BPF_JMP | unix.BPF_JNE | unix.BPF_K // if dst != imm goto +off
	ebpfJneX    = unix.BPF_JMP | unix.BPF_JNE | unix.BPF_X // if dst != src goto +off
	ebpfExit    = unix.BPF_JMP | unix.BPF_EXIT
)

type ebpfInsn struct {
	code     uint8
	dst, src uint8
	off      int16
	imm      int32
}

// DeviceProgram is the BPF_PROG_TYPE_CGROUP_DEVICE program for rules: for
// each allowed type/major/minor/access entry of the list that
// ExpectedDevicesList computes (docker's device cgroup), "if the access
// matches, return 1"; anything else returns 0. Privileged's "a *:* rwm" is
// a program that returns 1. It returns the instructions encoded for
// bpf(BPF_PROG_LOAD).
func DeviceProgram(rules []*DeviceRule) ([]byte, error) {
	list, err := ExpectedDevicesList(rules)
	if err != nil {
		return nil, err
	}
	// struct bpf_cgroup_dev_ctx { u32 access_type; u32 major; u32 minor; }
	// R2 = type (low 16 bits of access_type), R3 = access (high 16 bits),
	// R4 = major, R5 = minor.
	p := []ebpfInsn{
		{code: ebpfLdxMemW, dst: 2, src: 1, off: 0},
		{code: ebpfAnd32K, dst: 2, imm: 0xffff},
		{code: ebpfLdxMemW, dst: 3, src: 1, off: 0},
		{code: ebpfRsh32K, dst: 3, imm: 16},
		{code: ebpfLdxMemW, dst: 4, src: 1, off: 4},
		{code: ebpfLdxMemW, dst: 5, src: 1, off: 8},
	}
	for _, e := range list {
		if e.Type == 'a' {
			if e.Perms != "rwm" || len(list) != 1 {
				return nil, fmt.Errorf("device rule %s: only \"a *:* rwm\" may stand alone", e)
			}
			p = append(p, ebpfInsn{code: ebpfMov32K, dst: 0, imm: 1}, ebpfInsn{code: ebpfExit})
			return encodeEBPF(p), nil
		}
		var block []ebpfInsn
		switch e.Type {
		case 'c':
			block = append(block, ebpfInsn{code: ebpfJneK, dst: 2, imm: unix.BPF_DEVCG_DEV_CHAR})
		case 'b':
			block = append(block, ebpfInsn{code: ebpfJneK, dst: 2, imm: unix.BPF_DEVCG_DEV_BLOCK})
		default:
			return nil, fmt.Errorf("device rule %s: bad type", e)
		}
		var access int32
		for _, c := range e.Perms {
			switch c {
			case 'r':
				access |= unix.BPF_DEVCG_ACC_READ
			case 'w':
				access |= unix.BPF_DEVCG_ACC_WRITE
			case 'm':
				access |= unix.BPF_DEVCG_ACC_MKNOD
			}
		}
		if access != unix.BPF_DEVCG_ACC_READ|unix.BPF_DEVCG_ACC_WRITE|unix.BPF_DEVCG_ACC_MKNOD {
			// if (access & allowed) != access goto next (R1 as scratch)
			block = append(block,
				ebpfInsn{code: ebpfMov32X, dst: 1, src: 3},
				ebpfInsn{code: ebpfAnd32K, dst: 1, imm: access},
				ebpfInsn{code: ebpfJneX, dst: 1, src: 3})
		}
		if e.Major >= 0 {
			if e.Major > 0xffffffff {
				return nil, fmt.Errorf("device rule %s: bad major", e)
			}
			block = append(block, ebpfInsn{code: ebpfJneK, dst: 4, imm: int32(uint32(e.Major))})
		}
		if e.Minor >= 0 {
			if e.Minor > 0xffffffff {
				return nil, fmt.Errorf("device rule %s: bad minor", e)
			}
			block = append(block, ebpfInsn{code: ebpfJneK, dst: 5, imm: int32(uint32(e.Minor))})
		}
		block = append(block, ebpfInsn{code: ebpfMov32K, dst: 0, imm: 1}, ebpfInsn{code: ebpfExit})
		// Every jump goes to the next block, just past this one.
		for i := range block {
			if block[i].code == ebpfJneK || block[i].code == ebpfJneX {
				block[i].off = int16(len(block) - i - 1)
			}
		}
		p = append(p, block...)
	}
	p = append(p, ebpfInsn{code: ebpfMov32K, dst: 0, imm: 0}, ebpfInsn{code: ebpfExit})
	return encodeEBPF(p), nil
}

func encodeEBPF(p []ebpfInsn) []byte {
	out := make([]byte, 0, 8*len(p))
	for _, in := range p {
		out = append(out, in.code, in.dst|in.src<<4)
		out = binary.LittleEndian.AppendUint16(out, uint16(in.off))
		out = binary.LittleEndian.AppendUint32(out, uint32(in.imm))
	}
	return out
}

// runDeviceProgram interprets a device program for tests: the decision for
// a device type ('c' or 'b'), major, minor and access ("r", "w", "m", ...).
func runDeviceProgram(prog []byte, typ rune, major, minor uint32, access string) (bool, error) {
	var regs [11]uint64
	t := uint64(unix.BPF_DEVCG_DEV_CHAR)
	if typ == 'b' {
		t = unix.BPF_DEVCG_DEV_BLOCK
	}
	var acc uint64
	for _, c := range access {
		acc |= map[rune]uint64{'r': unix.BPF_DEVCG_ACC_READ, 'w': unix.BPF_DEVCG_ACC_WRITE, 'm': unix.BPF_DEVCG_ACC_MKNOD}[c]
	}
	ctx := []uint32{uint32(acc<<16 | t), major, minor}
	for pc := 0; pc*8 < len(prog); pc++ {
		b := prog[pc*8:]
		code, dst, src := b[0], b[1]&0xf, b[1]>>4
		off := int16(binary.LittleEndian.Uint16(b[2:]))
		imm := int32(binary.LittleEndian.Uint32(b[4:]))
		switch code {
		case ebpfLdxMemW:
			if src != 1 || off%4 != 0 || off/4 > 2 {
				return false, fmt.Errorf("pc %d: bad load", pc)
			}
			regs[dst] = uint64(ctx[off/4])
		case ebpfAnd32K:
			regs[dst] = uint64(uint32(regs[dst]) & uint32(imm))
		case ebpfRsh32K:
			regs[dst] = uint64(uint32(regs[dst]) >> uint32(imm))
		case ebpfMov32X:
			regs[dst] = uint64(uint32(regs[src]))
		case ebpfMov32K:
			regs[dst] = uint64(uint32(imm))
		case ebpfJneK:
			if regs[dst] != uint64(int64(imm)) {
				pc += int(off)
			}
		case ebpfJneX:
			if regs[dst] != regs[src] {
				pc += int(off)
			}
		case ebpfExit:
			return regs[0] == 1, nil
		default:
			return false, fmt.Errorf("pc %d: unknown opcode %#x", pc, code)
		}
	}
	return false, errors.New("program ran off its end")
}
