package test

import (
	"fmt"
	"math/rand"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// The crash-injection tests (issue 12): every mydocker process may be
// killed at any instant. For each operation and every N, the operation's
// process kills itself with SIGKILL just before its Nth kernel op (the
// crashtest build's switch, MYDOCKER_TEST_KILL="<verb>:<N>"); then the
// next ordinary command a user would type (a rm, a disconnect, a cleanup,
// or a retry) must leave exactly the state before the operation (or, after
// a retry, the state after it), as a user would check it: links,
// addresses, routes, iptables, mydocker's files (network files and IPAM
// whole), mounts, cgroups and processes (crashEnv.snapshot). N rises until
// the operation runs to its end: then every kill point is covered.

// crashStep is one mydocker command; tolerate is the one failure it may
// report (a follow-up that finds nothing to do).
type crashStep struct {
	args     []string
	tolerate string
}

func step(tolerate string, args ...string) crashStep { return crashStep{args, tolerate} }

type crashCase struct {
	name  string
	key   string                  // the killed process's verb, as the switch knows it
	setup func(x *crashEnv)       // once per env: what the operation needs
	prep  []crashStep             // before each kill, after the "before" snapshot
	op    []string                // the operation killed at N
	next  []crashStep             // what the user does next
	retry bool                    // next retries op: the state must be op's "after"
	undo  []crashStep             // after -> before, for a retry
	wait  func(x *crashEnv) error // after the kill, before next (the shim's exit)
	// setup uses mydocker once as op does (netsetgo): no generic warm-up
	ownWarmup bool
}

const (
	nkSubnet = "10.88.0.0/24"
	maxKill  = 300 // a bound, far above any operation's op count
)

var (
	createNk  = []string{"network", "create", "--subnet", nkSubnet, "nk"}
	createNk2 = []string{"network", "create", "--subnet", "10.89.0.0/24", "nk2"}
	runC      = []string{"run", "-d", "--name", "c", "--net", "nk", "-p", "18080:80", "busybox", "httpd", "-f", "-p", "80"}
	rmC       = step("no such container", "rm", "-f", "c")
	rmNk      = step("no such network", "network", "rm", "nk")
	nsgWire   = []string{"netsetgo", "-pid", "$PID", "-bridgeName", "nsg0", "-bridgeAddress", "10.73.0.1/24", "-containerAddress", "10.73.0.2/24"}
	nsgClean  = step("no netsetgo wiring", "netsetgo", "-cleanup", "-pid", "$PID", "-bridgeName", "nsg0")
)

func withNk(x *crashEnv) { x.mustMd(createNk...) }

// withSleeper: netsetgo's "container", and netsetgo used once (its
// directories are made on first use and stay).
func withSleeper(x *crashEnv) {
	x.sleeper()
	x.mustMd(nsgWire...)
	x.mustMd(nsgClean.args...)
}

// withNkAndC: two networks and a container on the first.
func withNkAndC(x *crashEnv) {
	x.mustMd(createNk...)
	x.mustMd(createNk2...)
	x.mustMd("run", "-d", "--name", "c", "--net", "nk", "busybox", "sleep", "1000000")
}

// shimGone waits until the env's shims have ended (the container's
// command, `sleep 0.2`, exits, the shim tears down, or it was killed).
func shimGone(x *crashEnv) error {
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		shims := 0
		for _, p := range x.procs() {
			if strings.HasPrefix(p.desc, "mydocker shim ") {
				shims++
			}
		}
		if shims == 0 {
			return nil
		}
	}
	return fmt.Errorf("the shim is still there 20 s later")
}

