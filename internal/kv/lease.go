package kv

import (
	"context"
	"fmt"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// KeepAlive keeps lease alive until ctx ends. The channel it returns is
// closed when the lease is lost: etcd says it expired or was revoked, or
// etcd has not answered a keep-alive for the lease's TTL (so, as far as
// this host can tell, etcd has let it expire): the holder then stops
// using what it bound to the lease (a subnet another host may lease
// now). It is closed too once ctx ends. A lease that is gone already is
// ErrLeaseGone at once.
func (c *Client) KeepAlive(ctx context.Context, lease LeaseID) (lost <-chan struct{}, err error) {
	qctx, cancel := context.WithTimeout(ctx, opTimeout)
	ttl, err := c.cli.TimeToLive(qctx, clientv3.LeaseID(lease))
	cancel()
	if err != nil {
		return nil, fmt.Errorf("etcd lease timetolive %s: %w", lease, err)
	}
	if ttl.TTL <= 0 {
		return nil, fmt.Errorf("etcd lease keep-alive: %w: %s", ErrLeaseGone, lease)
	}
	// The client sends a keep-alive every TTL/3 and closes this channel
	// when etcd answers with TTL 0 (gone) or when no answer came for a
	// whole TTL: both are a lost lease.
	ch, err := c.cli.KeepAlive(ctx, clientv3.LeaseID(lease))
	if err != nil {
		return nil, fmt.Errorf("etcd lease keep-alive %s: %w", lease, err)
	}
	out := make(chan struct{})
	go func() {
		defer close(out)
		for range ch { // each renewal; nothing to do but drain
		}
	}()
	return out, nil
}

// LeaseOf is the lease key is bound to (0: none), for a holder that
// restarts and finds its key: is it still bound to the lease it keeps
// alive?
func (c *Client) LeaseOf(ctx context.Context, key string) (lease LeaseID, found bool, err error) {
	resp, err := c.cli.Get(ctx, key)
	if err != nil {
		return 0, false, fmt.Errorf("etcd get %s: %w", key, err)
	}
	if len(resp.Kvs) == 0 {
		return 0, false, nil
	}
	return LeaseID(resp.Kvs[0].Lease), true, nil
}
