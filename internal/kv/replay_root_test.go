package kv

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/sirupsen/logrus"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/mydocker/mydocker/internal/kernel"
)

// The narration contract for etcd: the script log of the kv ops, run as
// it is by sh with the real etcdctl (3.4) against the same etcd, makes the
// same keys, with the same values, bound to a lease where mydocker bound
// them. mydocker's keys and lease are removed before the replay.
func TestScriptReplaysWithEtcdctl(t *testing.T) {
	if _, err := exec.LookPath("etcdctl"); err != nil {
		t.Fatalf("etcdctl: %v (apt-get install etcd-client: `make deps` does)", err)
	}
	_, c := withEtcd(t)
	var script bytes.Buffer
	script.WriteString(kernel.ScriptHeader)
	log := logrus.New()
	log.SetOutput(&script)
	log.SetFormatter(kernel.ScriptFormatter{})
	k := kernel.NewNarrating(log)

	var lease LeaseID
	if err := k.Do(LeaseGrant{C: c, TTL: time.Minute, ID: &lease, Reason: "lease this host's subnet"}); err != nil {
		t.Fatal(err)
	}
	// What a shell or etcdctl's txn reader could take for its own.
	odd := `{"Name":"web","Aliases":["it's","$HOME","` + "`id`" + `","a\\b"],"IP":"10.200.1.2"}`
	steps := [][]kernel.Op{
		{CreateIfAbsent{C: c, Reason: "create the network and take its vni", Puts: []Put{
			{Key: Prefix + "networks/ov1", Value: []byte(`{"Name":"ov1","Driver":"overlay","Subnet":"10.200.0.0/16","VNI":42}`)},
			{Key: Prefix + "vnis/42", Value: []byte("ov1")},
		}}},
		{CreateIfAbsent{C: c, Reason: "lease a host subnet", Puts: []Put{
			{Key: Prefix + "subnets/ov1/10.200.1.0-24", Value: []byte(`{"Host":"h1","PublicIP":"10.99.0.11"}`), Lease: lease},
		}}},
		{Put{C: c, Key: Prefix + "endpoints/ov1/abc", Value: []byte(odd), Lease: lease, Reason: "name the container cluster-wide"}},
		{Put{C: c, Key: Prefix + "tmp/dash", Value: []byte("-not-a-flag")}},
		{Put{C: c, Key: Prefix + "tmp/gone", Value: []byte("x")}, Delete{C: c, Key: Prefix + "tmp/gone"}},
		{Put{C: c, Key: Prefix + "old/1", Value: []byte("1")}, Put{C: c, Key: Prefix + "old/2", Value: []byte("2")},
			Delete{C: c, Key: Prefix + "old/", Prefix: true}},
	}
	for _, ops := range steps {
		if err := k.Do(ops...); err != nil {
			t.Fatal(err)
		}
	}
	// A txn whose compare fails changes nothing, in the replay too.
	if err := k.Do(CreateIfAbsent{C: c, Puts: []Put{{Key: Prefix + "networks/ov2", Value: []byte("{}")}, {Key: Prefix + "vnis/42", Value: []byte("ov2")}}}); err == nil {
		t.Fatal("a second network took vni 42")
	}
	want := dumpKeys(t, c)
	if !strings.Contains(want, "endpoints/ov1/abc "+odd+" leased") {
		t.Fatalf("mydocker's keys:\n%s", want)
	}

	// Away with what mydocker made, then the script makes it again.
	if _, err := c.cli.Revoke(ctx(t), clientv3.LeaseID(lease)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.cli.Delete(ctx(t), Prefix, clientv3.WithPrefix()); err != nil {
		t.Fatal(err)
	}
	if left := dumpKeys(t, c); left != "" {
		t.Fatalf("not wiped:\n%s", left)
	}
	path := t.TempDir() + "/etcd.sh"
	if err := os.WriteFile(path, script.Bytes(), 0o755); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("sh", path).CombinedOutput()
	if err != nil {
		t.Fatalf("replay: %v\n%s\nscript:\n%s", err, out, script.String())
	}
	if got := dumpKeys(t, c); got != want {
		t.Errorf("replayed keys:\n%s\nwant:\n%s\nscript:\n%s", got, want, script.String())
	}
	// The replay's own lease, of the same TTL.
	leases, err := c.cli.Leases(ctx(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(leases.Leases) != 1 {
		t.Fatalf("replay made %d leases, want 1", len(leases.Leases))
	}
	ttl, err := c.cli.TimeToLive(ctx(t), leases.Leases[0].ID, clientv3.WithAttachedKeys())
	if err != nil {
		t.Fatal(err)
	}
	if ttl.GrantedTTL != 60 || len(ttl.Keys) != 2 {
		t.Errorf("replay's lease: TTL %d s with %d keys, want 60 s with 2", ttl.GrantedTTL, len(ttl.Keys))
	}
}

// dumpKeys is every key of mydocker's, its value, and whether it is bound
// to a lease, one a line.
func dumpKeys(t *testing.T, c *Client) string {
	t.Helper()
	resp, err := c.cli.Get(ctx(t), Prefix, clientv3.WithPrefix())
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, kv := range resp.Kvs {
		l := fmt.Sprintf("%s %s", strings.TrimPrefix(string(kv.Key), Prefix), kv.Value)
		if kv.Lease != 0 {
			l += " leased"
		}
		lines = append(lines, l)
	}
	sort.Strings(lines)
	if len(lines) == 0 {
		return ""
	}
	return strings.Join(lines, "\n") + "\n"
}
