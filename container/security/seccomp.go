package security

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"

	mobyseccomp "github.com/moby/profiles/seccomp"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

// Seccomp is the resolved seccomp confinement as it travels to the init:
// either Unconfined, or a compiled classic BPF program (Program, struct
// sock_filter entries in host byte order) that the init loads as it is.
type Seccomp struct {
	Unconfined bool `json:"unconfined,omitempty"`
	// Profile names the source: "default" (moby's profile) or a file path.
	Profile string `json:"profile,omitempty"`
	// Program is the filter, 8 bytes per instruction (encoding/json
	// carries it as base64).
	Program []byte `json:"program,omitempty"`
	// Flags are SECCOMP_FILTER_FLAG_* bits for seccomp(2).
	Flags uint `json:"flags,omitempty"`
}

// Narration is the one honest sentence for the log: no shell command loads
// a seccomp filter.
func (s *Seccomp) Narration() string {
	if s == nil || s.Unconfined {
		return "seccomp: unconfined (no filter loaded)"
	}
	what := "docker's default profile"
	if s.Profile != "default" {
		what = "the profile " + s.Profile
	}
	return fmt.Sprintf("seccomp: load %s as a %d-instruction BPF filter with seccomp(SECCOMP_SET_MODE_FILTER); no shell command does this", what, s.Instructions())
}

// Instructions is the number of BPF instructions in the program.
func (s *Seccomp) Instructions() int { return len(s.Program) / 8 }

// ReadProfile reads a docker-format seccomp profile (--security-opt
// seccomp=FILE) and checks that it is one: the error says which file and
// what is wrong with it.
func ReadProfile(path string) ([]byte, error) {
	body, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("seccomp profile %s: %w", path, unwrapPathErr(err))
	}
	var p mobyseccomp.Seccomp
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, fmt.Errorf("seccomp profile %s: invalid JSON: %v", path, err)
	}
	if p.DefaultAction == "" {
		return nil, fmt.Errorf("seccomp profile %s: no defaultAction", path)
	}
	return body, nil
}

