package kv

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/mydocker/mydocker/internal/kernel"
	"github.com/mydocker/mydocker/internal/testetcd"
	"github.com/mydocker/mydocker/internal/testns"
)

// The root tests run a real etcd (Debian's 3.4) on 127.0.0.1 of a network
// namespace of their own.
func TestMain(m *testing.M) { testns.Main(m) }

// loopback is where the test's etcd listens: the loopback of the test's own
// network namespace.
const loopback = "127.0.0.1"

// withEtcd starts an etcd and dials it.
func withEtcd(t *testing.T) (*testetcd.Server, *Client) {
	t.Helper()
	testns.RequireRoot(t)
	srv := testetcd.Start(t, t.TempDir(), loopback)
	c, err := Dial([]string{srv.Endpoint()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return srv, c
}

func realKernel() kernel.Kernel { return kernel.NewReal(logrus.New()) }

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

func mustGet(t *testing.T, c *Client, key string) (string, bool) {
	t.Helper()
	v, _, found, err := c.Get(ctx(t), key)
	if err != nil {
		t.Fatal(err)
	}
	return string(v), found
}

func TestDialFailsFastInOneLine(t *testing.T) {
	testns.RequireRoot(t)
	srv := testetcd.Start(t, t.TempDir(), loopback)
	srv.Stop()
	for _, url := range []string{srv.Endpoint(), "http://127.0.0.2:2379"} {
		start := time.Now()
		c, err := Dial([]string{url})
		took := time.Since(start)
		if err == nil {
			c.Close()
			t.Fatalf("Dial %s with nothing listening: no error", url)
		}
		want := "etcd at " + url + " is unreachable: context deadline exceeded"
		if err.Error() != want {
			t.Errorf("Dial %s: %q, want %q", url, err, want)
		}
		if took > 3*time.Second {
			t.Errorf("Dial %s took %v to fail, want < 3 s", url, took)
		}
	}
}

// An etcd that accepts connections but answers nothing (stopped by
// SIGSTOP, as a hung or partitioned server looks): Dial still fails in
// 2 s, in one line.
func TestDialFailsFastOnAHungEtcd(t *testing.T) {
	srv, _ := withEtcd(t)
	if err := syscall.Kill(srv.Pid(), syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	defer syscall.Kill(srv.Pid(), syscall.SIGCONT)
	start := time.Now()
	c, err := Dial([]string{srv.Endpoint()})
	took := time.Since(start)
	if err == nil {
		c.Close()
		t.Fatal("Dial of a stopped etcd: no error")
	}
	if want := "etcd at " + srv.Endpoint() + " is unreachable: context deadline exceeded"; err.Error() != want {
		t.Errorf("Dial of a stopped etcd: %q, want %q", err, want)
	}
	if took > 3*time.Second {
		t.Errorf("Dial of a stopped etcd took %v to fail, want < 3 s", took)
	}
}

func TestPutGetListDelete(t *testing.T) {
	_, c := withEtcd(t)
	k := realKernel()
	if err := k.Do(
		Put{C: c, Key: "/t/a/1", Value: []byte(`{"x":1}`)},
		Put{C: c, Key: "/t/a/2", Value: []byte("two")},
		Put{C: c, Key: "/t/b", Value: []byte("b")},
	); err != nil {
		t.Fatal(err)
	}
	if v, found := mustGet(t, c, "/t/a/1"); !found || v != `{"x":1}` {
		t.Errorf("get /t/a/1 = %q, %v", v, found)
	}
	if _, found := mustGet(t, c, "/t/none"); found {
		t.Error("get /t/none: found")
	}
	kvs, rev, err := c.List(ctx(t), "/t/a/")
	if err != nil {
		t.Fatal(err)
	}
	if len(kvs) != 2 || string(kvs["/t/a/2"]) != "two" || rev < 4 {
		t.Errorf("list /t/a/ = %q at revision %d", kvs, rev)
	}
	// del of one key, then of a prefix (twice: teardown repeats)
	if err := k.Do(Delete{C: c, Key: "/t/b"}, Delete{C: c, Key: "/t/a/", Prefix: true}, Delete{C: c, Key: "/t/a/", Prefix: true}); err != nil {
		t.Fatal(err)
	}
	if kvs, _, _ := c.List(ctx(t), "/t/"); len(kvs) != 0 {
		t.Errorf("after del: %q left", kvs)
	}
}

func TestCreateIfAbsentHasOneWinner(t *testing.T) {
	_, c := withEtcd(t)
	const racers = 8
	errs := make([]error, racers)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = realKernel().Do(CreateIfAbsent{C: c, Puts: []Put{
				{Key: "/t/networks/ov1", Value: fmt.Appendf(nil, `{"by":%d}`, i)},
				{Key: "/t/vnis/42", Value: []byte("ov1")},
			}})
		}()
	}
	close(start)
	wg.Wait()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Errorf("racers %d and %d both created the keys", winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, ErrExists):
			t.Errorf("racer %d: %v, want ErrExists", i, err)
		case !strings.Contains(err.Error(), "key exists: /t/networks/ov1"):
			t.Errorf("racer %d: %q does not name the key", i, err)
		}
	}
	if winner < 0 {
		t.Fatal("no racer created the keys")
	}
	if v, _ := mustGet(t, c, "/t/networks/ov1"); v != fmt.Sprintf(`{"by":%d}`, winner) {
		t.Errorf("/t/networks/ov1 = %s, want the winner's (%d)", v, winner)
	}
	// One key of the set existing is enough to refuse all of them.
	err := realKernel().Do(CreateIfAbsent{C: c, Puts: []Put{{Key: "/t/networks/ov2", Value: []byte("x")}, {Key: "/t/vnis/42", Value: []byte("ov2")}}})
	if !errors.Is(err, ErrExists) || !strings.Contains(err.Error(), "/t/vnis/42") {
		t.Errorf("create ov2 with ov1's vni: %v", err)
	}
	if _, found := mustGet(t, c, "/t/networks/ov2"); found {
		t.Error("ov2 was created although its vni was taken")
	}
}

