// Package etcdclient is mydocker-kv's side of internal/kv: it serves the
// wire protocol (internal/kv/wire) with etcd's official client
// (go.etcd.io/etcd/client/v3). Only cmd/mydocker-kv imports it: linking
// etcd's client (gRPC, protobuf's registry, etcd's API descriptors) costs
// every process that links it 3.8 million instructions more at start, and
// mydocker's binary is every process of a container start.
//
// What each operation does with etcd is what internal/kv did in-process
// before: the same calls, the same timeouts, the same watch resync.
package etcdclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/mydocker/mydocker/internal/kv/wire"
)

// dialTimeout bounds the dial: connecting and one round trip.
const dialTimeout = 2 * time.Second

// opTimeout bounds a keep-alive's first look at its lease.
const opTimeout = 5 * time.Second

// server is one helper process: one etcd client, many calls at once.
type server struct {
	cli *clientv3.Client

	wmu sync.Mutex
	enc *json.Encoder

	mu      sync.Mutex
	cancels map[uint64]context.CancelFunc
	wg      sync.WaitGroup
}

// Serve answers the requests read from in on out until in ends (mydocker
// closed it, or died): then it ends every call and stream, closes the
// connection to etcd and returns nil. The first request must be OpDial.
func Serve(in io.Reader, out io.Writer) error {
	s := &server{enc: json.NewEncoder(out), cancels: map[uint64]context.CancelFunc{}}
	dec := json.NewDecoder(in)
	var first wire.Request
	if err := dec.Decode(&first); err != nil {
		if errors.Is(err, io.EOF) {
			return nil
		}
		return fmt.Errorf("reading the dial request: %w", err)
	}
	if first.Op != wire.OpDial {
		s.send(wire.Response{ID: first.ID, End: true, Err: "the first request must be " + wire.OpDial})
		return fmt.Errorf("first request %q, not %s", first.Op, wire.OpDial)
	}
	cli, err := dial(first.Endpoints)
	if err != nil {
		s.fail(first.ID, err)
		return nil
	}
	s.cli = cli
	s.send(wire.Response{ID: first.ID, End: true})

	ctx, stop := context.WithCancel(context.Background())
	defer func() {
		stop()
		s.wg.Wait()
		cli.Close()
	}()
	for {
		var r wire.Request
		if err := dec.Decode(&r); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("reading a request: %w", err)
		}
		if r.Op == wire.OpCancel {
			s.mu.Lock()
			if cancel, ok := s.cancels[r.Cancel]; ok {
				cancel()
			}
			s.mu.Unlock()
			continue
		}
		var rctx context.Context
		var cancel context.CancelFunc
		if r.TimeoutMS > 0 {
			rctx, cancel = context.WithTimeout(ctx, time.Duration(r.TimeoutMS)*time.Millisecond)
		} else {
			rctx, cancel = context.WithCancel(ctx)
		}
		s.mu.Lock()
		s.cancels[r.ID] = cancel
		s.mu.Unlock()
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer func() {
				s.mu.Lock()
				delete(s.cancels, r.ID)
				s.mu.Unlock()
				cancel()
			}()
			s.handle(rctx, r)
		}()
	}
}

