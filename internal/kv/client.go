package kv

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// dialTimeout bounds Dial: connecting and one round trip.
const dialTimeout = 2 * time.Second

// opTimeout bounds each change (a put, a txn, a lease grant): longer than
// a leader election (etcd's default election timeout is 1 s), short
// enough that a command on a dead etcd fails rather than hangs.
const opTimeout = 5 * time.Second

// Client is a connection to etcd.
type Client struct {
	cli       *clientv3.Client
	endpoints []string
}

// Dial connects to etcd at endpoints (URLs such as http://10.99.0.2:2379)
// and makes one linearizable read, so a dead or leaderless etcd is one
// error line within 2 s, not a hang at the first use:
// "etcd at http://10.99.0.2:2379 is unreachable: context deadline exceeded".
func Dial(endpoints []string) (*Client, error) {
	if len(endpoints) == 0 {
		return nil, errors.New("no etcd endpoint given (--kv URL)")
	}
	for _, e := range endpoints {
		if err := checkEndpoint(e); err != nil {
			return nil, err
		}
	}
	at := strings.Join(endpoints, ",")
	cli, err := clientv3.New(clientv3.Config{
		Endpoints:   endpoints,
		DialTimeout: dialTimeout,
		// The client's own log would interleave with the narration;
		// every failure comes back as an error instead.
		Logger: zap.NewNop(),
		// A keepalive ping notices a dead etcd between requests (a
		// watcher waiting on a watch).
		DialKeepAliveTime:    5 * time.Second,
		DialKeepAliveTimeout: 2 * time.Second,
	})
	if err != nil {
		return nil, fmt.Errorf("etcd at %s is unreachable: %w", at, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), dialTimeout)
	defer cancel()
	// Count only: the round trip, not the data.
	if _, err := cli.Get(ctx, Prefix, clientv3.WithCountOnly()); err != nil {
		cli.Close()
		if ctx.Err() != nil {
			err = ctx.Err() // gRPC's "rpc error: code = ..." says no more
		}
		return nil, fmt.Errorf("etcd at %s is unreachable: %w", at, err)
	}
	return &Client{cli: cli, endpoints: append([]string(nil), endpoints...)}, nil
}

// Prefix is where all of mydocker's keys live; the version in it lets a
// later layout live beside this one. The layout is API (doc/overlay.md).
const Prefix = "/mydocker/v1/"

// Close ends the connection (and with it every watch and keep-alive).
func (c *Client) Close() error { return c.cli.Close() }

// Endpoints are the URLs the client was dialled with.
func (c *Client) Endpoints() []string { return append([]string(nil), c.endpoints...) }

// Get reads one key: its value and the store's revision at the read.
func (c *Client) Get(ctx context.Context, key string) (value []byte, rev int64, found bool, err error) {
	resp, err := c.cli.Get(ctx, key)
	if err != nil {
		return nil, 0, false, fmt.Errorf("etcd get %s: %w", key, err)
	}
	if len(resp.Kvs) == 0 {
		return nil, resp.Header.Revision, false, nil
	}
	return resp.Kvs[0].Value, resp.Header.Revision, true, nil
}

// List reads every key under prefix, and the revision of that snapshot: a
// Watch from it misses nothing and repeats nothing.
func (c *Client) List(ctx context.Context, prefix string) (kvs map[string][]byte, rev int64, err error) {
	resp, err := c.cli.Get(ctx, prefix, clientv3.WithPrefix())
	if err != nil {
		return nil, 0, fmt.Errorf("etcd get --prefix %s: %w", prefix, err)
	}
	kvs = make(map[string][]byte, len(resp.Kvs))
	for _, kv := range resp.Kvs {
		kvs[string(kv.Key)] = kv.Value
	}
	return kvs, resp.Header.Revision, nil
}