// grant is a lease of ttl, bound to a new key.
func grant(t *testing.T, c *Client, ttl time.Duration, key string) LeaseID {
	t.Helper()
	var id LeaseID
	k := realKernel()
	if err := k.Do(LeaseGrant{C: c, TTL: ttl, ID: &id}); err != nil {
		t.Fatal(err)
	}
	if err := k.Do(Put{C: c, Key: key, Value: []byte("x"), Lease: id}); err != nil {
		t.Fatal(err)
	}
	return id
}

func TestLeasedKeyVanishesOnceKeepAliveStops(t *testing.T) {
	_, c := withEtcd(t)
	var id LeaseID
	k := realKernel()
	if err := k.Do(LeaseGrant{C: c, TTL: 2 * time.Second, ID: &id}); err != nil {
		t.Fatal(err)
	}
	if err := k.Do(Put{C: c, Key: "/t/subnet", Value: []byte("h1"), Lease: id}); err != nil {
		t.Fatal(err)
	}
	kctx, stop := context.WithCancel(context.Background())
	lost, err := c.KeepAlive(kctx, id)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(4 * time.Second) // twice the TTL: kept alive
	if _, found := mustGet(t, c, "/t/subnet"); !found {
		t.Fatal("the leased key vanished while its lease was kept alive")
	}
	select {
	case <-lost:
		t.Fatal("lease reported lost while kept alive")
	default:
	}
	stop()
	deadline := time.Now().Add(5 * time.Second) // TTL, and etcd's 0.5 s expiry check
	for {
		if _, found := mustGet(t, c, "/t/subnet"); !found {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the leased key is still there 5 s after its keep-alive stopped (TTL 2 s)")
		}
		time.Sleep(100 * time.Millisecond)
	}
	if _, err := c.KeepAlive(context.Background(), id); !errors.Is(err, ErrLeaseGone) {
		t.Errorf("keep-alive of an expired lease: %v, want ErrLeaseGone", err)
	}
	// Nothing more can be bound to it.
	if err := k.Do(Put{C: c, Key: "/t/subnet", Value: []byte("h1"), Lease: id}); !errors.Is(err, ErrLeaseGone) {
		t.Errorf("put bound to an expired lease: %v, want ErrLeaseGone", err)
	}
	err = k.Do(CreateIfAbsent{C: c, Puts: []Put{{Key: "/t/subnet", Value: []byte("h1"), Lease: id}}})
	if !errors.Is(err, ErrLeaseGone) || strings.Contains(err.Error(), "\n") {
		t.Errorf("txn bound to an expired lease: %v, want ErrLeaseGone in one line", err)
	}
	// Revoking what expired is no error (teardown repeats).
	if err := k.Do(LeaseRevoke{C: c, ID: id}); err != nil {
		t.Errorf("revoke an expired lease: %v", err)
	}
}

func TestRevokeTakesTheLeasedKeys(t *testing.T) {
	_, c := withEtcd(t)
	id := grant(t, c, 60*time.Second, "/t/endpoint")
	if l, found, err := c.LeaseOf(ctx(t), "/t/endpoint"); err != nil || !found || l != id {
		t.Errorf("LeaseOf = %s, %v, %v; want %s", l, found, err, id)
	}
	if err := realKernel().Do(LeaseRevoke{C: c, ID: id}); err != nil {
		t.Fatal(err)
	}
	if _, found := mustGet(t, c, "/t/endpoint"); found {
		t.Error("a key bound to a revoked lease is still there")
	}
}

