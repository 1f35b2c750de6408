package image

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"golang.org/x/sys/unix"
)

// Credentials live where docker keeps them, in docker's format, so that
// `docker login` and `mydocker login` share them and pull/push (through
// authn.DefaultKeychain, which reads this file) use them:
//
//	$DOCKER_CONFIG/config.json, or ~/.docker/config.json
//	{"auths": {"https://index.docker.io/v1/": {"auth": base64("user:password")},
//	           "registry.example:5000": {"auth": "..."}}, ...other keys kept...}
//
// The file's other keys (and other servers' entries) are kept as they are;
// it is replaced atomically (temp file, fsync, rename) with mode 0600, its
// owner kept. Credential helpers (credsStore, credHelpers) are not spoken
// to: a server they hold is refused, not written where no one reads it.

// DefaultServer is docker's key for Docker Hub in config.json.
const DefaultServer = authn.DefaultAuthKey

// ErrUnauthorized is wrapped by Login's error when the registry refuses the
// credentials.
var ErrUnauthorized = errors.New("wrong username or password")

// ConfigPath is the docker config file credentials are kept in.
func ConfigPath() (string, error) {
	dir := os.Getenv("DOCKER_CONFIG")
	if dir == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("no docker config directory: set $DOCKER_CONFIG or $HOME: %w", err)
		}
		dir = filepath.Join(home, ".docker")
	}
	return filepath.Join(dir, "config.json"), nil
}

// ServerKey is the key a server's credentials are stored under: docker's
// https://index.docker.io/v1/ for Docker Hub (an empty server, docker.io and
// its other names), else the server's host[:port] (a URL's scheme and path
// dropped, as docker's ConvertToHostname does).
func ServerKey(server string) string {
	host := server
	if strings.Contains(host, "://") {
		if u, err := url.Parse(host); err == nil && u.Host != "" {
			host = u.Host
		}
	} else {
		host, _, _ = strings.Cut(host, "/")
	}
	switch host {
	case "", "docker.io", name.DefaultRegistry, "registry-1.docker.io":
		return DefaultServer
	}
	return host
}

// registryOf is the registry a key names (Docker Hub's for its URL key),
// spoken to in plain http as references are (ParseReference).
func registryOf(key string) (name.Registry, error) {
	host := key
	if key == DefaultServer {
		host = name.DefaultRegistry
	}
	var opts []name.Option
	if insecure(host) {
		opts = append(opts, name.Insecure)
	}
	reg, err := name.NewRegistry(host, opts...)
	if err != nil {
		return name.Registry{}, fmt.Errorf("invalid registry %q: %w", host, err)
	}
	return reg, nil
}

// CheckLogin asks the registry whether it takes user and password: the
// library pings it, exchanges the credentials for a token where it uses
// token auth (a wrong password fails there), then GETs /v2/ with them (where
// a registry of basic auth checks them). It returns the key to store them
// under.
func CheckLogin(ctx context.Context, server, user, password string) (string, error) {
	key := ServerKey(server)
	reg, err := registryOf(key)
	if err != nil {
		return "", err
	}
	auth := authn.FromConfig(authn.AuthConfig{Username: user, Password: password})
	tr, err := transport.NewWithContext(ctx, reg, auth, baseTransport(), nil)
	if err != nil {
		return "", loginError(reg, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, fmt.Sprintf("%s://%s/v2/", reg.Scheme(), reg.RegistryStr()), nil)
	if err != nil {
		return "", err
	}
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		return "", loginError(reg, err)
	}
	defer resp.Body.Close()
	if err := transport.CheckError(resp, http.StatusOK); err != nil {
		return "", loginError(reg, err)
	}
	return key, nil
}

func loginError(reg name.Registry, err error) error {
	var te *transport.Error
	if errors.As(err, &te) && (te.StatusCode == http.StatusUnauthorized || te.StatusCode == http.StatusForbidden) {
		var msgs []string
		for _, d := range te.Errors {
			msgs = append(msgs, d.String())
		}
		return fmt.Errorf("login to %s: %w (the registry answered %d: %s)", reg.RegistryStr(), ErrUnauthorized, te.StatusCode, strings.Join(msgs, "; "))
	}
	return fmt.Errorf("login to %s: %w", reg.RegistryStr(), registryError(err))
}

