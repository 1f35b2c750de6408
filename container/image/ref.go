package image

import (
	"fmt"
	"os"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
)

// InsecureEnv lists registries (HOST[:PORT], comma-separated) spoken to in
// plain http, besides loopback and private addresses.
const InsecureEnv = "MYDOCKER_INSECURE_REGISTRIES"

// ParseReference parses [HOST[:PORT]/]NAME[:TAG|@DIGEST] with docker's
// defaults (docker.io, library/, :latest).
func ParseReference(s string) (name.Reference, error) {
	ref, err := name.ParseReference(s)
	if err != nil {
		return nil, fmt.Errorf("invalid reference %q: %w", s, err)
	}
	if insecure(ref.Context().RegistryStr()) {
		if ref, err = name.ParseReference(s, name.Insecure); err != nil {
			return nil, fmt.Errorf("invalid reference %q: %w", s, err)
		}
	}
	return ref, nil
}

func insecure(registry string) bool {
	for _, h := range strings.Split(os.Getenv(InsecureEnv), ",") {
		if h = strings.TrimSpace(h); h != "" && h == registry {
			return true
		}
	}
	return false
}

// Familiar is a repository as docker shows it: "alpine" for
// index.docker.io/library/alpine, "user/app" for index.docker.io/user/app.
func Familiar(repo name.Repository) string {
	n := repo.Name()
	if repo.RegistryStr() == name.DefaultRegistry {
		n = strings.TrimPrefix(strings.TrimPrefix(n, name.DefaultRegistry+"/"), "library/")
	}
	return n
}

// familiarRef is a tag or digest reference as docker shows it.
func familiarRef(ref name.Reference) string {
	sep := ":"
	if _, ok := ref.(name.Digest); ok {
		sep = "@"
	}
	return Familiar(ref.Context()) + sep + ref.Identifier()
}

// FamiliarString is a full reference as docker shows it
// ("alpine@sha256:..." for index.docker.io/library/alpine@sha256:...).
func FamiliarString(s string) string {
	ref, err := name.ParseReference(s)
	if err != nil {
		return s
	}
	return familiarRef(ref)
}
