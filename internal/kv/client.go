package kv

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mydocker/mydocker/internal/kv/wire"
)

// dialTimeout bounds Dial: connecting and one round trip (in mydocker-kv).
const dialTimeout = 2 * time.Second

// dialGrace is how much longer than dialTimeout Dial waits for
// mydocker-kv's answer (its exec and start) before it gives up on it.
const dialGrace = 500 * time.Millisecond

// opTimeout bounds each change (a put, a txn, a lease grant): longer than
// a leader election (etcd's default election timeout is 1 s), short
// enough that a command on a dead etcd fails rather than hangs.
const opTimeout = 5 * time.Second

// Client is a connection to etcd: one mydocker-kv process, which holds
// etcd's client (see the package doc for why it is not linked here).
type Client struct {
	h         *helper
	endpoints []string
}

// Dial starts mydocker-kv and has it connect to etcd at endpoints (URLs
// such as http://10.99.0.2:2379) and make one linearizable read, so a dead
// or leaderless etcd is one error line within 2 s, not a hang at the first
// use: "etcd at http://10.99.0.2:2379 is unreachable: context deadline
// exceeded". A mydocker-kv that cannot be found or started is one line
// too, naming where it was looked for.
func Dial(endpoints []string) (*Client, error) {
	if len(endpoints) == 0 {
		return nil, errors.New("no etcd endpoint given (--kv URL)")
	}
	for _, e := range endpoints {
		if err := checkEndpoint(e); err != nil {
			return nil, err
		}
	}
	path, err := helperPath()
	if err != nil {
		return nil, err
	}
	h, err := startHelper(path)
	if err != nil {
		return nil, fmt.Errorf("cannot start %s (etcd's client): %w", path, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), dialTimeout+dialGrace)
	defer cancel()
	if _, err := h.call(ctx, wire.Request{Op: wire.OpDial, Endpoints: endpoints}); err != nil {
		h.close()
		if ctx.Err() != nil {
			err = fmt.Errorf("%s did not answer within %v", HelperName, dialTimeout+dialGrace)
		}
		if !strings.HasPrefix(err.Error(), "etcd at ") {
			err = fmt.Errorf("etcd at %s is unreachable: %w", strings.Join(endpoints, ","), err)
		}
		return nil, err
	}
	return &Client{h: h, endpoints: append([]string(nil), endpoints...)}, nil
}

// Prefix is where all of mydocker's keys live; the version in it lets a
// later layout live beside this one. The layout is API (doc/overlay.md).
const Prefix = "/mydocker/v1/"

// Close ends the connection (and with it every watch and keep-alive):
// mydocker-kv exits.
func (c *Client) Close() error { return c.h.close() }

// Endpoints are the URLs the client was dialled with.
func (c *Client) Endpoints() []string { return append([]string(nil), c.endpoints...) }

// Get reads one key: its value and the store's revision at the read.
func (c *Client) Get(ctx context.Context, key string) (value []byte, rev int64, found bool, err error) {
	resp, err := c.h.call(ctx, wire.Request{Op: wire.OpGet, Key: key})
	if err != nil {
		return nil, 0, false, fmt.Errorf("etcd get %s: %w", key, err)
	}
	return resp.Value, resp.Rev, resp.Found, nil
}

// List reads every key under prefix, and the revision of that snapshot: a
// Watch from it misses nothing and repeats nothing.
func (c *Client) List(ctx context.Context, prefix string) (kvs map[string][]byte, rev int64, err error) {
	resp, err := c.h.call(ctx, wire.Request{Op: wire.OpList, Key: prefix})
	if err != nil {
		return nil, 0, fmt.Errorf("etcd get --prefix %s: %w", prefix, err)
	}
	if resp.KVs == nil {
		resp.KVs = map[string][]byte{}
	}
	return resp.KVs, resp.Rev, nil
}