var crashCases = []crashCase{
	{name: "network create then rm", key: "network create", op: createNk, next: []crashStep{rmNk}},
	{name: "network create then retry", key: "network create", op: createNk,
		next: []crashStep{step("", createNk...)}, retry: true, undo: []crashStep{rmNk}},
	{name: "network rm then rm", key: "network remove", prep: []crashStep{step("", createNk...)},
		op: []string{"network", "rm", "nk"}, next: []crashStep{rmNk}},
	{name: "run then rm", key: "run", setup: withNk, op: runC, next: []crashStep{rmC}},
	{name: "run then retry", key: "run", setup: withNk, op: runC,
		next: []crashStep{step("", runC...)}, retry: true, undo: []crashStep{rmC}},
	// In the foreground, run itself starts, waits for and tears down its
	// container (no shim).
	{name: "foreground run then rm", key: "run", setup: withNk,
		op: []string{"run", "--name", "c", "--net", "nk", "-p", "18080:80", "busybox", "sleep", "0.2"}, next: []crashStep{rmC}},
	{name: "rm -f then rm -f", key: "rm", setup: withNk, prep: []crashStep{step("", runC...)},
		op: []string{"rm", "-f", "c"}, next: []crashStep{rmC}},
	{name: "shim then rm -f", key: "shim", setup: withNk,
		op:   []string{"run", "-d", "--name", "c", "--net", "nk", "-p", "18080:80", "busybox", "sleep", "0.2"},
		wait: shimGone, next: []crashStep{rmC}},
	{name: "network connect then disconnect", key: "network connect", setup: withNkAndC,
		op: []string{"network", "connect", "nk2", "c"}, next: []crashStep{step("not connected", "network", "disconnect", "nk2", "c")}},
	{name: "network disconnect then disconnect", key: "network disconnect", setup: withNkAndC,
		prep: []crashStep{step("", "network", "connect", "nk2", "c")},
		op:   []string{"network", "disconnect", "nk2", "c"}, next: []crashStep{step("not connected", "network", "disconnect", "nk2", "c")}},
	{name: "netsetgo then cleanup", key: "netsetgo", setup: withSleeper, ownWarmup: true, op: nsgWire, next: []crashStep{nsgClean}},
	{name: "netsetgo -cleanup then cleanup", key: "netsetgo -cleanup", setup: withSleeper, ownWarmup: true,
		prep: []crashStep{step("", nsgWire...)}, op: nsgClean.args, next: []crashStep{nsgClean}},
}

func TestCrashAtEveryKillPoint(t *testing.T) {
	total := 0
	for _, c := range crashCases {
		t.Run(c.name, func(t *testing.T) { total += crashEveryPoint(t, c) })
	}
	t.Logf("kill points covered, all operations: %d", total)
}

