package image

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/remote/transport"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/mydocker/mydocker/internal/kernel"
)

// Timeouts bound a registry that does not answer: connecting, waiting for
// a response's headers, and any read or write that makes no progress.
// Variables, so tests can shorten them.
var (
	DialTimeout     = 10 * time.Second
	ResponseTimeout = 60 * time.Second
)

// remoteOptions are the library's options: docker's credentials
// (~/.docker/config.json, anonymous otherwise), bounded timeouts, one
// retry.
func remoteOptions(ctx context.Context) []remote.Option {
	return []remote.Option{
		remote.WithContext(ctx),
		remote.WithAuthFromKeychain(authn.DefaultKeychain),
		remote.WithTransport(baseTransport()),
		remote.WithRetryBackoff(remote.Backoff{Duration: 500 * time.Millisecond, Factor: 2, Steps: 2}),
		remote.WithPlatform(v1.Platform{OS: "linux", Architecture: runtime.GOARCH}),
		remote.WithUserAgent("mydocker"),
	}
}

// baseTransport is http's default with bounded timeouts: connecting, the
// response's headers, and every read and write after them (idleConn).
func baseTransport() *http.Transport {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	dial := (&net.Dialer{Timeout: DialTimeout}).DialContext
	idle := ResponseTimeout
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return idleConn{Conn: c, idle: idle}, nil
	}
	tr.ResponseHeaderTimeout = ResponseTimeout
	tr.TLSHandshakeTimeout = DialTimeout
	return tr
}

// idleConn fails a read or write that makes no progress for idle: a
// registry that stops sending half way through a blob (or stops taking an
// upload) is then a registry that does not answer, not a pull that hangs.
// A transfer that keeps moving, however slowly, is never cut.
type idleConn struct {
	net.Conn
	idle time.Duration
}

func (c idleConn) Read(b []byte) (int, error) {
	c.Conn.SetReadDeadline(time.Now().Add(c.idle))
	return c.Conn.Read(b)
}

func (c idleConn) Write(b []byte) (int, error) {
	c.Conn.SetWriteDeadline(time.Now().Add(c.idle))
	return c.Conn.Write(b)
}

// registrySource narrates blobs fetched from a repository; the manifest is
// fetched into the file manifest.
type registrySource struct {
	repo     name.Repository
	manifest string
}

func (r registrySource) url(kind, id string) string {
	return fmt.Sprintf("%s://%s/v2/%s/%s/%s", r.repo.Scheme(), r.repo.RegistryStr(), r.repo.RepositoryStr(), kind, id)
}
func (r registrySource) fetch(d v1.Hash, tmp string) kernel.Command {
	return kernel.Command{Argv: []string{"curl", "-fsSL", "-o", tmp, r.url("blobs", d.String())}}
}
func (r registrySource) from() string  { return "from " + Familiar(r.repo) }
func (r registrySource) saved() string { return r.manifest }

// manifestOp asks the registry for a manifest (or an index) and keeps the
// answer in Out.
type manifestOp struct {
	Src    registrySource
	Ref    name.Reference
	Opts   []remote.Option
	Reason string
	Out    **remote.Descriptor
}

var manifestTypes = []types.MediaType{types.OCIImageIndex, types.DockerManifestList, types.OCIManifestSchema1, types.DockerManifestSchema2}

func (m manifestOp) Why() string { return m.Reason }

// ErrorPrefix: the library's error names the request that failed, and the
// caller the image ("pull REF: ...").
func (m manifestOp) ErrorPrefix() string { return "" }
func (m manifestOp) Command() kernel.Command {
	var accept []string
	for _, t := range manifestTypes {
		accept = append(accept, string(t))
	}
	return kernel.Command{Argv: []string{"curl", "-fsSL", "-H", "Accept: " + strings.Join(accept, ", "), "-o", m.Src.manifest,
		m.Src.url("manifests", m.Ref.Identifier())}}
}
func (m manifestOp) Apply(*kernel.Exec) error {
	d, err := remote.Get(m.Ref, m.Opts...)
	if err != nil {
		return registryError(err)
	}
	*m.Out = d
	if err := os.MkdirAll(filepath.Dir(m.Src.manifest), 0o700); err != nil {
		return err
	}
	return os.WriteFile(m.Src.manifest, d.Manifest, 0o644)
}

// registryError makes the library's error one line: the registry's own
// message for an HTTP error (a 404 names the manifest unknown).
func registryError(err error) error {
	var te *transport.Error
	if errors.As(err, &te) {
		msgs := []string{}
		for _, d := range te.Errors {
			msgs = append(msgs, d.String())
		}
		if len(msgs) == 0 {
			msgs = append(msgs, http.StatusText(te.StatusCode))
		}
		hint := ""
		if te.StatusCode == http.StatusUnauthorized && te.Request != nil {
			// Anonymous, or credentials it no longer takes.
			hint = " (log in first: mydocker login " + te.Request.URL.Host + ")"
		}
		return fmt.Errorf("the registry answered %d: %s%s", te.StatusCode, strings.Join(msgs, "; "), hint)
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return fmt.Errorf("the registry did not answer in time: %w", err)
	}
	return err
}

