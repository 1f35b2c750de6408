package test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/mydocker/mydocker/container/image/imagetest"
	"github.com/mydocker/mydocker/test/htpasswd"
)

// The real registries of the field, from Debian (the Makefile's deps):
// distribution's registry (docker-registry, 2.8) with htpasswd auth, and
// skopeo. They are required, not skipped: `make test` installs them.
const distributionBin = "/usr/bin/docker-registry"

// distribution starts docker-registry on 127.0.0.1 (this test's network
// namespace) with filesystem storage in a temp dir and htpasswd auth for
// user and password; it is ended by its pid when the test ends. It returns
// the registry's host:port.
func distribution(t *testing.T, user, password string) string {
	t.Helper()
	if _, err := os.Stat(distributionBin); err != nil {
		t.Fatalf("%s: %v (apt-get install docker-registry: `make deps`)", distributionBin, err)
	}
	dir := t.TempDir()
	line, err := htpasswd.Line(user, password)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "htpasswd"), []byte(line+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// A free port: the kernel's choice, given back for the registry to take
	// (nothing else listens in this namespace).
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	config := fmt.Sprintf(`version: 0.1
log:
  level: info
storage:
  filesystem:
    rootdirectory: %s
  delete:
    enabled: true
http:
  addr: %s
  secret: mydocker-test-secret
auth:
  htpasswd:
    realm: mydocker-test
    path: %s
`, filepath.Join(dir, "storage"), addr, filepath.Join(dir, "htpasswd"))
	cfg := filepath.Join(dir, "config.yml")
	if err := os.WriteFile(cfg, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	logf, err := os.Create(filepath.Join(dir, "registry.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(distributionBin, "serve", cfg)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); logf.Close(); close(exited) }()
	t.Cleanup(func() {
		syscall.Kill(cmd.Process.Pid, syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			syscall.Kill(cmd.Process.Pid, syscall.SIGKILL)
			<-exited
		}
		if t.Failed() {
			log, _ := os.ReadFile(logf.Name())
			t.Logf("docker-registry's log:\n%s", log)
		}
	})
	// Up when /v2/ asks for credentials.
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		resp, err := http.Get("http://" + addr + "/v2/")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusUnauthorized {
				break
			}
		}
		select {
		case <-exited:
			log, _ := os.ReadFile(logf.Name())
			t.Fatalf("docker-registry exited:\n%s", log)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("docker-registry did not answer on %s: %v", addr, err)
		}
	}
	return addr
}

// dockerConfigOf gives env a DOCKER_CONFIG of its own and returns its
// config.json's path.
func dockerConfigOf(e *env) string {
	dir := e.t.TempDir()
	e.environ = append(e.environ, "DOCKER_CONFIG="+dir)
	return filepath.Join(dir, "config.json")
}

// refused is oneLine (state_test.go) with docker's exit code for
// mydocker's own failure, 125.
func refused(t *testing.T, what string, r result, want string) {
	t.Helper()
	oneLine(t, what, r, want)
	if r.code != 125 {
		t.Errorf("%s: exit %d, want 125", what, r.code)
	}
}

// login, push, rmi, pull, run, logout against distribution's registry with
// htpasswd auth.
func TestRegistryLoginPushPullLogout(t *testing.T) {
	e := newEnv(t)
	cfg := dockerConfigOf(e)
	reg := distribution(t, "alice", "s3cret pw")
	src := imagetest.Registry(t)
	imagetest.Push(t, src+"/app:v1", imagetest.App(t, "1"))
	e.ok("pull", src+"/app:v1")
	ref := reg + "/app:v1"
	e.ok("tag", src+"/app:v1", ref)
	e.ok("rmi", src+"/app:v1")

	// Not logged in: refused, in one line that says what to do.
	refused(t, "push without login", e.run("--log-level", "error", "push", ref), "answered 401")
	if r := e.run("--log-level", "error", "push", ref); !strings.Contains(r.stderr, "mydocker login "+reg) {
		t.Errorf("push without login does not say to log in: %q", r.stderr)
	}

	// A wrong password: refused, nothing written.
	refused(t, "login with a wrong password", e.runIn([]byte("wrong\n"), "--log-level", "error", "login", "-u", "alice", "--password-stdin", reg), "wrong username or password")
	refused(t, "login of an unknown user", e.runIn([]byte("s3cret pw"), "--log-level", "error", "login", "-u", "bob", "--password-stdin", reg), "wrong username or password")
	if _, err := os.Stat(cfg); !os.IsNotExist(err) {
		t.Errorf("a refused login wrote %s: %v", cfg, err)
	}
	// No terminal, no password: a usage error, not a hang.
	refused(t, "login without a password", e.runIn([]byte{}, "--log-level", "error", "login", "-u", "alice", reg), "no terminal")

	// The right one, from stdin and with -p (which warns; flags after
	// SERVER, as docker takes them).
	if r := e.runIn([]byte("s3cret pw\n"), "login", "-u", "alice", "--password-stdin", reg); r.code != 0 || r.stdout != "Login Succeeded\n" {
		t.Fatalf("login --password-stdin: %d %q %s", r.code, r.stdout, r.stderr)
	}
	if r := e.run("login", reg, "-u", "alice", "-p", "s3cret pw"); r.code != 0 || r.stdout != "Login Succeeded\n" || !strings.Contains(r.stderr, "--password-stdin") {
		t.Fatalf("login -p: %d %q %s", r.code, r.stdout, r.stderr)
	}
	fi, err := os.Stat(cfg)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("%s: %v, want mode 0600", cfg, err)
	}
	var cf struct {
		Auths map[string]struct{ Auth string }
	}
	data, _ := os.ReadFile(cfg)
	if err := json.Unmarshal(data, &cf); err != nil || cf.Auths[reg].Auth != base64.StdEncoding.EncodeToString([]byte("alice:s3cret pw")) {
		t.Fatalf("config.json (%v):\n%s", err, data)
	}
	// Stored credentials: a login without -u logs in with them.
	if r := e.run("login", reg); r.code != 0 || r.stdout != "Login Succeeded\n" || !strings.Contains(r.stderr, "existing credentials") {
		t.Errorf("login with the stored credentials: %d %q %s", r.code, r.stdout, r.stderr)
	}

	// push, rmi, pull back, run.
	if out := e.ok("push", ref); !strings.Contains(out, "digest: sha256:") {
		t.Errorf("push: %q", out)
	}
	id := strings.TrimSpace(e.ok("images", "-q"))
	e.ok("rmi", ref)
	if out := e.ok("pull", "-q", ref); out != ref+"\n" {
		t.Errorf("pull -q: %q", out)
	}
	if got := strings.TrimSpace(e.ok("images", "-q")); got != id {
		t.Errorf("pulled back %q, want %q", got, id)
	}
	if out := e.ok("--log-level", "error", "run", "--rm", "--net", "none", ref); out != "bar from /app\n" {
		t.Errorf("run: %q", out)
	}

	// logout; a second says it was not; pull is refused again.
	if out := e.ok("logout", reg); out != "Removing login credentials for "+reg+"\n" {
		t.Errorf("logout: %q", out)
	}
	if out := e.ok("logout", reg); out != "Not logged in to "+reg+"\n" {
		t.Errorf("a second logout: %q", out)
	}
	if out := e.ok("logout"); out != "Not logged in to https://index.docker.io/v1/\n" {
		t.Errorf("logout of Docker Hub: %q", out)
	}
	e.ok("rmi", ref)
	refused(t, "pull after logout", e.run("--log-level", "error", "pull", ref), "answered 401")
}

