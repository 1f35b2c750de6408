package kv

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/sirupsen/logrus"

	"github.com/mydocker/mydocker/internal/kernel"
)

// Each op's "$" line, as etcdctl 3.4 spells the command (no etcd needed).
func TestCommands(t *testing.T) {
	c := &Client{endpoints: []string{"http://10.99.0.2:2379", "http://10.99.0.3:2379"}}
	ctl := "ETCDCTL_API=3 etcdctl --endpoints=http://10.99.0.2:2379,http://10.99.0.3:2379 "
	var id LeaseID
	for _, tc := range []struct {
		op   kernel.Op
		want string
	}{
		{Put{C: c, Key: "/k", Value: []byte(`{"a":1}`)}, ctl + `put /k '{"a":1}'`},
		{Put{C: c, Key: "/k", Value: []byte("v"), Lease: 0x694d7a0d1b9c4a0b}, ctl + "put --lease=694d7a0d1b9c4a0b /k v"},
		{Put{C: c, Key: "/k", Value: []byte("-v")}, ctl + "put -- /k -v"},
		{Delete{C: c, Key: "/k"}, ctl + "del /k"},
		{Delete{C: c, Key: "/p/", Prefix: true}, ctl + "del --prefix /p/"},
		{LeaseGrant{C: c, TTL: 20 * time.Second, ID: &id}, ctl + "lease grant 20"},
		{LeaseGrant{C: c, TTL: 1500 * time.Millisecond, ID: &id}, ctl + "lease grant 2"},
		{LeaseRevoke{C: c, ID: 0x694d7a0d1b9c4a0b}, ctl + "lease revoke 694d7a0d1b9c4a0b"},
		{CreateIfAbsent{C: c, Puts: []Put{{Key: "/a", Value: []byte(`{"x":"y"}`), Lease: 0x1f}, {Key: "/b", Value: []byte("b")}}},
			ctl + "txn <<'EOF'\n" + `version("/a") = "0"` + "\n" + `version("/b") = "0"` + "\n\n" +
				`put --lease=1f "/a" "{\"x\":\"y\"}"` + "\n" + `put "/b" "b"` + "\n\n\nEOF"},
	} {
		if got := tc.op.Command().Text(nil); got != tc.want {
			t.Errorf("got:\n%s\nwant:\n%s", got, tc.want)
		}
	}
}

// A dry run grants no lease: it narrates $LEASE wherever the id goes.
func TestPlanNamesTheLease(t *testing.T) {
	c := &Client{endpoints: []string{"http://10.99.0.2:2379"}}
	var buf bytes.Buffer
	log := logrus.New()
	log.SetOutput(&buf)
	log.SetFormatter(messages{})
	p := kernel.NewPlan(nil, log)
	var id LeaseID
	if err := p.Do(LeaseGrant{C: c, TTL: 20 * time.Second, ID: &id}); err != nil {
		t.Fatal(err)
	}
	if id != StandInLease {
		t.Errorf("planned lease %s, want the stand-in", id)
	}
	if err := p.Do(Put{C: c, Key: "/k", Value: []byte("v"), Lease: id}, CreateIfAbsent{C: c, Puts: []Put{{Key: "/s", Value: []byte("v"), Lease: id}}}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if strings.Contains(out, "--lease="+StandInLease.String()) || strings.Count(out, "--lease=${LEASE}") != 2 {
		t.Errorf("plan's narration:\n%s", out)
	}
}

// messages formats a log as its messages alone, as a reader sees them.
type messages struct{}

func (messages) Format(e *logrus.Entry) ([]byte, error) { return []byte(e.Message + "\n"), nil }
