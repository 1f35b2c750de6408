package kv

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// ParseEndpoints reads --kv's value: etcd client URLs separated by commas
// (http://10.99.0.2:2379,http://10.99.0.3:2379), as etcdctl's --endpoints
// takes them. A URL without a scheme or a port is refused in one line
// rather than dialled for 2 s: etcd has no default port a user could
// count on mydocker guessing.
func ParseEndpoints(s string) ([]string, error) {
	var out []string
	for _, e := range strings.Split(s, ",") {
		e = strings.TrimSpace(e)
		if e == "" {
			continue
		}
		if err := checkEndpoint(e); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no etcd endpoint in %q (want http://HOST:PORT[,...])", s)
	}
	return out, nil
}

// checkEndpoint accepts http:// and https:// URLs with a host and a port,
// and nothing after them.
func checkEndpoint(e string) error {
	bad := func(why string) error {
		return fmt.Errorf("%q is not an etcd client URL (want http://HOST:PORT): %s", e, why)
	}
	if !strings.HasPrefix(e, "http://") && !strings.HasPrefix(e, "https://") {
		return bad("no http:// or https://")
	}
	u, err := url.Parse(e)
	if err != nil {
		return bad("it does not parse")
	}
	host, port, err := net.SplitHostPort(u.Host)
	if err != nil || host == "" || port == "" {
		return bad("no host:port")
	}
	if (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
		return bad("more than a host and a port")
	}
	return nil
}
