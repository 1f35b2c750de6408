package image

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mydocker/mydocker/container/image/imagetest"
)

func TestServerKey(t *testing.T) {
	for in, want := range map[string]string{
		"":                            DefaultServer,
		"docker.io":                   DefaultServer,
		"index.docker.io":             DefaultServer,
		"https://index.docker.io/v1/": DefaultServer,
		"registry-1.docker.io":        DefaultServer,
		"127.0.0.1:5000":              "127.0.0.1:5000",
		"http://127.0.0.1:5000/v2/":   "127.0.0.1:5000",
		"ghcr.io/owner/repo":          "ghcr.io",
	} {
		if got := ServerKey(in); got != want {
			t.Errorf("ServerKey(%q) = %q, want %q", in, got, want)
		}
	}
}

// dockerConfig points $DOCKER_CONFIG at a temp dir holding content as
// config.json (none if empty) and returns the file's path.
func dockerConfig(t *testing.T, content string) string {
	t.Helper()
	dir := t.TempDir()
	t.Setenv("DOCKER_CONFIG", dir)
	path := filepath.Join(dir, "config.json")
	if content != "" {
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return path
}

func TestLoginChecksThenStoresInDockersFormat(t *testing.T) {
	path := dockerConfig(t, `{"psFormat": "table {{.ID}}", "auths": {"other.example": {"auth": "b3RoZXI6cHc="}}}`)
	reg := imagetest.RegistryWithAuth(t, "alice", "s3cret")
	ctx := context.Background()

	// Wrong password: refused, one line, nothing written.
	before, _ := os.ReadFile(path)
	_, err := CheckLogin(ctx, reg, "alice", "wrong")
	if !errors.Is(err, ErrUnauthorized) || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), "401") {
		t.Fatalf("a wrong password: %v", err)
	}
	if after, _ := os.ReadFile(path); string(after) != string(before) {
		t.Errorf("a refused login changed the file:\n%s", after)
	}

	key, err := CheckLogin(ctx, "http://"+reg+"/", "alice", "s3cret")
	if err != nil || key != reg {
		t.Fatalf("the right password: %q %v", key, err)
	}
	if err := SaveLogin(key, "alice", "s3cret"); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("config.json: %v %v, want mode 0600", fi.Mode(), err)
	}
	var cf struct {
		PsFormat string `json:"psFormat"`
		Auths    map[string]struct{ Auth string }
	}
	data, _ := os.ReadFile(path)
	if err := json.Unmarshal(data, &cf); err != nil {
		t.Fatal(err)
	}
	if cf.PsFormat != "table {{.ID}}" || cf.Auths["other.example"].Auth != "b3RoZXI6cHc=" || cf.Auths[reg].Auth != "YWxpY2U6czNjcmV0" {
		t.Errorf("config.json:\n%s", data)
	}
	if u, p, ok := StoredLogin(reg); !ok || u != "alice" || p != "s3cret" {
		t.Errorf("StoredLogin: %q %q %v", u, p, ok)
	}
	if tmps, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".config.json.tmp-*")); len(tmps) != 0 {
		t.Errorf("temp files left: %v", tmps)
	}

	// Logout removes only that server; a second says it was not logged in.
	if shown, removed, err := Logout(reg); err != nil || !removed || shown != reg {
		t.Fatalf("logout: %q %v %v", shown, removed, err)
	}
	data, _ = os.ReadFile(path)
	cf.Auths = nil
	json.Unmarshal(data, &cf)
	if _, ok := cf.Auths[reg]; ok || cf.Auths["other.example"].Auth == "" || cf.PsFormat == "" {
		t.Errorf("config.json after logout:\n%s", data)
	}
	if _, removed, err := Logout(reg); err != nil || removed {
		t.Errorf("a second logout: %v %v", removed, err)
	}
	if shown, removed, err := Logout(""); err != nil || removed || shown != "https://index.docker.io/v1/" {
		t.Errorf("logout of Docker Hub: %q %v %v", shown, removed, err)
	}
}

func TestLoginRefusesWhatItCannotKeep(t *testing.T) {
	path := dockerConfig(t, `{"auths": {`)
	if err := SaveLogin("r.example", "u", "p"); err == nil || !strings.Contains(err.Error(), path) {
		t.Errorf("a corrupt config.json: %v", err)
	}
	dockerConfig(t, `{"credsStore": "desktop"}`)
	if err := SaveLogin("r.example", "u", "p"); err == nil || !strings.Contains(err.Error(), "docker-credential-desktop") {
		t.Errorf("a credential helper: %v", err)
	}
	// An empty file is an empty config, as for docker.
	path = dockerConfig(t, "\n")
	if err := SaveLogin(DefaultServer, "u", "p"); err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(path); !strings.Contains(string(data), `"https://index.docker.io/v1/": {`) {
		t.Errorf("config.json:\n%s", data)
	}
}

// Push and pull take the stored credentials (authn.DefaultKeychain reads
// the same file); without them the registry's refusal is one line.
func TestPushPullWithStoredCredentials(t *testing.T) {
	s, _ := newStore(t)
	dockerConfig(t, "")
	reg := imagetest.RegistryWithAuth(t, "alice", "s3cret")
	src := imagetest.Registry(t)
	imagetest.Push(t, src+"/app:v1", imagetest.App(t, "1"))
	pull(t, s, src+"/app:v1")
	if err := s.Tag(src+"/app:v1", reg+"/app:v1"); err != nil {
		t.Fatal(err)
	}
	_, err := s.Push(context.Background(), reg+"/app:v1")
	if err == nil || !strings.Contains(err.Error(), "401") || !strings.Contains(err.Error(), "mydocker login "+reg) || strings.Contains(err.Error(), "\n") {
		t.Fatalf("push without login: %v", err)
	}
	if err := SaveLogin(reg, "alice", "s3cret"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Push(context.Background(), reg+"/app:v1"); err != nil {
		t.Fatal(err)
	}
	s2, _ := newStore(t)
	pull(t, s2, reg+"/app:v1")
	Logout(reg)
	s3, _ := newStore(t)
	if _, _, err := s3.Pull(context.Background(), reg+"/app:v1"); err == nil || !strings.Contains(err.Error(), "401") {
		t.Errorf("pull after logout: %v", err)
	}
}
