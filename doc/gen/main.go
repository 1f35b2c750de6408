// Command gen runs the commands of every chapter of doc/walkthrough, each in
// a fresh network and mount namespace with a temporary root, and writes
// their normalised output into the chapters (`make docs`, as root).
//
//	go run ./doc/gen [-binary ./mydocker] [-dir doc/walkthrough] [CHAPTER.md...]
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/mydocker/mydocker/internal/walkthrough"
)

func main() {
	binary := flag.String("binary", "", "the mydocker to run (default: build one from this tree)")
	dir := flag.String("dir", "doc/walkthrough", "the chapters")
	flag.Parse()
	if err := run(*binary, *dir, flag.Args()); err != nil {
		fmt.Fprintln(os.Stderr, "doc/gen:", err)
		os.Exit(1)
	}
}

func run(binary, dir string, only []string) error {
	if os.Geteuid() != 0 {
		return fmt.Errorf("needs root: the chapters create namespaces, bridges and containers")
	}
	if binary == "" {
		tmp, err := os.MkdirTemp("", "mydocker-docs-bin-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
		os.Chmod(tmp, 0o755)
		binary = filepath.Join(tmp, "mydocker")
		build := exec.Command("go", "build", "-o", binary, ".")
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			return fmt.Errorf("build mydocker: %w", err)
		}
		// etcd's client, beside mydocker where it looks for it (internal/kv).
		build = exec.Command("go", "build", "-o", filepath.Join(tmp, "mydocker-kv"), "./cmd/mydocker-kv")
		build.Stdout, build.Stderr = os.Stderr, os.Stderr
		if err := build.Run(); err != nil {
			return fmt.Errorf("build mydocker-kv: %w", err)
		}
	}
	chapters, err := walkthrough.Chapters(dir, "README.md")
	if err != nil {
		return err
	}
	r := &walkthrough.Runner{Binary: binary}
	for _, c := range chapters {
		if len(only) > 0 && !wanted(c.Path, only) {
			continue
		}
		missing := r.Missing(c)
		if len(missing) > 0 {
			fmt.Fprintf(os.Stderr, "%s: skipped, this mydocker has no %s verb\n", c.Path, strings.Join(missing, ", "))
		} else if err := r.Run(c); err != nil {
			return err
		}
		out := c.Render(missing)
		if out == c.Text {
			fmt.Fprintf(os.Stderr, "%s: unchanged\n", c.Path)
			continue
		}
		if err := os.WriteFile(c.Path, []byte(out), 0o644); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "%s: updated\n", c.Path)
	}
	return nil
}

func wanted(path string, only []string) bool {
	for _, o := range only {
		if filepath.Base(o) == filepath.Base(path) {
			return true
		}
	}
	return false
}