// Pull fetches an image from its registry into the store, walking from the
// manifest (through an index, to this platform's) to the config and the
// layers; it returns the record and the reference as given.
func (s *Store) Pull(ctx context.Context, ref string) (*Record, name.Reference, error) {
	r, err := ParseReference(ref)
	if err != nil {
		return nil, nil, err
	}
	// The manifest's temp file, named by this pid as every temp file of
	// the store (removeDeadTemps); it is moved into place as a blob.
	src := registrySource{repo: r.Context(),
		manifest: filepath.Join(s.Root, "blobs", "sha256", fmt.Sprintf(".tmp-%d-%d-manifest", os.Getpid(), blobSeq.Add(1)))}
	defer os.Remove(src.manifest) // when the blob was there already
	opts := remoteOptions(ctx)
	var desc *remote.Descriptor
	if err := s.K.Do(manifestOp{Src: src, Ref: r, Opts: opts, Out: &desc,
		Reason: "ask the registry " + r.Context().RegistryStr() + " for " + familiarRef(r) + "'s manifest (an index of platforms, or an image's manifest)"}); err != nil {
		return nil, nil, fmt.Errorf("pull %s: %w", ref, err)
	}
	if desc.MediaType.IsIndex() {
		idx, err := desc.ImageIndex()
		if err != nil {
			return nil, nil, fmt.Errorf("pull %s: %w", ref, err)
		}
		im, err := idx.IndexManifest()
		if err != nil {
			return nil, nil, fmt.Errorf("pull %s: %w", ref, err)
		}
		var pick *v1.Descriptor
		for i, m := range im.Manifests {
			if m.Platform != nil && m.Platform.OS == "linux" && m.Platform.Architecture == runtime.GOARCH {
				pick = &im.Manifests[i]
				break
			}
		}
		if pick == nil {
			return nil, nil, fmt.Errorf("pull %s: the index has no image for linux/%s", ref, runtime.GOARCH)
		}
		d := r.Context().Digest(pick.Digest.String())
		if err := s.K.Do(manifestOp{Src: src, Ref: d, Opts: opts, Out: &desc,
			Reason: "an index: ask for the manifest of its linux/" + runtime.GOARCH + " image, by digest"}); err != nil {
			return nil, nil, fmt.Errorf("pull %s: %w", ref, err)
		}
	}
	img, err := desc.Image()
	if err != nil {
		return nil, nil, fmt.Errorf("pull %s: %w", ref, registryError(err))
	}
	var tags []name.Tag
	if t, ok := r.(name.Tag); ok {
		tags = append(tags, t)
	}
	repo := r.Context()
	rec, err := s.put(img, src, tags, &repo)
	if err != nil {
		return nil, nil, fmt.Errorf("pull %s: %w", ref, registryError(err))
	}
	return rec, r, nil
}

// Push sends an image the store holds to the registry its tag names. It
// returns the digest the registry knows it by.
func (s *Store) Push(ctx context.Context, ref string) (string, error) {
	im, err := s.Lookup(ref)
	if err != nil {
		return "", err
	}
	r, err := ParseReference(ref)
	if err != nil {
		return "", err
	}
	img, err := s.image(im.Record)
	if err != nil {
		return "", err
	}
	src := registrySource{repo: r.Context()}
	s.K.Log().Infof("Push %s: its layers (the registry is asked first whether it has each), its config, then its manifest as %s", familiarRef(r), src.url("manifests", r.Identifier()))
	if err := remote.Write(r, img, remoteOptions(ctx)...); err != nil {
		return "", fmt.Errorf("push %s: %w", ref, registryError(err))
	}
	unlock, err := s.lock()
	if err != nil {
		return "", err
	}
	defer unlock()
	// The registry now knows it by its manifest's digest: record it, as
	// docker does, for `images --digests` and pulls by digest.
	id, _ := v1.NewHash(im.ID)
	rec, err := s.readRecord(id)
	if err != nil {
		return "", err
	}
	if rd := r.Context().Digest(rec.Manifest).Name(); !contains(rec.RepoDigests, rd) {
		rec.RepoDigests = append(rec.RepoDigests, rd)
		if err := s.K.Do(kernel.WriteState{Path: s.recordPath(id), Value: rec}); err != nil {
			return "", err
		}
	}
	return rec.Manifest, nil
}