func TestKeepAliveLostWhenEtcdIsGoneLongerThanTTL(t *testing.T) {
	srv, c := withEtcd(t)
	id := grant(t, c, 2*time.Second, "/t/subnet")
	lost, err := c.KeepAlive(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	srv.Kill()
	killed := time.Now()
	select {
	case <-lost:
		if d := time.Since(killed); d < time.Second {
			t.Errorf("lease lost %v after etcd died: before its TTL (2 s)", d)
		}
	case <-time.After(6 * time.Second):
		t.Fatal("lease not reported lost 6 s after etcd died (TTL 2 s)")
	}
}

func TestWatchDeliversChanges(t *testing.T) {
	_, c := withEtcd(t)
	k := realKernel()
	_, rev, _ := c.List(ctx(t), "/t/")
	wctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	events := c.Watch(wctx, "/t/", rev)
	if err := k.Do(Put{C: c, Key: "/t/a", Value: []byte("1")}, Put{C: c, Key: "/other", Value: []byte("x")}, Delete{C: c, Key: "/t/a"}); err != nil {
		t.Fatal(err)
	}
	want := []Event{{Key: "/t/a", Value: []byte("1")}, {Key: "/t/a", Deleted: true}}
	for _, w := range want {
		select {
		case e := <-events:
			if e.Resync || e.Key != w.Key || string(e.Value) != string(w.Value) || e.Deleted != w.Deleted {
				t.Errorf("event %+v, want %+v", e, w)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no event for %+v", w)
		}
	}
	cancel()
	for range events { // closed once ctx ends
	}
}

func TestWatchResyncsAfterCompaction(t *testing.T) {
	_, c := withEtcd(t)
	k := realKernel()
	if err := k.Do(Put{C: c, Key: "/t/a", Value: []byte("1")}); err != nil {
		t.Fatal(err)
	}
	_, old, _ := c.List(ctx(t), "/t/")
	if err := k.Do(Put{C: c, Key: "/t/b", Value: []byte("2")}, Delete{C: c, Key: "/t/a"}, Put{C: c, Key: "/t/c", Value: []byte("3")}); err != nil {
		t.Fatal(err)
	}
	_, now, _ := c.List(ctx(t), "/t/")
	if _, err := c.cli.Compact(ctx(t), now); err != nil {
		t.Fatal(err)
	}
	wctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	events := c.Watch(wctx, "/t/", old)
	select {
	case e := <-events:
		if !e.Resync || len(e.All) != 2 || string(e.All["/t/b"]) != "2" || string(e.All["/t/c"]) != "3" {
			t.Fatalf("first event after a compaction: %+v, want a resync with /t/b and /t/c", e)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no resync after a compaction")
	}
	// and it watches on from there
	if err := k.Do(Put{C: c, Key: "/t/d", Value: []byte("4")}); err != nil {
		t.Fatal(err)
	}
	select {
	case e := <-events:
		if e.Resync || e.Key != "/t/d" {
			t.Errorf("event after the resync: %+v, want /t/d", e)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no event after the resync")
	}
}

// etcd restarted: a watch goes on (what changed while it was away comes
// as events or a resync), a lease kept alive through a restart shorter than
// its TTL is not lost, and a new Dial works again.
func TestWatchAndLeaseOutliveAnEtcdRestart(t *testing.T) {
	srv, c := withEtcd(t)
	id := grant(t, c, 6*time.Second, "/t/subnet")
	lost, err := c.KeepAlive(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	_, rev, _ := c.List(ctx(t), "/t/")
	wctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	events := c.Watch(wctx, "/t/", rev)
	srv.Kill()
	srv.Restart()
	// etcd has its keys back; a new client sees them at once.
	c2, err := Dial([]string{srv.Endpoint()})
	if err != nil {
		t.Fatal(err)
	}
	defer c2.Close()
	if err := realKernel().Do(Put{C: c2, Key: "/t/after", Value: []byte("1")}); err != nil {
		t.Fatal(err)
	}
	seen := map[string]string{}
	deadline := time.After(10 * time.Second)
	for seen["/t/after"] != "1" {
		select {
		case e := <-events:
			if e.Resync {
				for k, v := range e.All {
					seen[k] = string(v)
				}
			} else {
				seen[e.Key] = string(e.Value)
			}
		case <-deadline:
			t.Fatalf("the watch did not deliver a put made after etcd restarted (seen %q)", seen)
		}
	}
	time.Sleep(8 * time.Second) // past the TTL: kept alive by the same KeepAlive
	select {
	case <-lost:
		t.Fatal("lease reported lost after a restart shorter than its TTL")
	default:
	}
	if _, found := mustGet(t, c2, "/t/subnet"); !found {
		t.Error("the leased key vanished across a short etcd restart")
	}
}
