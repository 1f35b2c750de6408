package test

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The command line as a docker user types it: flags after the names, -h
// as run's hostname, and a typo answered in one line on stderr, with
// docker's exit codes and nothing on stdout.
func TestDockerCommandLineHabits(t *testing.T) {
	e := newEnv(t)
	e.ok("--log-level", "warn", "run", "-d", "--name", "web", "--net", "none", "busybox", "sleep", "100")
	if r := e.run("--log-level", "warn", "stop", "web", "-t", "1"); r.code != 0 || r.stdout != "web\n" {
		t.Errorf("stop web -t 1: %d %q %s", r.code, r.stdout, r.stderr)
	}
	if r := e.run("--log-level", "warn", "rm", "web", "-f"); r.code != 0 || r.stdout != "web\n" {
		t.Errorf("rm web -f: %d %q %s", r.code, r.stdout, r.stderr)
	}
	if out := e.ok("ps", "-a", "-q"); out != "" {
		t.Errorf("web is left: %q", out)
	}
	if out := e.ok("--log-level", "warn", "run", "--rm", "--net", "none", "-h", "myhost", "busybox", "hostname"); out != "myhost\n" {
		t.Errorf("run -h myhost: %q", out)
	}
	// After the image, flags are the command's.
	if out := e.ok("--log-level", "warn", "run", "--rm", "--net", "none", "busybox", "echo", "-h", "--rm"); out != "-h --rm\n" {
		t.Errorf("run busybox echo -h --rm: %q", out)
	}
	if r := e.run("run", "--help"); r.code != 0 || !strings.Contains(r.stdout, "--hostname value, -h value") {
		t.Errorf("run --help: %d %q", r.code, r.stdout)
	}
	for _, tc := range []struct {
		args   []string
		code   int
		stderr string
	}{
		{[]string{"frobnicate", "web"}, 1, "mydocker: 'frobnicate' is not a mydocker command. See 'mydocker --help'\n"},
		{[]string{"ps", "--bogus"}, 125, "mydocker: unknown flag: --bogus. See 'mydocker ps --help'\n"},
		{[]string{"network", "create", "n1", "--bogus"}, 125, "mydocker: unknown flag: --bogus. See 'mydocker network create --help'\n"},
		{[]string{"run", "--bogus", "busybox"}, 125, "mydocker: unknown flag: --bogus. See 'mydocker run --help'\n"},
	} {
		r := e.run(tc.args...)
		if r.code != tc.code || r.stderr != tc.stderr || r.stdout != "" {
			t.Errorf("%v: exit %d, stderr %q, stdout %q; want %d, %q and nothing", tc.args, r.code, r.stderr, r.stdout, tc.code, tc.stderr)
		}
	}
	// network create NAME --subnet: the flag after the name.
	e.ok("--log-level", "warn", "network", "create", "n1", "--subnet", "192.168.60.0/24")
	if out := e.ok("network", "ls"); !strings.Contains(out, "192.168.60.1/24") {
		t.Errorf("network create n1 --subnet: %s", out)
	}
	e.ok("--log-level", "warn", "network", "rm", "n1")

	// version and info, as docker's.
	if out := e.ok("--version"); !strings.HasPrefix(out, "mydocker version ") {
		t.Errorf("--version: %q", out)
	}
	if out := e.ok("version"); !strings.Contains(out, "Git commit:") || !strings.Contains(out, "Go version:") {
		t.Errorf("version:\n%s", out)
	}
	kernel := strings.TrimSpace(sh(t, "uname", "-r"))
	out := e.ok("--log-level", "warn", "info")
	for _, want := range []string{"Kernel Version: " + kernel, "Cgroup Version: ", "Iptables: iptables v", "Root Dir: " + e.root, "Data Root Dir: " + e.dataRoot} {
		if !strings.Contains(out, want) {
			t.Errorf("info lacks %q:\n%s", want, out)
		}
	}

	// logs after the name, and --tail.
	e.ok("--log-level", "warn", "run", "-d", "--name", "talker", "--net", "none", "busybox", "sh", "-c", "echo one; echo two; echo three")
	e.ok("wait", "talker")
	if out := e.ok("logs", "talker", "--tail", "2"); out != "two\nthree\n" {
		t.Errorf("logs talker --tail 2: %q", out)
	}
	if out := e.ok("logs", "-n", "0", "talker"); out != "" {
		t.Errorf("logs -n 0: %q", out)
	}
	e.fails("invalid --tail", "logs", "--tail", "x", "talker")
	e.ok("--log-level", "warn", "rm", "talker")
	// kill, wait, port.
	e.ok("--log-level", "warn", "network", "create", "kn", "--subnet", "192.168.61.0/24")
	e.ok("--log-level", "warn", "run", "-d", "--name", "k", "--net", "kn", "-p", "18080:80", "-p", "53/udp", "busybox", "sh", "-c", `trap "exit 7" TERM; while :; do sleep 1000 & wait; done`)
	if out := e.ok("port", "k"); !strings.HasPrefix(out, "80/tcp -> 0.0.0.0:18080\n53/udp -> 0.0.0.0:") {
		t.Errorf("port k: %q", out)
	}
	if out := e.ok("port", "k", "80"); out != "0.0.0.0:18080\n" {
		t.Errorf("port k 80: %q", out)
	}
	e.fails("no public port '81/tcp'", "port", "k", "81")
	// inspect --format, over docker's names.
	format := `{{.State.Status}} {{.NetworkSettings.IPAddress}} {{(index (index .NetworkSettings.Ports "80/tcp") 0).HostPort}} {{json .Config.Cmd}} {{range $n, $e := .NetworkSettings.Networks}}{{$n}}:{{$e.Gateway}}{{end}}`
	if out := e.ok("inspect", "-f", format, "k"); !regexp.MustCompile(`^running 192\.168\.61\.\d+ 18080 \["sh","-c",".*"\] kn:192\.168\.61\.1\n$`).MatchString(out) {
		t.Errorf("inspect -f: %q", out)
	}
	e.fails("invalid --format", "inspect", "-f", "{{.State", "k")
	if out := e.ok("top", "k"); !regexp.MustCompile(`^UID +PID +PPID.*\n(root .*\n){2,}$`).MatchString(out) || !strings.Contains(out, "sleep 1000") && !strings.Contains(out, "sh -c") {
		t.Errorf("top k: %q", out)
	}
	if out := e.ok("top", "k", "-o", "pid,comm"); !strings.HasPrefix(out, "  PID COMMAND\n") {
		t.Errorf("top k -o pid,comm: %q", out)
	}
	if out := e.ok("--log-level", "warn", "kill", "-s", "term", "k"); out != "k\n" {
		t.Errorf("kill -s term: %q", out)
	}
	if out := e.ok("wait", "k"); out != "7\n" {
		t.Errorf("wait after SIGTERM: %q, want the trap's 7", out)
	}
	e.ok("--log-level", "warn", "run", "-d", "--name", "k2", "--net", "none", "busybox", "sleep", "100")
	e.ok("--log-level", "warn", "kill", "k2")
	if out := e.ok("wait", "k2"); out != "137\n" {
		t.Errorf("wait after kill: %q", out)
	}
	e.fails("is not running", "kill", "k2")
	e.fails(`invalid signal "FOO"`, "kill", "-s", "FOO", "k2")
	// ps: filters, the last ones, templates.
	if out := e.ok("ps", "-a", "--filter", "exited=137", "--format", "{{.Names}} {{.State}}"); out != "k2 exited\n" {
		t.Errorf("ps --filter exited=137: %q", out)
	}
	if out := e.ok("ps", "-a", "--filter", "status=exited", "--filter", "network=kn", "-q"); len(strings.Fields(out)) != 1 {
		t.Errorf("ps --filter status=exited --filter network=kn: %q", out)
	}
	if out := e.ok("ps", "-l", "--format", "table {{.Names}}\t{{.Status}}"); !regexp.MustCompile(`^NAMES +STATUS\nk2 +Exited \(137\) `).MatchString(out) {
		t.Errorf("ps -l --format table: %q", out)
	}
	if out := e.ok("ps", "-n", "2", "--no-trunc", "-q"); len(strings.Fields(out)) != 2 || len(strings.Fields(out)[0]) != 64 {
		t.Errorf("ps -n 2 --no-trunc -q: %q", out)
	}
	e.fails("invalid filter", "ps", "--filter", "color=red")
	e.ok("--log-level", "warn", "rm", "k", "k2")
	e.ok("--log-level", "warn", "network", "rm", "kn")

	// pause and unpause: the freezer.
	e.ok("--log-level", "warn", "run", "-d", "--name", "p", "--net", "none", "busybox", "sh", "-c", "i=0; while :; do i=$((i+1)); echo $i > /tmp/n; mv /tmp/n /tmp/c; sleep 0.01; done")
	pid := e.inspect("p").State.Pid
	counter := func() string {
		time.Sleep(200 * time.Millisecond)
		b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/root/tmp/c", pid))
		return string(b)
	}
	// Each count replaces the file by a rename, so a freeze never catches it
	// truncated and not yet written; paused before its shell wrote the
	// first count, it would read "" twice.
	waitFor(t, "the counter to start", func() bool { return counter() != "" })
	e.ok("--log-level", "warn", "pause", "p")
	if a, b := counter(), counter(); a != b || a == "" {
		t.Errorf("a paused container counts on: %q then %q", a, b)
	}
	if out := e.ok("ps", "--filter", "status=paused", "--format", "{{.Names}} {{.Status}}"); !strings.HasPrefix(out, "p Up ") || !strings.HasSuffix(out, " (Paused)\n") {
		t.Errorf("ps of a paused container: %q", out)
	}
	if out := e.ok("inspect", "-f", "{{.State.Status}} {{.State.Paused}}", "p"); out != "paused true\n" {
		t.Errorf("inspect of a paused container: %q", out)
	}
	e.fails("is paused", "exec", "p", "true")
	e.fails("already paused", "pause", "p")
	e.ok("--log-level", "warn", "unpause", "p")
	if a, b := counter(), counter(); a == b {
		t.Errorf("an unpaused container is still frozen: %q", a)
	}
	e.fails("is not paused", "unpause", "p")
	// A paused container stops (it is thawed first).
	e.ok("--log-level", "warn", "pause", "p")
	e.ok("--log-level", "warn", "stop", "-t", "1", "p")
	if out := e.ok("ps", "-a", "--filter", "name=p", "--format", "{{.State}}"); out != "exited\n" {
		t.Errorf("stop of a paused container: %q", out)
	}
	e.ok("--log-level", "warn", "rm", "p")

	// run's --env-file, --label, --stop-signal and --stop-timeout; -e and
	// --env mixed.
	envFile := t.TempDir() + "/env"
	os.WriteFile(envFile, []byte("# comment\nA=1\nB=two words\n"), 0o644)
	if out := e.ok("--log-level", "warn", "run", "--rm", "--net", "none", "--label-file", envFile, "-l", "A=flag", "--name", "lf", "busybox", "true"); out != "" {
		t.Errorf("run --label-file printed %q", out)
	}
	e.ok("--log-level", "warn", "create", "--name", "lf", "--net", "none", "--label-file", envFile, "-l", "A=flag", "busybox", "true")
	if out := e.ok("inspect", "-f", "{{json .Config.Labels}}", "lf"); out != `{"A":"flag","B":"two words"}`+"\n" {
		t.Errorf("--label-file with -l over it: %q", out)
	}
	e.ok("rm", "lf")
	e.fails("--label-file", "create", "--net", "none", "--label-file", "/nonexistent", "busybox", "true")
	if out := e.ok("--log-level", "warn", "run", "--rm", "--net", "none", "--env-file", envFile, "-e", "A=over", "--env", "C=3", "busybox", "sh", "-c", "echo $A/$B/$C"); out != "over/two words/3\n" {
		t.Errorf("--env-file with -e and --env: %q", out)
	}
	e.ok("--log-level", "warn", "run", "-d", "--name", "s", "--net", "none", "--label", "x=1", "-l", "y", "--stop-signal", "USR1", "--stop-timeout", "1",
		"busybox", "sh", "-c", `trap "echo usr1" USR1; trap "echo usr2" USR2; echo up; while :; do sleep 0.1; done`)
	// A signal sent before the traps are set would be ignored (pid 1 gets
	// only the signals it handles): each one waits for the Nth "up".
	up := func(n int) {
		waitFor(t, "the container's traps", func() bool { return strings.Count(e.ok("logs", "s"), "up\n") >= n })
	}
	up(1)
	if out := e.ok("inspect", "-f", "{{json .Config.Labels}} {{.Config.StopSignal}} {{.Config.StopTimeout}}", "s"); out != `{"x":"1","y":""} USR1 1`+"\n" {
		t.Errorf("inspect of --label, --stop-signal, --stop-timeout: %q", out)
	}
	start := time.Now()
	e.ok("--log-level", "warn", "stop", "s")
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("stop took %v: --stop-timeout 1 not used", d)
	}
	if out := e.ok("logs", "s"); out != "up\nusr1\n" {
		t.Errorf("stop sent its --stop-signal? logs: %q", out)
	}
	// stop -s and restart -s: the signal given, in place of the container's.
	e.ok("--log-level", "warn", "start", "s")
	up(2)
	e.ok("--log-level", "warn", "restart", "-s", "usr2", "s")
	up(3)
	e.ok("--log-level", "warn", "stop", "--signal", "12", "s")
	if out := e.ok("logs", "s"); out != "up\nusr1\nup\nusr2\nup\nusr2\n" {
		t.Errorf("stop -s and restart -s: logs %q", out)
	}
	e.fails(`invalid --signal`, "stop", "-s", "NOPE", "s")
	if out := e.ok("ps", "-a", "--filter", "label=x=1", "--format", "{{.Names}} {{.Labels}}"); out != "s x=1,y=\n" {
		t.Errorf("ps --filter label=x=1: %q", out)
	}
	e.fails(`invalid signal "FOO"`, "run", "--rm", "--net", "none", "--stop-signal", "FOO", "busybox", "true")
	e.ok("--log-level", "warn", "rm", "s")

	// diff: added, changed, deleted; volumes, tmpfs and the runtime's own
	// mount points left out.
	vol := t.TempDir()
	e.ok("--log-level", "warn", "run", "--name", "d", "--net", "none", "-v", vol+":/vol", "--tmpfs", "/scratch", "busybox", "sh", "-c",
		"echo x > /tmp/new; rm /bin/ls; mkdir -p /var/a/b; echo y > /var/a/b/c; echo z >> /etc/passwd; echo v > /vol/f; echo s > /scratch/f; rm -rf /home; mkdir /home; touch /home/n")
	want := "C /bin\nD /bin/ls\nC /etc\nC /etc/passwd\nC /home\nA /home/n\nC /tmp\nA /tmp/new\nC /var\nA /var/a\nA /var/a/b\nA /var/a/b/c\n"
	if out := e.ok("diff", "d"); out != want {
		t.Errorf("diff d:\n%s\nwant\n%s", out, want)
	}
	e.ok("--log-level", "warn", "rm", "d")

	// rename: the record, and the name on the networks, in the other
	// containers' /etc/hosts.
	e.ok("--log-level", "warn", "network", "create", "--subnet", "192.168.62.0/24", "rn")
	e.ok("--log-level", "warn", "run", "-d", "--name", "a", "--net", "rn", "busybox", "sleep", "100")
	e.ok("--log-level", "warn", "run", "-d", "--name", "b", "--net", "rn", "busybox", "sleep", "100")
	if out := e.ok("--log-level", "warn", "rename", "a", "alpha"); out != "" {
		t.Errorf("rename prints %q", out)
	}
	if out := e.ok("--log-level", "warn", "exec", "b", "ping", "-c", "1", "-W", "2", "alpha"); !strings.Contains(out, "1 packets received") {
		t.Errorf("ping the renamed container by its new name: %q", out)
	}
	if hosts := e.ok("--log-level", "warn", "exec", "b", "cat", "/etc/hosts"); strings.Contains(hosts, " a\n") || !strings.Contains(hosts, " alpha\n") {
		t.Errorf("b's /etc/hosts after the rename:\n%s", hosts)
	}
	e.fails("already in use", "rename", "b", "alpha")
	e.fails("invalid container name", "rename", "b", "bad name")
	e.ok("--log-level", "warn", "rm", "-f", "alpha", "b")
	e.ok("--log-level", "warn", "network", "rm", "rn")

	// system df: images and containers, what is in use, what a prune gives back.
	e.ok("--log-level", "warn", "run", "-d", "--name", "up", "--net", "none", "busybox", "sh", "-c", "head -c 100000 /dev/zero > /big; sleep 100")
	e.ok("--log-level", "warn", "run", "--name", "down", "--net", "none", "busybox", "sh", "-c", "head -c 50000 /dev/zero > /big")
	df := e.ok("system", "df")
	for _, want := range []*regexp.Regexp{
		regexp.MustCompile(`(?m)^TYPE +TOTAL +ACTIVE +SIZE +RECLAIMABLE$`),
		regexp.MustCompile(`(?m)^Images +1 +1 +\S+ +0B \(0%\)$`),
		regexp.MustCompile(`(?m)^Containers +2 +1 +1[45]\dkB +50kB \(3\d%\)$`),
	} {
		if !want.MatchString(df) {
			t.Errorf("system df lacks %s:\n%s", want, df)
		}
	}
	e.ok("--log-level", "warn", "rm", "-f", "up", "down")
}
