package test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// completion bash|zsh|fish: each script is valid for its shell, and bash's
// (driven as bash drives it: COMP_WORDS, COMP_CWORD, the function, then
// COMPREPLY) and fish's (complete -C) complete a verb, a flag and the
// names of a container, an image and a network from mydocker itself.
func TestCompletionScripts(t *testing.T) {
	e := newEnv(t)
	dir := t.TempDir()
	for _, shell := range []string{"bash", "zsh", "fish"} {
		script := filepath.Join(dir, "mydocker."+shell)
		if err := os.WriteFile(script, []byte(e.ok("completion", shell)), 0o644); err != nil {
			t.Fatal(err)
		}
		if out, err := exec.Command(shell, "-n", script).CombinedOutput(); err != nil {
			t.Errorf("%s -n: %v\n%s", shell, err, out)
		}
	}
	e.fails(`unknown shell "tcsh"`, "completion", "tcsh")

	e.ok("-q", "network", "create", "compnet", "--subnet", "192.168.66.0/24")
	e.ok("-q", "run", "--name", "webserver", "--net", "none", "busybox", "true")
	e.ok("-q", "volume", "create", "compvol")

	// bash: the function on COMP_WORDS, as bash calls it; the roots typed
	// on the command line are the ones whose names it lists.
	globals := "--root " + e.root + " --data-root " + e.dataRoot
	complete := func(line string) string {
		t.Helper()
		words := strings.Fields(line)
		if strings.HasSuffix(line, " ") {
			words = append(words, "")
		}
		quoted := make([]string, len(words))
		for i, w := range words {
			quoted[i] = "'" + w + "'"
		}
		prog := `source ` + filepath.Join(dir, "mydocker.bash") + `
COMP_WORDS=(` + strings.Join(quoted, " ") + `)
COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
COMP_LINE="${COMP_WORDS[*]}"
__mydocker_complete
printf '%s\n' "${COMPREPLY[@]}"`
		out, err := exec.Command("bash", "-c", prog).CombinedOutput()
		if err != nil {
			t.Fatalf("bash completion of %q: %v\n%s", line, err, out)
		}
		return string(out)
	}
	for _, tc := range []struct{ line, want string }{
		{binary + " unp", "unpause\n"},
		{binary + " ps --no-t", "--no-trunc\n"},
		{binary + " " + globals + " rm web", "webserver\n"},
		{binary + " " + globals + " logs -f web", "webserver\n"},
		{binary + " " + globals + " run --rm busy", "busybox\n"},
		{binary + " " + globals + " run --net comp", "compnet\n"},
		{binary + " " + globals + " network connect comp", "compnet\n"},
		{binary + " " + globals + " network connect compnet web", "webserver\n"},
		{binary + " completion ", "bash\nzsh\nfish\n"},
		{binary + " " + globals + " volume rm comp", "compvol\n"},
	} {
		if got := complete(tc.line); got != tc.want {
			t.Errorf("bash: %q<TAB> completes %q, want %q", strings.ReplaceAll(tc.line, binary, "mydocker"), got, tc.want)
		}
	}

	// fish: complete -C, with mydocker on the PATH.
	fish := exec.Command("fish", "-c", "source "+filepath.Join(dir, "mydocker.fish")+"; complete -C'mydocker "+globals+" stop web'; complete -C'mydocker vers'")
	fish.Env = append(os.Environ(), "PATH="+filepath.Dir(binary)+":"+os.Getenv("PATH"))
	if out, err := fish.CombinedOutput(); err != nil || string(out) != "webserver\nversion\n" {
		t.Errorf("fish completion: %v %q", err, out)
	}
	// zsh: sourced after compinit, it registers its function for mydocker.
	if out, err := exec.Command("zsh", "-fc", "autoload -U compinit; compinit -u -D; source "+filepath.Join(dir, "mydocker.zsh")+"; print ${_comps[mydocker]}").CombinedOutput(); err != nil || string(out) != "_mydocker\n" {
		t.Errorf("zsh: the completion is not registered: %v %q", err, out)
	}
	e.ok("-q", "rm", "webserver")
	e.ok("-q", "volume", "rm", "compvol")
	e.ok("-q", "network", "rm", "compnet")
}