// crashEveryPoint kills c.op at N = 1, 2, ... until it runs to its end, and
// returns how many kill points it covered.
func crashEveryPoint(t *testing.T, c crashCase) int {
	x := fresh(t, c)
	before, after := x.snapshot(), ""
	if c.retry { // the state a successful operation leaves
		x.mustSteps(c.prep)
		x.mustMd(c.op...)
		x.settle()
		after = x.snapshot()
		x.mustSteps(c.undo)
		x.settle()
		if got := x.snapshot(); got != before {
			t.Fatalf("%s, then %s, does not come back to the state before:\n%s", strings.Join(c.op, " "), stepsText(c.undo), indent(lineDiff(before, got)))
		}
	}
	// reset throws the env away after a failure: the next N starts clean.
	reset := func() {
		x.close()
		x = fresh(t, c)
		before = x.snapshot()
	}
	points, failed := 0, 0
	var summary []string // one line per failed kill point
	var all []string     // every kill point, for -v
	for n := 1; n <= maxKill; n++ {
		if problems, _ := x.steps("prep", c.prep); len(problems) > 0 {
			t.Errorf("N=%d: %s", n, strings.Join(problems, "; "))
			failed++
			reset()
			continue
		}
		x.clearKill()
		r := x.md(fmt.Sprintf("%s:%d", c.key, n), c.op...)
		if c.wait != nil {
			if err := c.wait(x); err != nil {
				t.Errorf("N=%d: %v", n, err)
			}
		}
		x.settle()
		killed := x.killLine()
		switch {
		case killed != "":
			points++
			all = append(all, fmt.Sprintf("N=%d %s", n, opOf(killed)))
		case c.key == "shim" || r.code == 0:
			// Past the last op: the operation ran whole; its follow-up
			// must still land where a killed one does.
			killed = "no kill: the operation ran to its end"
		default:
			t.Errorf("N=%d: %s failed without being killed: exit %d\n%s", n, strings.Join(c.op, " "), r.code, tail(r.stderr, 5))
			killed = "no kill, but the operation failed"
		}
		left := x.snapshot()
		want, wantName := before, "the state before"
		if c.retry {
			want, wantName = after, "the state after a normal "+strings.Join(c.op, " ")
		}
		problems, said := x.steps("next", c.next)
		if c.retry && len(problems) > 0 && left == after {
			problems = nil // the killed operation had done it all: the retry may say so
		}
		x.settle()
		got := x.snapshot()
		if got != want || len(problems) > 0 {
			failed++
			t.Errorf("N=%d, %s\n  then %s: %s\n  state differs from %s (- want, + got):\n%s\n  what the kill left (- before, + left):\n%s",
				n, killed, stepsText(c.next), strings.Join(said, "; "), wantName, indent(lineDiff(want, got)), indent(lineDiff(before, left)))
			summary = append(summary, fmt.Sprintf("N=%d %s -> %s%s", n, opOf(killed), diffKinds(lineDiff(want, got)), problemMark(problems)))
			reset()
		} else if c.retry {
			problems, _ := x.steps("undo", c.undo)
			x.settle()
			if got := x.snapshot(); got != before || len(problems) > 0 {
				t.Errorf("N=%d: after the retry, %s does not come back to the state before: %s\n%s", n, stepsText(c.undo), strings.Join(problems, "; "), indent(lineDiff(before, got)))
				reset()
			}
		}
		if strings.HasPrefix(killed, "no kill") {
			break
		}
		if n == maxKill {
			t.Errorf("%s was still killed at N=%d: the switch does not stop", c.key, n)
		}
	}
	t.Logf("%s: %d kill points of %q, %d left a state the next command did not repair", c.name, points, c.key, failed)
	if testing.Verbose() {
		t.Logf("%s: the kill points:\n  %s", c.name, strings.Join(all, "\n  "))
	}
	if len(summary) > 0 {
		t.Logf("%s: the failed kill points (op killed before -> what differs: + left over, - missing):\n  %s", c.name, strings.Join(summary, "\n  "))
	}
	return points
}

var (
	tempDirRE = regexp.MustCompile(`/tmp/TestCrash[^/ ]*/\d+/`)
	fullIDRE  = regexp.MustCompile(`[0-9a-f]{64}`)
)

// opOf is the op a kill line names, short: $DIR for the env's directory,
// <ID> for a container id.
func opOf(killed string) string {
	if _, op, ok := strings.Cut(killed, ": "); ok && strings.HasPrefix(killed, "crashtest:") {
		_, op, _ = strings.Cut(op, ": ")
		op = fullIDRE.ReplaceAllString(tempDirRE.ReplaceAllString(op, "$$DIR/"), "<ID>")
		if len(op) > 120 {
			op = op[:120] + "..."
		}
		return "[" + op + "]"
	}
	return "[" + killed + "]"
}

// diffKinds names the sections of a snapshot diff: "+link +iptables -json".
func diffKinds(diff string) string {
	seen := map[string]bool{}
	var kinds []string
	for _, l := range strings.Split(diff, "\n") {
		if len(l) < 3 {
			continue
		}
		sign, rest := l[:1], l[2:]
		kind, _, _ := strings.Cut(rest, ":")
		if k := sign + kind; !seen[k] {
			seen[k] = true
			kinds = append(kinds, k)
		}
	}
	if len(kinds) == 0 {
		return "same state"
	}
	return strings.Join(kinds, " ")
}