// skopeo (containers/image) reads what the registry got from us, and
// mydocker loads what skopeo writes; skopeo reads what mydocker saves.
func TestSkopeoAndMydockerExchangeImages(t *testing.T) {
	skopeo, err := exec.LookPath("skopeo")
	if err != nil {
		t.Fatalf("skopeo: %v (apt-get install skopeo: `make deps`)", err)
	}
	e := newEnv(t)
	reg := distribution(t, "alice", "s3cret")
	r, err := name.ParseReference(reg + "/app:v1")
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.Write(r, imagetest.App(t, "1"), remote.WithAuth(&authn.Basic{Username: "alice", Password: "s3cret"})); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	sk := func(args ...string) string {
		t.Helper()
		r := runCmd(t, nil, nil, skopeo, args...)
		if r.code != 0 {
			t.Fatalf("skopeo %s: exit %d\n%s", strings.Join(args, " "), r.code, r.stderr)
		}
		return r.stdout
	}
	from := []string{"--src-tls-verify=false", "--src-creds", "alice:s3cret", "docker://" + reg + "/app:v1"}
	for _, c := range []struct{ dest, loaded string }{
		{"docker-archive:" + filepath.Join(dir, "docker.tar") + ":skopeo/docker:v1", "skopeo/docker:v1"},
		{"oci-archive:" + filepath.Join(dir, "oci.tar") + ":skopeo/oci:v1", "skopeo/oci:v1"},
	} {
		sk(append(append([]string{"copy", "-q"}, from...), c.dest)...)
		file := strings.SplitN(c.dest, ":", 3)[1]
		if out := e.ok("load", "-i", file); out != "Loaded image: "+c.loaded+"\n" {
			t.Errorf("load -i %s: %q, want %s", file, out, c.loaded)
		}
		if out := e.ok("--log-level", "error", "run", "--rm", "--net", "none", c.loaded); out != "bar from /app\n" {
			t.Errorf("run %s: %q", c.loaded, out)
		}
	}

	// What we save, skopeo reads, and sends to the registry; we pull it.
	saved := filepath.Join(dir, "s.tar")
	e.ok("save", "-o", saved, "skopeo/docker:v1")
	var insp struct {
		Layers []string
		Env    []string
	}
	if err := json.Unmarshal([]byte(sk("inspect", "docker-archive:"+saved)), &insp); err != nil {
		t.Fatal(err)
	}
	if len(insp.Layers) != 3 || len(insp.Env) != 2 || insp.Env[1] != "FOO=bar" {
		t.Errorf("skopeo inspect of our save: %+v", insp)
	}
	sk("copy", "-q", "--dest-tls-verify=false", "--dest-creds", "alice:s3cret", "docker-archive:"+saved, "docker://"+reg+"/back:v1")
	dockerConfigOf(e)
	if r := e.runIn([]byte("s3cret"), "login", "-u", "alice", "--password-stdin", reg); r.code != 0 {
		t.Fatalf("login: %d %s", r.code, r.stderr)
	}
	e.ok("pull", reg+"/back:v1")
	if out := e.ok("--log-level", "error", "run", "--rm", "--net", "none", reg+"/back:v1"); out != "bar from /app\n" {
		t.Errorf("run of the image skopeo pushed from our save: %q", out)
	}
}