// StoredLogin is the user and password the docker config file (or a
// credential helper it names) holds for server, if any: what a login
// without -u and -p tries first, as docker's does.
func StoredLogin(server string) (user, password string, ok bool) {
	reg, err := registryOf(ServerKey(server))
	if err != nil {
		return "", "", false
	}
	a, err := authn.DefaultKeychain.Resolve(reg)
	if err != nil {
		return "", "", false
	}
	cfg, err := a.Authorization()
	if err != nil || cfg.Username == "" || cfg.Password == "" {
		return "", "", false
	}
	return cfg.Username, cfg.Password, true
}

// SaveLogin stores user and password under key in the docker config file.
func SaveLogin(key, user, password string) error {
	entry, _ := json.Marshal(map[string]string{"auth": base64.StdEncoding.EncodeToString([]byte(user + ":" + password))})
	_, err := editAuths(key, func(auths map[string]json.RawMessage) bool {
		auths[key] = entry
		return true
	})
	return err
}

// Logout removes the credentials of server (every key docker may have
// stored them under). It returns the name docker shows for the server and
// whether there were any.
func Logout(server string) (shown string, removed bool, err error) {
	key := ServerKey(server)
	keys := []string{key}
	if key != DefaultServer {
		keys = append(keys, server, "http://"+key, "https://"+key)
	}
	removed, err = editAuths(key, func(auths map[string]json.RawMessage) bool {
		found := false
		for _, k := range keys {
			if _, ok := auths[k]; ok {
				delete(auths, k)
				found = true
			}
		}
		return found
	})
	return key, removed, err
}

// editAuths reads the config file, lets edit change its "auths" (it says
// whether it did), and writes the file back if so, all under a flock of its
// directory (against another mydocker login; docker itself takes none).
func editAuths(key string, edit func(map[string]json.RawMessage) bool) (bool, error) {
	path, err := ConfigPath()
	if err != nil {
		return false, err
	}
	// Write through a symlink (a dotfiles manager's), as docker does.
	if p, err := filepath.EvalSymlinks(path); err == nil {
		path = p
	}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return false, fmt.Errorf("create %s: %w", dir, err)
	}
	d, err := os.Open(dir)
	if err != nil {
		return false, err
	}
	defer d.Close()
	if err := unix.Flock(int(d.Fd()), unix.LOCK_EX); err != nil {
		return false, fmt.Errorf("lock %s: %w", dir, err)
	}

	top := map[string]json.RawMessage{}
	data, err := os.ReadFile(path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return false, fmt.Errorf("read %s: %w", path, err)
	}
	if len(strings.TrimSpace(string(data))) > 0 {
		if err := json.Unmarshal(data, &top); err != nil {
			return false, fmt.Errorf("%s is not docker's config file: %w", path, err)
		}
	}
	if helper := credHelper(top, key); helper != "" {
		return false, fmt.Errorf("%s has credentials for %s kept by docker-credential-%s (a credential helper), which mydocker does not use: log in with docker, or remove it from the file", path, key, helper)
	}
	auths := map[string]json.RawMessage{}
	if raw, ok := top["auths"]; ok && string(raw) != "null" {
		if err := json.Unmarshal(raw, &auths); err != nil {
			return false, fmt.Errorf("%s: its \"auths\" is not a map of servers: %w", path, err)
		}
	}
	if !edit(auths) {
		return false, nil
	}
	raw, err := json.Marshal(auths)
	if err != nil {
		return false, err
	}
	top["auths"] = raw
	out, err := json.MarshalIndent(top, "", "\t")
	if err != nil {
		return false, err
	}
	return true, writeAtomic(path, append(out, '\n'))
}

// credHelper names the credential helper config.json gives key, if any.
func credHelper(top map[string]json.RawMessage, key string) string {
	var helpers map[string]string
	if json.Unmarshal(top["credHelpers"], &helpers) == nil && helpers[key] != "" {
		return helpers[key]
	}
	var store string
	json.Unmarshal(top["credsStore"], &store)
	return store
}

// writeAtomic replaces path with data, mode 0600: a temp file beside it,
// fsynced, given the old file's owner, renamed over it.
func writeAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	done := false
	defer func() {
		if !done {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if fi, err := os.Stat(path); err == nil {
		if st, ok := fi.Sys().(*syscall.Stat_t); ok {
			tmp.Chown(int(st.Uid), int(st.Gid)) // best effort, as docker's
		}
	}
	if _, err := tmp.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Chmod(0o600); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("replace %s: %w", path, err)
	}
	done = true
	return nil
}