func problemMark(problems []string) string {
	if len(problems) == 0 {
		return ""
	}
	return "; the follow-up failed: " + strings.Join(problems, "; ")
}

// fresh is a new env, warmed up, with c's setup done.
func fresh(t *testing.T, c crashCase) *crashEnv {
	x := newCrashEnv(t)
	if !c.ownWarmup {
		warmUp(x)
	}
	if c.setup != nil {
		c.setup(x)
	}
	x.settle()
	return x
}

// warmUp uses mydocker once: what it makes on first use and keeps (the
// iptables tables, its directories, the image) is then part of the state
// before.
func warmUp(x *crashEnv) {
	x.mustMd("network", "create", "--subnet", "10.99.99.0/24", "warm")
	x.mustMd("run", "--rm", "--net", "warm", "busybox", "true")
	x.mustMd("network", "rm", "warm")
}

// steps runs mydocker commands; it returns what went wrong (a failure
// that is not the tolerated one), for the report, and what each said.
func (x *crashEnv) steps(what string, steps []crashStep) (problems, said []string) {
	x.t.Helper()
	for _, s := range steps {
		r := x.md("", s.args...)
		out := tail(strings.TrimSpace(r.stdout+r.stderr), 1)
		switch {
		case r.code == 0:
			said = append(said, "exit 0")
		case s.tolerate != "" && strings.Contains(strings.ToLower(out), s.tolerate):
			said = append(said, fmt.Sprintf("exit %d, as may be: %s", r.code, out))
		default:
			problems = append(problems, fmt.Sprintf("%s: mydocker %s: exit %d: %s", what, strings.Join(s.args, " "), r.code, out))
			said = append(said, fmt.Sprintf("exit %d: %s", r.code, out))
		}
	}
	return problems, said
}

// mustSteps runs steps and fails the test if one fails.
func (x *crashEnv) mustSteps(steps []crashStep) {
	x.t.Helper()
	if problems, _ := x.steps("", steps); len(problems) > 0 {
		x.t.Fatal(strings.Join(problems, "; "))
	}
}

func stepsText(steps []crashStep) string {
	var out []string
	for _, s := range steps {
		out = append(out, strings.Join(s.args, " "))
	}
	return strings.Join(out, "; ")
}

// indent indents a diff for a report, its long lines (a bridge's
// details) cut.
func indent(s string) string {
	if s == "" {
		return "    (none)"
	}
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if len(l) > 300 {
			l = l[:300] + "..."
		}
		lines[i] = "    " + l
	}
	return strings.Join(lines, "\n")
}