// syncBuffer is a bytes.Buffer written by one goroutine, read by another.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// On a terminal, login asks for the user name (echoed) and the password
// (not echoed), as docker's does.
func TestLoginPromptsOnATerminal(t *testing.T) {
	e := newEnv(t)
	cfg := dockerConfigOf(e)
	reg := distribution(t, "alice", "s3cret pw")
	ptmx, tty, err := pty.Open() // a cooked terminal, echo on
	if err != nil {
		t.Fatalf("open a pty: %v", err)
	}
	defer ptmx.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, "--root", e.root, "--data-root", e.dataRoot, "--log-level", "error", "login", reg)
	cmd.Env = append(os.Environ(), e.environ...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = tty, tty, tty
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	var out syncBuffer
	go io.Copy(&out, ptmx)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	tty.Close()
	waitFor(t, "the user name's prompt", func() bool { return strings.Contains(out.String(), "Username: ") })
	io.WriteString(ptmx, "alice\n")
	waitFor(t, "the password's prompt", func() bool { return strings.Contains(out.String(), "Password: ") })
	io.WriteString(ptmx, "s3cret pw\n")
	if err := cmd.Wait(); err != nil {
		t.Fatalf("login on a terminal: %v\n%s", err, out.String())
	}
	waitFor(t, "Login Succeeded", func() bool { return strings.Contains(out.String(), "Login Succeeded") })
	if s := out.String(); !strings.Contains(s, "Username: alice") || strings.Contains(s, "s3cret") {
		t.Errorf("the terminal showed %q: want the user name echoed, the password not", s)
	}
	if data, err := os.ReadFile(cfg); err != nil || !strings.Contains(string(data), base64.StdEncoding.EncodeToString([]byte("alice:s3cret pw"))) {
		t.Errorf("config.json (%v):\n%s", err, data)
	}
}