func unwrapPathErr(err error) error {
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// EvalProfile resolves a docker-format profile (body; nil for moby's
// default profile) for this machine and a container whose bounding set is
// bounding: moby's own code evaluates the rules' "includes"/"excludes" on
// capabilities, architecture and kernel version, exactly as dockerd does.
func EvalProfile(body []byte, bounding []string) (*specs.LinuxSeccomp, error) {
	rs := &specs.Spec{Process: &specs.Process{Capabilities: &specs.LinuxCapabilities{Bounding: bounding}}}
	if body == nil {
		return mobyseccomp.GetDefaultProfile(rs)
	}
	p, err := mobyseccomp.LoadProfile(string(body), rs)
	if err != nil {
		return nil, err
	}
	if p == nil {
		return nil, errors.New("seccomp profile has neither a defaultAction nor syscalls")
	}
	return p, nil
}

// BuildSeccomp is the whole path from a profile to the program the init
// loads: EvalProfile, then Compile. name is "default" or the file's path.
func BuildSeccomp(name string, body []byte, bounding []string) (*Seccomp, error) {
	p, err := EvalProfile(body, bounding)
	if err != nil {
		return nil, fmt.Errorf("seccomp profile %s: %w", name, err)
	}
	prog, flags, err := Compile(p)
	if err != nil {
		return nil, fmt.Errorf("seccomp profile %s: %w", name, err)
	}
	return &Seccomp{Profile: name, Program: prog, Flags: flags}, nil
}

// CacheKey names the compiled program of (profile, bounding set) on this
// machine: a SHA-256 over the profile bytes, the bounding mask, GOARCH, the
// kernel release (moby's rules may depend on it) and the compiler version.
func CacheKey(body []byte, bounding []string) string {
	h := sha256.New()
	var uts unix.Utsname
	_ = unix.Uname(&uts)
	mask, _ := capBits(bounding)
	fmt.Fprintf(h, "mydocker-seccomp v%d\n%s\n%s\n%016x\n", compilerVersion, runtime.GOARCH, unix.ByteSliceToString(uts.Release[:]), mask)
	if body == nil {
		h.Write([]byte("moby-default"))
	} else {
		h.Write(body)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// compilerVersion changes whenever Compile emits a different program for
// the same input, so that cached programs are not reused across it.
const compilerVersion = 1

// BuildSeccompCached is BuildSeccomp through a content-addressed cache
// directory: dir/<CacheKey>.bpf holds the compiled program (a 4-byte flags
// word, then the instructions). A miss compiles and writes the file
// atomically (by rename); a damaged entry is recompiled. An empty dir
// disables the cache. Compiling moby's profile costs about 0.3 ms, reading
// the cache about 0.05 ms.
func BuildSeccompCached(dir, name string, body []byte, bounding []string) (*Seccomp, error) {
	if dir == "" {
		return BuildSeccomp(name, body, bounding)
	}
	file := filepath.Join(dir, CacheKey(body, bounding)+".bpf")
	if data, err := os.ReadFile(file); err == nil && len(data) > 4 && (len(data)-4)%8 == 0 {
		return &Seccomp{Profile: name, Flags: uint(binary.LittleEndian.Uint32(data)), Program: data[4:]}, nil
	}
	s, err := BuildSeccomp(name, body, bounding)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err == nil {
		data := binary.LittleEndian.AppendUint32(nil, uint32(s.Flags))
		data = append(data, s.Program...)
		if tmp, err := os.CreateTemp(dir, ".tmp-*"); err == nil {
			_, werr := tmp.Write(data)
			cerr := tmp.Close()
			if werr == nil && cerr == nil {
				_ = os.Rename(tmp.Name(), file)
			}
			_ = os.Remove(tmp.Name())
		}
	}
	return s, nil
}

// seccomp_data offsets and return values (linux/seccomp.h).
const (
	offNr   = 0
	offArch = 4
	offArgs = 16

	retKillProcess = 0x80000000
	retKillThread  = 0x00000000
	retTrap        = 0x00030000
	retErrno       = 0x00050000
	retTrace       = 0x7ff00000
	retLog         = 0x7ffc0000
	retAllow       = 0x7fff0000

	x32Bit = 0x40000000

	// badArchAction is libseccomp's default for a system call made with an
	// architecture the filter does not list: kill.
	badArchAction = retKillProcess
)

// subArch is one syscall ABI: its audit arch, its column in the syscall
// table (numbers without the x32 bit), the bit its numbers carry and whether
// its arguments are 32 bits wide.
type subArch struct {
	id    uint32
	col   int
	mask  uint32
	is32  bool
	name  specs.Arch
	order int
}

// Columns of syscallTable.
const (
	colX86_64 = iota
	colX32
	colI386
	colAARCH64
	colARM
	numCols
)

var subArches = map[specs.Arch]subArch{
	specs.ArchX86_64:  {unix.AUDIT_ARCH_X86_64, colX86_64, 0, false, specs.ArchX86_64, 0},
	specs.ArchX32:     {unix.AUDIT_ARCH_X86_64, colX32, x32Bit, false, specs.ArchX32, 1},
	specs.ArchX86:     {unix.AUDIT_ARCH_I386, colI386, 0, true, specs.ArchX86, 2},
	specs.ArchAARCH64: {unix.AUDIT_ARCH_AARCH64, colAARCH64, 0, false, specs.ArchAARCH64, 0},
	specs.ArchARM:     {unix.AUDIT_ARCH_ARM, colARM, 0, true, specs.ArchARM, 2},
}

// sysEntry is a system call's number on each ABI (-1: it has none there).
// syscallTable (zsyscalls.go) is sorted by name and is static data, so that
// a process that never compiles a filter pays nothing for it
// (go-seccomp-bpf's own maps cost 0.4 ms of init in every process), and one
// search finds a name on every ABI.
type sysEntry struct {
	name string
	nrs  [numCols]int32
}

func lookupSyscall(name string) (*[numCols]int32, bool) {
	i, ok := slices.BinarySearchFunc(syscallTable, name, func(e sysEntry, n string) int { return strings.Compare(e.name, n) })
	if !ok {
		return nil, false
	}
	return &syscallTable[i].nrs, true
}

func (sa subArch) lookup(name string) (int, bool) {
	nrs, ok := lookupSyscall(name)
	if !ok || nrs[sa.col] < 0 {
		return 0, false
	}
	return int(nrs[sa.col]), true
}

var nativeArch = map[string]specs.Arch{"amd64": specs.ArchX86_64, "arm64": specs.ArchAARCH64, "386": specs.ArchX86, "arm": specs.ArchARM}

// action is a SECCOMP_RET_* value for a profile action, with runc's
// defaults (EPERM for errno and trace without errnoRet).
func action(a specs.LinuxSeccompAction, errnoRet *uint) (uint32, error) {
	data := uint32(unix.EPERM)
	if errnoRet != nil {
		if *errnoRet > 0xffff {
			return 0, fmt.Errorf("errnoRet %d out of range", *errnoRet)
		}
		data = uint32(*errnoRet)
	}
	switch a {
	case specs.ActKill, specs.ActKillThread:
		return retKillThread, nil
	case specs.ActKillProcess:
		return retKillProcess, nil
	case specs.ActTrap:
		return retTrap, nil
	case specs.ActErrno:
		return retErrno | data, nil
	case specs.ActTrace:
		return retTrace | data, nil
	case specs.ActAllow:
		return retAllow, nil
	case specs.ActLog:
		return retLog, nil
	case specs.ActNotify:
		return 0, errors.New("action SCMP_ACT_NOTIFY needs a seccomp agent, which mydocker does not have")
	}
	return 0, fmt.Errorf("unknown action %q", a)
}

var filterFlags = map[specs.LinuxSeccompFlag]uint{
	specs.LinuxSeccompFlagLog:              unix.SECCOMP_FILTER_FLAG_LOG,
	specs.LinuxSeccompFlagSpecAllow:        unix.SECCOMP_FILTER_FLAG_SPEC_ALLOW,
	specs.LinuxSeccompFlagWaitKillableRecv: 1 << 5,
	"SECCOMP_FILTER_FLAG_TSYNC":            unix.SECCOMP_FILTER_FLAG_TSYNC,
}

type cond struct {
	index     uint
	op        specs.LinuxSeccompOperator
	val, val2 uint64
}

type rule struct {
	conds []cond
	ret   uint32
}

// Compile turns a resolved profile into a classic BPF program for
// seccomp(2), with libseccomp's and runc's semantics where they matter:
//   - the native architecture and every listed one (x86_64 with its x86
//     and x32 sub-ABIs, as docker lists them) get their own section; any
//     other architecture is killed, as libseccomp's default bad-arch action
//     does;
//   - a syscall's rules are tried in profile order, the first whose
//     conditions all hold decides; conditions in one rule are ANDed, except
//     that several conditions on the same argument become separate rules
//     (runc's behaviour, see runc issue 2735); rules whose action is the
//     default action are dropped (runc);
//   - names unknown to an architecture's table are skipped (runc);
//   - a syscall numbered above every syscall the profile names returns
//     ENOSYS unless the default action allows, as runc's patchbpf stub does,
//     so that libc falls back from system calls newer than the profile;
//   - 64-bit arguments are compared whole; on 32-bit ABIs only the low word;
//   - lookup is a binary search over the sorted syscall numbers, so a
//     system call costs about 20 instructions, not a scan of 400.
func Compile(p *specs.LinuxSeccomp) (prog []byte, flags uint, err error) {
	if p == nil {
		return nil, 0, errors.New("no profile")
	}
	defAct, err := action(p.DefaultAction, p.DefaultErrnoRet)
	if err != nil {
		return nil, 0, fmt.Errorf("defaultAction: %w", err)
	}
	for _, f := range p.Flags {
		b, ok := filterFlags[f]
		if !ok {
			return nil, 0, fmt.Errorf("unknown seccomp flag %q", f)
		}
		flags |= b
	}
	// The architectures to filter for: the profile's, or the native one.
	// The profile's architectures, and always the native one, as
	// libseccomp's seccomp_init includes it whatever the profile lists.
	var archs []subArch
	native, ok := nativeArch[runtime.GOARCH]
	if !ok {
		return nil, 0, fmt.Errorf("no syscall table for %s", runtime.GOARCH)
	}
	names := append([]specs.Arch{native}, p.Architectures...)
	for _, n := range names {
		sa, ok := subArches[n]
		if !ok {
			continue // an ABI this machine cannot run (mips on x86_64)
		}
		if !slices.ContainsFunc(archs, func(a subArch) bool { return a.name == n }) {
			archs = append(archs, sa)
		}
	}
	slices.SortFunc(archs, func(a, b subArch) int { return a.order - b.order })

	// Each name is looked up once, for all ABIs.
	resolved := make([][]*[numCols]int32, len(p.Syscalls))
	for i, sc := range p.Syscalls {
		resolved[i] = make([]*[numCols]int32, len(sc.Names))
		for j, name := range sc.Names {
			if name == "" {
				return nil, 0, errors.New("empty syscall name")
			}
			resolved[i][j], _ = lookupSyscall(name)
		}
	}

	a := newAssembler()
	// Dispatch on the audit architecture.
	a.ld(offArch)
	type group struct {
		id    uint32
		arch  []subArch
		label int
	}
	var groups []*group
	for _, sa := range archs {
		id := sa.id
		i := slices.IndexFunc(groups, func(g *group) bool { return g.id == id })
		if i < 0 {
			groups = append(groups, &group{id: id, label: a.newLabel()})
			i = len(groups) - 1
		}
		groups[i].arch = append(groups[i].arch, sa)
	}
	for _, g := range groups {
		a.jumpIf(jeq, g.id, g.label)
	}
	a.ret(badArchAction)
	for _, g := range groups {
		a.bind(g.label)
		a.ld(offNr)
		// x86_64 and x32 share an audit arch; x32 numbers have bit 30 set.
		if g.id == unix.AUDIT_ARCH_X86_64 {
			has64 := slices.ContainsFunc(g.arch, func(s subArch) bool { return s.name == specs.ArchX86_64 })
			hasX32 := slices.ContainsFunc(g.arch, func(s subArch) bool { return s.name == specs.ArchX32 })
			switch {
			case has64 && hasX32:
				x32 := a.newLabel()
				a.jumpIf(jge, x32Bit, x32)
				if err := compileArch(a, p, resolved, g.arch[0], defAct); err != nil {
					return nil, 0, err
				}
				a.bind(x32)
				if err := compileArch(a, p, resolved, g.arch[1], defAct); err != nil {
					return nil, 0, err
				}
				continue
			case has64:
				a.retIf(jge, x32Bit, badArchAction)
			case hasX32:
				a.retIfNot(jge, x32Bit, badArchAction)
			}
		}
		if err := compileArch(a, p, resolved, g.arch[0], defAct); err != nil {
			return nil, 0, err
		}
	}
	insns, err := a.assemble()
	if err != nil {
		return nil, 0, err
	}
	if len(insns) > unix.BPF_MAXINSNS {
		return nil, 0, fmt.Errorf("filter has %d instructions, more than the kernel's %d", len(insns), unix.BPF_MAXINSNS)
	}
	return encode(insns), flags, nil
}

// compileArch emits one ABI's section; A holds the syscall number.
func compileArch(a *assembler, p *specs.LinuxSeccomp, resolved [][]*[numCols]int32, sa subArch, defAct uint32) error {
	mask := sa.mask
	// Rules in profile order with their table number, sorted stably by
	// number afterwards (one slice: maps and per-syscall slices cost most of
	// the compile time).
	type entry struct {
		num int
		r   rule
	}
	entries := make([]entry, 0, 1024)
	var maxNr uint32
	for i, sc := range p.Syscalls {
		ret, err := action(sc.Action, sc.ErrnoRet)
		if err != nil {
			return fmt.Errorf("syscalls %v: %w", sc.Names, err)
		}
		var alts [][]cond
		if len(sc.Args) > 0 {
			var conds []cond
			seen := map[uint]int{}
			for _, arg := range sc.Args {
				if arg.Index > 5 {
					return fmt.Errorf("syscalls %v: argument index %d out of range", sc.Names, arg.Index)
				}
				switch arg.Op {
				case specs.OpNotEqual, specs.OpLessThan, specs.OpLessEqual, specs.OpEqualTo,
					specs.OpGreaterEqual, specs.OpGreaterThan, specs.OpMaskedEqual:
				default:
					return fmt.Errorf("syscalls %v: unknown operator %q", sc.Names, arg.Op)
				}
				seen[arg.Index]++
				conds = append(conds, cond{arg.Index, arg.Op, arg.Value, arg.ValueTwo})
			}
			split := false
			for _, n := range seen {
				split = split || n > 1
			}
			if split {
				for _, c := range conds {
					alts = append(alts, []cond{c})
				}
			} else {
				alts = [][]cond{conds}
			}
		} else {
			alts = [][]cond{nil}
		}
		for j := range sc.Names {
			nrs := resolved[i][j]
			if nrs == nil || nrs[sa.col] < 0 {
				continue
			}
			num := int(nrs[sa.col])
			maxNr = max(maxNr, uint32(num)|mask)
			if ret == defAct {
				continue
			}
			for _, c := range alts {
				entries = append(entries, entry{num, rule{conds: c, ret: ret}})
			}
		}
	}
	if defAct != retAllow && defAct&0xffff0000 != retLog && defAct&0xffff0000 != retTrace && maxNr > 0 {
		a.retIf(jgt, maxNr, retErrno|uint32(unix.ENOSYS))
	}
	// Sort by number, stably: a syscall's rules keep profile order. A
	// counting sort for the usual small numbers; ARM's private calls
	// (0xf0000 and up) take a comparison sort on (number, position).
	top := 0
	for _, e := range entries {
		top = max(top, e.num)
	}
	var sorted []rule
	var nrs []uint32
	var span func(num int) (int, int)
	if top < 4096 {
		start := make([]int, top+2)
		for _, e := range entries {
			start[e.num+1]++
		}
		for i := 1; i < len(start); i++ {
			start[i] += start[i-1]
		}
		sorted = make([]rule, len(entries))
		next := slices.Clone(start)
		for _, e := range entries {
			sorted[next[e.num]] = e.r
			next[e.num]++
		}
		nrs = make([]uint32, 0, 512)
		for num := 0; num <= top; num++ {
			if start[num+1] > start[num] {
				nrs = append(nrs, uint32(num)|mask)
			}
		}
		span = func(num int) (int, int) { return start[num], start[num+1] }
	} else {
		idx := make([]int, len(entries))
		for i := range idx {
			idx[i] = i
		}
		slices.SortFunc(idx, func(x, y int) int {
			if d := entries[x].num - entries[y].num; d != 0 {
				return d
			}
			return x - y
		})
		first := map[int][2]int{}
		for k, i := range idx {
			sorted = append(sorted, entries[i].r)
			n := entries[i].num
			if f, ok := first[n]; ok {
				first[n] = [2]int{f[0], k + 1}
			} else {
				first[n] = [2]int{k, k + 1}
				nrs = append(nrs, uint32(n)|mask)
			}
		}
		span = func(num int) (int, int) { f := first[num]; return f[0], f[1] }
	}
	rules := func(nr uint32) []rule {
		i, j := span(int(nr &^ mask))
		return sorted[i:j]
	}
	handlers := make(map[uint32]int, 8)
	emitTree(a, nrs, rules, handlers, defAct)
	// Handlers for the syscalls whose rules have conditions.
	for _, nr := range nrs {
		l, ok := handlers[nr]
		if !ok {
			continue
		}
		a.bind(l)
		for _, r := range rules(nr) {
			if len(r.conds) == 0 {
				a.ret(r.ret)
				break
			}
			next := a.newLabel()
			for _, c := range r.conds {
				emitCond(a, c, sa.is32, next)
			}
			a.ret(r.ret)
			a.bind(next)
		}
		a.ret(defAct)
	}
	return nil
}

// simple reports whether a syscall's first rule is unconditional, so that
// its leaf can return the action itself.
func simple(rs []rule) (uint32, bool) {
	if len(rs[0].conds) == 0 {
		return rs[0].ret, true
	}
	return 0, false
}

const leafSize = 8

// emitTree emits a binary search over nrs: inner nodes split on "nr >
// pivot", leaves compare up to leafSize numbers and hold their own return
// instructions, so every conditional jump stays short.
func emitTree(a *assembler, nrs []uint32, rules func(uint32) []rule, handlers map[uint32]int, defAct uint32) {
	if len(nrs) > leafSize {
		mid := len(nrs) / 2
		right := a.newLabel()
		a.jumpIf(jgt, nrs[mid-1], right)
		emitTree(a, nrs[:mid], rules, handlers, defAct)
		a.bind(right)
		emitTree(a, nrs[mid:], rules, handlers, defAct)
		return
	}
	// Leaf: jeq for each number to a local target, the default, then the
	// targets (a return, or a jump to the syscall's handler).
	type target struct {
		ret     uint32
		handler int // label, or -1
		label   int
	}
	var targets []*target
	find := func(ret uint32, handler int) *target {
		for _, t := range targets {
			if t.ret == ret && t.handler == handler {
				return t
			}
		}
		t := &target{ret, handler, a.newLabel()}
		targets = append(targets, t)
		return t
	}
	for _, nr := range nrs {
		var t *target
		if ret, ok := simple(rules(nr)); ok {
			t = find(ret, -1)
		} else {
			h := a.newLabel()
			handlers[nr] = h
			t = find(0, h)
		}
		a.jcond(jeq, nr, t.label, -1)
	}
	a.ret(defAct)
	for _, t := range targets {
		a.bind(t.label)
		if t.handler >= 0 {
			a.ja(t.handler)
		} else {
			a.ret(t.ret)
		}
	}
}

// emitCond emits the check of one argument condition: it falls through when
// the condition holds and jumps to fail when it does not. It clobbers A.
func emitCond(a *assembler, c cond, is32 bool, fail int) {
	lo := uint32(offArgs + 8*c.index)
	hi := lo + 4
	if !littleEndian {
		lo, hi = hi, lo
	}
	vlo, vhi := uint32(c.val), uint32(c.val>>32)
	pass := a.newLabel()
	if is32 {
		// Only the low word carries the argument.
		a.ld(lo)
		switch c.op {
		case specs.OpEqualTo:
			a.jcond(jeq, vlo, -1, fail)
		case specs.OpNotEqual:
			a.jcond(jeq, vlo, fail, -1)
		case specs.OpGreaterThan:
			a.jcond(jgt, vlo, -1, fail)
		case specs.OpGreaterEqual:
			a.jcond(jge, vlo, -1, fail)
		case specs.OpLessThan:
			a.jcond(jge, vlo, fail, -1)
		case specs.OpLessEqual:
			a.jcond(jgt, vlo, fail, -1)
		case specs.OpMaskedEqual:
			a.and(vlo)
			a.jcond(jeq, uint32(c.val2), -1, fail)
		}
		a.bind(pass)
		return
	}
	switch c.op {
	case specs.OpEqualTo:
		a.ld(hi)
		a.jcond(jeq, vhi, -1, fail)
		a.ld(lo)
		a.jcond(jeq, vlo, -1, fail)
	case specs.OpNotEqual:
		a.ld(hi)
		a.jcond(jeq, vhi, -1, pass)
		a.ld(lo)
		a.jcond(jeq, vlo, fail, -1)
	case specs.OpGreaterThan, specs.OpGreaterEqual:
		a.ld(hi)
		a.jcond(jgt, vhi, pass, -1)
		a.jcond(jeq, vhi, -1, fail)
		a.ld(lo)
		if c.op == specs.OpGreaterThan {
			a.jcond(jgt, vlo, -1, fail)
		} else {
			a.jcond(jge, vlo, -1, fail)
		}
	case specs.OpLessThan, specs.OpLessEqual:
		a.ld(hi)
		a.jcond(jge, vhi, -1, pass) // hi < vhi: holds
		a.jcond(jeq, vhi, -1, fail) // hi > vhi: fails
		a.ld(lo)
		if c.op == specs.OpLessThan {
			a.jcond(jge, vlo, fail, -1)
		} else {
			a.jcond(jgt, vlo, fail, -1)
		}
	case specs.OpMaskedEqual:
		a.ld(hi)
		a.and(uint32(c.val >> 32))
		a.jcond(jeq, uint32(c.val2>>32), -1, fail)
		a.ld(lo)
		a.and(uint32(c.val))
		a.jcond(jeq, uint32(c.val2), -1, fail)
	}
	a.bind(pass)
}

var littleEndian = func() bool {
	var b [2]byte
	binary.NativeEndian.PutUint16(b[:], 1)
	return b[0] == 1
}()

func encode(insns []unix.SockFilter) []byte {
	out := make([]byte, 0, 8*len(insns))
	for _, in := range insns {
		out = binary.NativeEndian.AppendUint16(out, in.Code)
		out = append(out, in.Jt, in.Jf)
		out = binary.NativeEndian.AppendUint32(out, in.K)
	}
	return out
}

func decode(prog []byte) ([]unix.SockFilter, error) {
	if len(prog) == 0 || len(prog)%8 != 0 {
		return nil, fmt.Errorf("seccomp program of %d bytes is not a whole number of instructions", len(prog))
	}
	insns := make([]unix.SockFilter, len(prog)/8)
	for i := range insns {
		b := prog[8*i:]
		insns[i] = unix.SockFilter{Code: binary.NativeEndian.Uint16(b), Jt: b[2], Jf: b[3], K: binary.NativeEndian.Uint32(b[4:])}
	}
	return insns, nil
}

// Disassemble renders a program one instruction a line, for tests and
// debugging.
func Disassemble(prog []byte) string {
	insns, err := decode(prog)
	if err != nil {
		return err.Error()
	}
	var b strings.Builder
	for i, in := range insns {
		switch in.Code {
		case unix.BPF_LD | unix.BPF_W | unix.BPF_ABS:
			fmt.Fprintf(&b, "%4d: ld [%d]\n", i, in.K)
		case unix.BPF_ALU | unix.BPF_AND | unix.BPF_K:
			fmt.Fprintf(&b, "%4d: and #%#x\n", i, in.K)
		case unix.BPF_RET | unix.BPF_K:
			fmt.Fprintf(&b, "%4d: ret #%#x\n", i, in.K)
		case unix.BPF_JMP | unix.BPF_JA:
			fmt.Fprintf(&b, "%4d: ja %d\n", i, i+1+int(in.K))
		default:
			op := map[uint16]string{jeq: "jeq", jgt: "jgt", jge: "jge"}[in.Code]
			fmt.Fprintf(&b, "%4d: %s #%#x, %d, %d\n", i, op, in.K, i+1+int(in.Jt), i+1+int(in.Jf))
		}
	}
	return b.String()
}

func nativeUint32(b []byte) uint32 { return binary.NativeEndian.Uint32(b) }