// Random kill -9 from outside: concurrent `run -d --net` killed at random
// instants (and, now and then, a shim), then concurrent `rm -f` of the
// running ones killed likewise, then `rm -f` of every container ps -a
// lists: nothing leaks, and no two live containers ever share an address.
func TestCrashRandomKillsConcurrentRuns(t *testing.T) {
	x := newCrashEnv(t)
	warmUp(x)
	withNk(x)
	x.settle()
	before := x.snapshot()
	const waves, perWave = 5, 8
	rng := rand.New(rand.NewSource(time.Now().UnixNano()))
	kills, runs := 0, 0
	run := []string{"run", "-d", "--net", "nk", "busybox", "sleep", "1000000"}
	for w := 0; w < waves; w++ {
		cmds := make([][]string, perWave)
		for i := range cmds {
			cmds[i] = run
		}
		runs += perWave
		kills += x.killWave(rng, cmds, func() {
			if rng.Intn(2) == 0 { // now and then a shim dies too
				var shims []int
				for _, p := range x.procs() {
					if strings.HasPrefix(p.desc, "mydocker shim ") {
						shims = append(shims, p.pid)
					}
				}
				if len(shims) > 0 && syscall.Kill(shims[rng.Intn(len(shims))], syscall.SIGKILL) == nil {
					kills++
				}
			}
		})
		x.settle()
		checkDistinctAddresses(t, x)
	}
	var rms [][]string
	for _, id := range strings.Fields(x.md("", "ps", "-q").stdout) {
		rms = append(rms, []string{"rm", "-f", id})
	}
	kills += x.killWave(rng, rms, nil)
	x.settle()
	checkDistinctAddresses(t, x)
	ids := strings.Fields(x.md("", "ps", "-a", "-q").stdout)
	var said []string
	for _, id := range ids {
		r := x.md("", "--log-level", "warn", "rm", "-f", id)
		said = append(said, fmt.Sprintf("rm -f %s: exit %d %s", id[:12], r.code, tail(strings.TrimSpace(r.stderr), 1)))
		if r.code != 0 && !strings.Contains(strings.ToLower(r.stderr), "no such container") {
			t.Errorf("rm -f %s: exit %d: %s", id, r.code, tail(r.stderr, 3))
		}
	}
	x.settle()
	if got := x.snapshot(); got != before {
		t.Errorf("after %d random kills (%d runs, %d rm -f) and rm -f of the %d containers ps -a lists, the state differs (- before, + after):\n%s\n  the rm -f:\n%s\n  ps -a now:\n%s",
			kills, runs, len(rms), len(ids), indent(lineDiff(before, got)), indent(strings.Join(said, "\n")), indent(x.md("", "ps", "-a").stdout))
	}
	t.Logf("random kills: %d (of %d runs in %d waves, %d rm -f, the odd shim)", kills, runs, waves, len(rms))
}

// killWave runs mydocker commands concurrently and kills each with SIGKILL
// at a random instant in its first half second (meanwhile, if set, runs
// also); it returns how many it killed before they had finished.
func (x *crashEnv) killWave(rng *rand.Rand, cmds [][]string, meanwhile func()) int {
	var wg sync.WaitGroup
	var mu sync.Mutex
	kills := 0
	for _, args := range cmds {
		delay := time.Duration(rng.Intn(500)) * time.Millisecond
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.Command("nsenter", append([]string{"-t", strconv.Itoa(x.holder.Process.Pid), "-n", "-m", "--", binary,
				"--root", x.root, "--data-root", x.dataRoot, "--log-level", "error"}, args...)...)
			cmd.WaitDelay = 2 * time.Second
			if err := cmd.Start(); err != nil {
				x.t.Error(err)
				return
			}
			time.Sleep(delay)
			syscall.Kill(cmd.Process.Pid, syscall.SIGKILL)
			cmd.Wait()
			if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
				mu.Lock()
				kills++ // it had not finished yet
				mu.Unlock()
			}
		}()
	}
	if meanwhile != nil {
		time.Sleep(time.Duration(rng.Intn(400)) * time.Millisecond)
		meanwhile()
	}
	wg.Wait()
	x.collectIDs()
	return kills
}

// checkDistinctAddresses: no two live containers share an IPv4 address,
// and none has the gateway's.
func checkDistinctAddresses(t *testing.T, x *crashEnv) {
	t.Helper()
	owner := map[string]int{}
	for _, pid := range x.containerInits() {
		out, err := exec.Command("nsenter", "-t", strconv.Itoa(pid), "-n", "ip", "-o", "-4", "addr", "show", "scope", "global").Output()
		if err != nil {
			continue // it ended meanwhile
		}
		for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
			f := strings.Fields(l)
			if len(f) < 4 {
				continue
			}
			addr := strings.SplitN(f[3], "/", 2)[0]
			if addr == "10.88.0.1" {
				t.Errorf("container pid %d has the gateway's address %s", pid, addr)
			}
			if o, dup := owner[addr]; dup {
				t.Errorf("two live containers share %s: pids %d and %d", addr, o, pid)
			}
			owner[addr] = pid
		}
	}
}
