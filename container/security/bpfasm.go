package security

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// The few classic BPF instructions a seccomp filter needs.
const (
	ldAbs = unix.BPF_LD | unix.BPF_W | unix.BPF_ABS
	andK  = unix.BPF_ALU | unix.BPF_AND | unix.BPF_K
	retK  = unix.BPF_RET | unix.BPF_K
	jaOp  = unix.BPF_JMP | unix.BPF_JA
	jeq   = unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K
	jgt   = unix.BPF_JMP | unix.BPF_JGT | unix.BPF_K
	jge   = unix.BPF_JMP | unix.BPF_JGE | unix.BPF_K
)

// assembler emits instructions with forward jumps to labels, resolved at
// the end. Conditional jumps reach 255 instructions at most; jumpIf and ja
// go through an unconditional jump, which reaches any distance.
type assembler struct {
	insns  []unix.SockFilter
	labels []int // label -> pc, -1 until bound
	fixups []fixup
}

type fixup struct {
	pc     int
	jt, jf int // labels, -1 for the next instruction
	ja     int // label of an unconditional jump, -1 otherwise
}

func newAssembler() *assembler {
	return &assembler{
		insns:  make([]unix.SockFilter, 0, 4096),
		labels: make([]int, 0, 1024),
		fixups: make([]fixup, 0, 2048),
	}
}

func (a *assembler) newLabel() int {
	a.labels = append(a.labels, -1)
	return len(a.labels) - 1
}

func (a *assembler) bind(l int) { a.labels[l] = len(a.insns) }

func (a *assembler) emit(code uint16, k uint32) {
	a.insns = append(a.insns, unix.SockFilter{Code: code, K: k})
}

func (a *assembler) ld(off uint32) { a.emit(ldAbs, off) }
func (a *assembler) and(k uint32)  { a.emit(andK, k) }
func (a *assembler) ret(k uint32)  { a.emit(retK, k) }

func (a *assembler) ja(l int) {
	a.fixups = append(a.fixups, fixup{pc: len(a.insns), jt: -1, jf: -1, ja: l})
	a.emit(jaOp, 0)
}

// jcond is "if A op k goto jt else goto jf", both short.
func (a *assembler) jcond(op uint16, k uint32, jt, jf int) {
	a.fixups = append(a.fixups, fixup{pc: len(a.insns), jt: jt, jf: jf, ja: -1})
	a.emit(op, k)
}

// jumpIf is "if A op k goto l", at any distance.
func (a *assembler) jumpIf(op uint16, k uint32, l int) {
	a.insns = append(a.insns, unix.SockFilter{Code: op, K: k, Jt: 0, Jf: 1})
	a.ja(l)
}

// retIf is "if A op k return ret"; retIfNot its negation.
func (a *assembler) retIf(op uint16, k, ret uint32) {
	a.insns = append(a.insns, unix.SockFilter{Code: op, K: k, Jt: 0, Jf: 1})
	a.ret(ret)
}

func (a *assembler) retIfNot(op uint16, k, ret uint32) {
	a.insns = append(a.insns, unix.SockFilter{Code: op, K: k, Jt: 1, Jf: 0})
	a.ret(ret)
}

func (a *assembler) assemble() ([]unix.SockFilter, error) {
	off := func(pc, l int) (int, error) {
		if l < 0 {
			return 0, nil
		}
		t := a.labels[l]
		if t < 0 {
			return 0, fmt.Errorf("bpf: label %d never bound", l)
		}
		if t <= pc {
			return 0, fmt.Errorf("bpf: backward jump at %d", pc)
		}
		return t - pc - 1, nil
	}
	for _, f := range a.fixups {
		if f.ja >= 0 {
			d, err := off(f.pc, f.ja)
			if err != nil {
				return nil, err
			}
			a.insns[f.pc].K = uint32(d)
			continue
		}
		jt, err := off(f.pc, f.jt)
		if err != nil {
			return nil, err
		}
		jf, err := off(f.pc, f.jf)
		if err != nil {
			return nil, err
		}
		if jt > 255 || jf > 255 {
			return nil, fmt.Errorf("bpf: conditional jump at %d too far (%d, %d)", f.pc, jt, jf)
		}
		a.insns[f.pc].Jt, a.insns[f.pc].Jf = uint8(jt), uint8(jf)
	}
	return a.insns, nil
}

// runFilter interprets a program on one seccomp_data, as the kernel would:
// tests use it to check the compiled profiles without loading them.
func runFilter(prog []byte, data [64]byte) (uint32, error) {
	insns, err := decode(prog)
	if err != nil {
		return 0, err
	}
	var acc uint32
	for pc := 0; pc < len(insns); pc++ {
		in := insns[pc]
		switch in.Code {
		case ldAbs:
			if in.K+4 > 64 {
				return 0, fmt.Errorf("pc %d: load out of range", pc)
			}
			acc = nativeUint32(data[in.K:])
		case andK:
			acc &= in.K
		case retK:
			return in.K, nil
		case jaOp:
			pc += int(in.K)
		case jeq, jgt, jge:
			var t bool
			switch in.Code {
			case jeq:
				t = acc == in.K
			case jgt:
				t = acc > in.K
			case jge:
				t = acc >= in.K
			}
			if t {
				pc += int(in.Jt)
			} else {
				pc += int(in.Jf)
			}
		default:
			return 0, fmt.Errorf("pc %d: unknown instruction %#x", pc, in.Code)
		}
	}
	return 0, fmt.Errorf("program ran off its end")
}
