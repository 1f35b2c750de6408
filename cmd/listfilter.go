package cmd

import (
	"path"
	"strings"

	"github.com/mydocker/mydocker/container/image"
	"github.com/mydocker/mydocker/network"
)

// --filter on images and network ls, as docker's: KEY=VALUE, an item must
// match every key given, and any of a key's values.

// parseKeyFilters reads --filter values whose keys must be in keys.
func parseKeyFilters(specs []string, keys ...string) (map[string][]string, error) {
	f := map[string][]string{}
	for _, s := range specs {
		k, v, ok := strings.Cut(s, "=")
		known := false
		for _, key := range keys {
			known = known || k == key
		}
		if !ok || !known {
			return nil, Usagef("invalid filter %q: KEY=VALUE with KEY one of %s", s, strings.Join(keys, ", "))
		}
		f[k] = append(f[k], v)
	}
	return f, nil
}

// matchAll reports whether every key of f has a value that match accepts.
func matchAll(f map[string][]string, match func(key, value string) bool) bool {
	for k, values := range f {
		ok := false
		for _, v := range values {
			ok = ok || match(k, v)
		}
		if !ok {
			return false
		}
	}
	return true
}

// imageMatches is images --filter: dangling=true|false (an image no tag
// names), reference=PATTERN (a glob over REPOSITORY or REPOSITORY:TAG).
func imageMatches(r image.Row, key, v string) bool {
	switch key {
	case "dangling":
		return (r.Repository == "<none>") == (v == "true" || v == "1")
	case "reference":
		a, _ := path.Match(v, r.Repository)
		b, _ := path.Match(v, r.Repository+":"+r.Tag)
		return a || b
	}
	return false
}

// networkMatches is network ls --filter: name (a part of it), id (a
// prefix), driver.
func networkMatches(n *network.Network, key, v string) bool {
	switch key {
	case "name":
		return strings.Contains(n.Name, v)
	case "id":
		return strings.HasPrefix(n.ID(), v)
	case "driver":
		return n.Driver == v
	}
	return false
}
