package walkthrough

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Runner runs chapters with one mydocker binary.
type Runner struct {
	Binary  string        // the mydocker to run; it is on the commands' PATH as "mydocker"
	Timeout time.Duration // per chapter; 0 = 3 minutes
}

// HasVerb reports whether the binary has a top-level verb (hidden or not):
// for an unknown one, mydocker says "No help topic for 'VERB'".
func (r *Runner) HasVerb(verb string) bool {
	out, err := exec.Command(r.Binary, "help", verb).CombinedOutput()
	return err == nil && !strings.Contains(string(out), "No help topic for")
}

// Missing lists the verbs a chapter needs that the binary lacks.
func (r *Runner) Missing(c *Chapter) []string {
	var out []string
	for _, v := range c.Needs {
		if !r.HasVerb(v) {
			out = append(out, v)
		}
	}
	return out
}

const marker = "@@walkthrough@@"

// Run runs a chapter's commands, in order, in a fresh network and mount
// namespace with a temporary root, and fills in the blocks' normalised
// outputs.
func (r *Runner) Run(c *Chapter) error {
	tmp, err := os.MkdirTemp("", "mydocker-walkthrough-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	bin := filepath.Join(tmp, "bin")
	work := filepath.Join(tmp, "work")
	for _, d := range []string{bin, work} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	exe, err := filepath.Abs(r.Binary)
	if err != nil {
		return err
	}
	if err := os.Symlink(exe, filepath.Join(bin, "mydocker")); err != nil {
		return err
	}
	if err := os.Symlink(exe, filepath.Join(bin, "netsetgo")); err != nil {
		return err
	}
	root, data := filepath.Join(tmp, "run"), filepath.Join(tmp, "lib")
	paths := strings.NewReplacer("/var/run/mydocker", root, "/var/lib/mydocker", data)

	var s strings.Builder
	s.WriteString(netnsLine(tmp))
	fmt.Fprintf(&s, "export PATH=%s:$PATH MYDOCKER_ROOT=%s MYDOCKER_DATA_ROOT=%s\n", bin, root, data)
	// A new network namespace copies the host's IPv4 settings: start
	// from the kernel's defaults (no routing), whatever the host has.
	fmt.Fprintf(&s, "cd %s\nip link set lo up\nsysctl -qw net.ipv4.ip_forward=0\n", work)
	for _, cmd := range c.Setup {
		fmt.Fprintf(&s, "{ %s\n} >/dev/null 2>&1 || { echo '%s setup failed: %s'; exit 1; }\n", paths.Replace(cmd), marker, strings.ReplaceAll(cmd, "'", ""))
	}
	n := 0
	for _, b := range c.Blocks {
		cmds := b.Cmds
		if b.Network != "" {
			cmds = []string{"mydocker --log-level warn network inspect --format mermaid " + b.Network}
		}
		for _, cmd := range cmds {
			fmt.Fprintf(&s, "printf '\\n%s %d\\n'\n{ %s\n} 2>&1\nprintf '\\n%s rc %%d\\n' $?\n", marker, n, paths.Replace(cmd), marker)
			fmt.Fprintf(&s, "echo \"%s ids $(ls %s/containers 2>/dev/null | tr '\\n' ' ')\"\n", marker, root)
			n++
		}
	}
	// Whatever the chapter left running goes, so nothing outlives it.
	fmt.Fprintf(&s, "printf '\\n%s end\\n'\n", marker)
	s.WriteString("for id in $(mydocker --log-level error ps -a -q); do mydocker --log-level error rm -f $id >/dev/null 2>&1; done\n")
	s.WriteString("mydocker --log-level error network prune >/dev/null 2>&1\nexit 0\n")

	timeout := r.Timeout
	if timeout == 0 {
		timeout = 3 * time.Minute
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	// Output to a file, not a pipe: a command may leave a background
	// process holding its stdout until the end.
	outf, err := os.Create(filepath.Join(tmp, "out"))
	if err != nil {
		return err
	}
	defer outf.Close()
	cmd := exec.CommandContext(ctx, "unshare", "--net", "--mount", "--propagation", "private", "sh", "-c", s.String())
	cmd.Stdout, cmd.Stderr = outf, outf
	cmd.Env = append(os.Environ(), "MYDOCKER_LOG_LEVEL=info", "MYDOCKER_LOG_FORMAT=text", markEnv(tmp))
	runErr := cmd.Run()
	if err := endLeftovers(tmp); err != nil {
		return fmt.Errorf("%s: %w", c.Path, err)
	}
	raw, err := os.ReadFile(outf.Name())
	if err != nil {
		return err
	}
	if ctx.Err() != nil {
		return fmt.Errorf("%s: timed out after %v:\n%s", c.Path, timeout, raw)
	}
	if runErr != nil {
		return fmt.Errorf("%s: %v:\n%s", c.Path, runErr, raw)
	}
	outs, err := split(string(raw), n)
	if err != nil {
		return fmt.Errorf("%s: %w", c.Path, err)
	}
	_, listed := takeIDLines(string(raw))
	norm := NewNormalizer(map[string]string{
		root: "/var/run/mydocker", data: "/var/lib/mydocker", filepath.Join(bin, "mydocker"): "/usr/local/bin/mydocker",
		exe: "/usr/local/bin/mydocker", work: "/root", tmp: "/tmp/walkthrough",
	})
	norm.Known = listed
	all := norm.Normalize(strings.Join(outs, "\n"+marker+"\n"))
	outs = strings.Split(all, "\n"+marker+"\n")
	if len(outs) != n {
		return fmt.Errorf("%s: output of %d commands, want %d", c.Path, len(outs), n)
	}
	i := 0
	for bi := range c.Blocks {
		b := &c.Blocks[bi]
		if b.Network != "" {
			b.Outputs = []string{outs[i]}
			if !strings.HasPrefix(outs[i], "flowchart") {
				return fmt.Errorf("%s: network inspect --format mermaid %s: %s", c.Path, b.Network, outs[i])
			}
			b.Outputs[0] += "\n"
			i++
			continue
		}
		b.Outputs = outs[i : i+len(b.Cmds)]
		i += len(b.Cmds)
	}
	return nil
}

// split cuts the script's output at the markers into n outputs; a command
// that failed ends with "[exit status N]".
func split(raw string, n int) ([]string, error) {
	if i := strings.Index(raw, marker+" setup failed"); i >= 0 {
		return nil, fmt.Errorf("%s", raw[i+len(marker)+1:])
	}
	outs := make([]string, n)
	for i := 0; i < n; i++ {
		start := fmt.Sprintf("\n%s %d\n", marker, i)
		a := strings.Index(raw, start)
		if a < 0 {
			return nil, fmt.Errorf("no output for command %d:\n%s", i, raw)
		}
		rest := raw[a+len(start):]
		e := strings.Index(rest, "\n"+marker+" rc ")
		if e < 0 {
			return nil, fmt.Errorf("command %d did not finish:\n%s", i, rest)
		}
		out := strings.TrimRight(rest[:e], "\n")
		rcLine := rest[e+len("\n"+marker+" rc "):]
		rc, _ := strconv.Atoi(strings.TrimSpace(strings.SplitN(rcLine, "\n", 2)[0]))
		if rc != 0 {
			if out != "" {
				out += "\n"
			}
			out += fmt.Sprintf("[exit status %d]", rc)
		}
		outs[i] = out
	}
	return outs, nil
}

// Check runs a chapter and compares it with its file: "" when they match,
// else a unified-ish diff of the first lines that differ.
func (r *Runner) Check(c *Chapter) (string, error) {
	missing := r.Missing(c)
	if len(missing) == 0 {
		if err := r.Run(c); err != nil {
			return "", err
		}
	}
	got := c.Render(missing)
	if got == c.Text {
		return "", nil
	}
	return diff(c.Text, got), nil
}

func diff(a, b string) string {
	al, bl := strings.Split(a, "\n"), strings.Split(b, "\n")
	var out bytes.Buffer
	shown := 0
	for i := 0; i < len(al) || i < len(bl); i++ {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y {
			fmt.Fprintf(&out, "line %d:\n- doc: %s\n+ now: %s\n", i+1, x, y)
			if shown++; shown == 10 {
				break
			}
		}
	}
	return out.String()
}