// dial connects to etcd and makes one linearizable read, so a dead or
// leaderless etcd is one error line within 2 s:
// "etcd at http://10.99.0.2:2379 is unreachable: context deadline exceeded".
func dial(endpoints []string) (*clientv3.Client, error) {
	at := strings.Join(endpoints, ",")
	cli, err := clientv3.New(clientv3.Config{
		Endpoints:   endpoints,
		DialTimeout: dialTimeout,
		// The client's own log would interleave with mydocker's
		// narration; every failure comes back as an error instead.
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
	if _, err := cli.Get(ctx, "/mydocker/", clientv3.WithCountOnly()); err != nil {
		cli.Close()
		if ctx.Err() != nil {
			err = ctx.Err() // gRPC's "rpc error: code = ..." says no more
		}
		return nil, fmt.Errorf("etcd at %s is unreachable: %w", at, err)
	}
	return cli, nil
}

// send writes one response line; a write that fails (mydocker is gone) is
// noticed by the read of stdin ending.
func (s *server) send(r wire.Response) bool {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	return s.enc.Encode(r) == nil
}

// fail answers id with err, coded for errors.Is on mydocker's side.
func (s *server) fail(id uint64, err error) {
	r := wire.Response{ID: id, End: true, Err: err.Error()}
	switch {
	case errors.Is(err, rpctypes.ErrLeaseNotFound):
		r.Code = wire.CodeLeaseNotFound
	case errors.Is(err, context.DeadlineExceeded):
		r.Code = wire.CodeDeadline
	case errors.Is(err, context.Canceled):
		r.Code = wire.CodeCanceled
	}
	s.send(r)
}

// done answers id: r, or the error.
func (s *server) done(r wire.Response, err error) {
	if err != nil {
		s.fail(r.ID, err)
		return
	}
	r.End = true
	s.send(r)
}

func leaseOpts(lease int64) []clientv3.OpOption {
	if lease == 0 {
		return nil
	}
	return []clientv3.OpOption{clientv3.WithLease(clientv3.LeaseID(lease))}
}

func (s *server) handle(ctx context.Context, r wire.Request) {
	out := wire.Response{ID: r.ID}
	switch r.Op {
	case wire.OpGet:
		resp, err := s.cli.Get(ctx, r.Key)
		if err == nil {
			out.Rev = resp.Header.Revision
			if len(resp.Kvs) > 0 {
				out.Value, out.Found = resp.Kvs[0].Value, true
			}
		}
		s.done(out, err)
	case wire.OpList:
		resp, err := s.cli.Get(ctx, r.Key, clientv3.WithPrefix())
		if err == nil {
			out.Rev = resp.Header.Revision
			out.KVs = make(map[string][]byte, len(resp.Kvs))
			for _, kv := range resp.Kvs {
				out.KVs[string(kv.Key)] = kv.Value
			}
		}
		s.done(out, err)
	case wire.OpLeaseOf:
		resp, err := s.cli.Get(ctx, r.Key)
		if err == nil && len(resp.Kvs) > 0 {
			out.Lease, out.Found = resp.Kvs[0].Lease, true
		}
		s.done(out, err)
	case wire.OpPut:
		_, err := s.cli.Put(ctx, r.Key, string(r.Value), leaseOpts(r.Lease)...)
		s.done(out, err)
	case wire.OpDelete:
		var opts []clientv3.OpOption
		if r.Prefix {
			opts = append(opts, clientv3.WithPrefix())
		}
		_, err := s.cli.Delete(ctx, r.Key, opts...)
		s.done(out, err)
	case wire.OpGrant:
		resp, err := s.cli.Grant(ctx, r.TTL)
		if err == nil {
			out.Lease = int64(resp.ID)
		}
		s.done(out, err)
	case wire.OpRevoke:
		_, err := s.cli.Revoke(ctx, clientv3.LeaseID(r.Lease))
		s.done(out, err)
	case wire.OpTxn:
		s.done(s.txn(ctx, r))
	case wire.OpKeepAlive:
		s.keepAlive(ctx, r)
	case wire.OpWatch:
		s.watch(ctx, r)
	default:
		s.done(out, fmt.Errorf("mydocker-kv: unknown operation %q", r.Op))
	}
}

// txn puts every key of r.Puts only if none of them exists; when one does,
// the answer is CodeExists with the first such key.
func (s *server) txn(ctx context.Context, r wire.Request) (wire.Response, error) {
	out := wire.Response{ID: r.ID}
	cmps := make([]clientv3.Cmp, len(r.Puts))
	puts := make([]clientv3.Op, len(r.Puts))
	gets := make([]clientv3.Op, len(r.Puts)) // on failure: which exists
	for i, p := range r.Puts {
		cmps[i] = clientv3.Compare(clientv3.Version(p.Key), "=", 0)
		puts[i] = clientv3.OpPut(p.Key, string(p.Value), leaseOpts(p.Lease)...)
		gets[i] = clientv3.OpGet(p.Key, clientv3.WithCountOnly())
	}
	resp, err := s.cli.Txn(ctx).If(cmps...).Then(puts...).Else(gets...).Commit()
	if err != nil || resp.Succeeded {
		return out, err
	}
	out.Code, out.Err = wire.CodeExists, "key exists"
	for i, g := range resp.Responses {
		if rr := g.GetResponseRange(); rr != nil && rr.Count > 0 {
			out.Key = r.Puts[i].Key
			break
		}
	}
	out.End = true
	return out, nil
}

// keepAlive answers once the lease is kept alive, and ends when it is lost
// (etcd says it expired or was revoked, or has not answered for its TTL)
// or the request is cancelled.
func (s *server) keepAlive(ctx context.Context, r wire.Request) {
	qctx, cancel := context.WithTimeout(ctx, opTimeout)
	ttl, err := s.cli.TimeToLive(qctx, clientv3.LeaseID(r.Lease))
	cancel()
	if err != nil {
		s.fail(r.ID, err)
		return
	}
	if ttl.TTL <= 0 {
		s.fail(r.ID, rpctypes.ErrLeaseNotFound)
		return
	}
	// The client sends a keep-alive every TTL/3 and closes this channel
	// when etcd answers with TTL 0 (gone) or when no answer came for a
	// whole TTL: both are a lost lease.
	ch, err := s.cli.KeepAlive(ctx, clientv3.LeaseID(r.Lease))
	if err != nil {
		s.fail(r.ID, err)
		return
	}
	s.send(wire.Response{ID: r.ID})
	for range ch { // each renewal; nothing to do but drain
	}
	s.send(wire.Response{ID: r.ID, End: true})
}
