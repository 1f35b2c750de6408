package network

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/mydocker/mydocker/internal/kernel"
	"github.com/mydocker/mydocker/internal/kv"
	"github.com/mydocker/mydocker/internal/names"
)

// readCtx bounds a read of etcd by a command (Dial has already shown that
// etcd answers).
func readCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 5*time.Second)
}

// clusterDef reads a network's definition from etcd: nil when etcd has
// none (or no --kv was given: then there is no etcd to ask).
func clusterDef(name string) (*kv.Client, *OverlayDef, error) {
	cl := currentCluster()
	if len(cl.KV) == 0 {
		return nil, nil, nil
	}
	c, err := dialKV(cl.KV)
	if err != nil {
		return nil, nil, err
	}
	def, err := readDef(c, name)
	return c, def, err
}

func readDef(c *kv.Client, name string) (*OverlayDef, error) {
	ctx, cancel := readCtx()
	defer cancel()
	v, _, found, err := c.Get(ctx, defKey(name))
	if err != nil || !found {
		return nil, err
	}
	var def OverlayDef
	if err := json.Unmarshal(v, &def); err != nil || def.Name != name {
		return nil, fmt.Errorf("etcd key %s: not a network definition (%v)", defKey(name), err)
	}
	return &def, nil
}

// createOverlay defines an overlay network in etcd: its definition and its
// VNI in one transaction, so two hosts creating one name, or two networks
// taking one VNI, have one winner. Nothing changes on any host until a
// container joins it (overlay_join.go).
func (m *Manager) createOverlay(opts CreateOptions) (*Network, error) {
	if err := ValidateName(opts.Name); err != nil {
		return nil, err
	}
	if len(currentCluster().KV) == 0 {
		return nil, errNoKV
	}
	if reservedNames[opts.Name] || opts.Name == DefaultNetwork {
		return nil, fmt.Errorf("network %s: %w (predefined, cannot be created)", opts.Name, ErrExists)
	}
	if opts.Gateway != "" || opts.IPRange != "" {
		return nil, fmt.Errorf("network %s: --gateway and --ip-range are not for overlay networks (each host's gateway is the first address of its host subnet)", opts.Name)
	}
	if opts.Subnet == "" {
		return nil, fmt.Errorf("network %s: an overlay network needs --subnet (a range every host's containers share, e.g. 10.200.0.0/16)", opts.Name)
	}
	ip, subnet, err := net.ParseCIDR(opts.Subnet)
	if err != nil || ip.To4() == nil {
		return nil, fmt.Errorf("invalid subnet %q: want an IPv4 CIDR such as 10.200.0.0/16", opts.Subnet)
	}
	if !ip.Equal(subnet.IP) {
		return nil, fmt.Errorf("invalid subnet %q: host bits set (did you mean %s?)", opts.Subnet, subnet)
	}
	size := opts.HostSubnetSize
	if size == 0 {
		size = defaultHostSubnetSize
	}
	ones, _ := subnet.Mask.Size()
	if size <= ones || size > 30 {
		return nil, fmt.Errorf("invalid --host-subnet-size %d: want a prefix longer than the subnet's /%d and at most /30", size, ones)
	}
	ttl := opts.KVTTL
	if ttl == 0 {
		ttl = defaultKVTTL
	}
	if ttl < minKVTTL || ttl%time.Second != 0 {
		return nil, fmt.Errorf("invalid --kv-ttl %v: want whole seconds, at least %v", ttl, minKVTTL)
	}
	c, err := dialKV(currentCluster().KV)
	if err != nil {
		return nil, err
	}
	// A local bridge network of that name, or overlapping: refused, as
	// two bridge networks would be.
	locals, err := m.loadAll()
	if err != nil {
		return nil, err
	}
	for _, o := range locals {
		if o.Name == opts.Name {
			return nil, fmt.Errorf("network %s: %w", opts.Name, ErrExists)
		}
		if _, n, err := net.ParseCIDR(o.Subnet); err == nil && o.Overlay == nil && overlaps(subnet, n) {
			return nil, fmt.Errorf("subnet %s %w network %s (%s)", subnet, ErrPoolOverlap, o.Name, n)
		}
	}
	defs, err := listDefs(c)
	if err != nil {
		return nil, err
	}
	used := map[int]bool{}
	for _, d := range defs {
		if d.Name == opts.Name {
			return nil, fmt.Errorf("network %s: %w", opts.Name, ErrExists)
		}
		if _, n, err := net.ParseCIDR(d.Subnet); err == nil && overlaps(subnet, n) {
			return nil, fmt.Errorf("subnet %s %w network %s (%s)", subnet, ErrPoolOverlap, d.Name, n)
		}
		used[d.VNI] = true
	}
	ctx, cancel := readCtx()
	vnis, _, err := c.List(ctx, vnisPrefix())
	cancel()
	if err != nil {
		return nil, err
	}
	for k := range vnis {
		if v, err := strconv.Atoi(strings.TrimPrefix(k, vnisPrefix())); err == nil {
			used[v] = true
		}
	}
	def := &OverlayDef{Name: opts.Name, Driver: "overlay", Subnet: subnet.String(), HostSubnetSize: size,
		TTL: int(ttl / time.Second), Created: time.Now().UTC()}
	// The lowest free VNI; a host racing us for it makes us take the next.
	for def.VNI = 1; ; def.VNI++ {
		if used[def.VNI] {
			continue
		}
		value, _ := json.Marshal(def)
		err := m.k.Do(kv.CreateIfAbsent{C: c, Reason: fmt.Sprintf("define the overlay network %s in etcd, with its VNI %d (taken by no other network): every host of this etcd sees it", def.Name, def.VNI),
			Puts: []kv.Put{{Key: defKey(def.Name), Value: value}, {Key: vniKey(def.VNI), Value: []byte(def.Name)}}})
		if errors.Is(err, kv.ErrExists) && strings.Contains(err.Error(), vniKey(def.VNI)) && def.VNI < 1<<24-1 {
			continue
		}
		if errors.Is(err, kv.ErrExists) {
			return nil, fmt.Errorf("network %s: %w", opts.Name, ErrExists)
		}
		if err != nil {
			return nil, fmt.Errorf("create network %s: %w", opts.Name, err)
		}
		break
	}
	m.reportOverlay(def)
	return def.view(nil), nil
}

func (m *Manager) reportOverlay(def *OverlayDef) {
	kernel.Report(m.k, "network %s created: overlay, subnet %s (a /%d per host), VNI %d, in etcd at %s",
		def.Name, def.Subnet, def.HostSubnetSize, def.VNI, strings.Join(currentCluster().KV, ","))
}

// listDefs reads every overlay network of the etcd.
func listDefs(c *kv.Client) ([]*OverlayDef, error) {
	ctx, cancel := readCtx()
	defer cancel()
	kvs, _, err := c.List(ctx, defsPrefix())
	if err != nil {
		return nil, err
	}
	var out []*OverlayDef
	for k, v := range kvs {
		var d OverlayDef
		if err := json.Unmarshal(v, &d); err != nil || defKey(d.Name) != k {
			continue // not ours to judge: another version's layout
		}
		out = append(out, &d)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// ListAll is List with the overlay networks of the etcd of --kv that
// have no part on this host yet (`network ls`). etcd unreachable: an
// error, in one line.
func (m *Manager) ListAll() ([]*Network, error) {
	all, err := m.List()
	if err != nil || len(currentCluster().KV) == 0 {
		return all, err
	}
	c, err := dialKV(currentCluster().KV)
	if err != nil {
		return nil, err
	}
	defs, err := listDefs(c)
	if err != nil {
		return nil, err
	}
	have := map[string]bool{}
	for _, nw := range all {
		have[nw.Name] = true
	}
	for _, d := range defs {
		if !have[d.Name] {
			all = append(all, d.view(nil))
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].Name < all[j].Name })
	return all, nil
}

// inspectOverlay is an overlay network that has no part on this host.
func inspectOverlay(name string, notExist error) (*Network, error) {
	_, def, err := clusterDef(name)
	if err != nil {
		return nil, err
	}
	if def == nil {
		return nil, notExist
	}
	return def.view(nil), nil
}

// removeOverlay deletes an overlay network from etcd (local: this host's
// part, nil if none): refused while any host has a container on it; a
// host subnet still leased by a host with none is freed with it.
func (m *Manager) removeOverlay(name string, local *Network, notExist error) error {
	c, def, err := clusterDef(name)
	if err != nil {
		return err
	}
	if c == nil && local != nil { // no --kv: the etcd this host's part is in
		if c, err = dialKV(local.Overlay.KV); err != nil {
			return err
		}
		if def, err = readDef(c, name); err != nil {
			return err
		}
	}
	if def == nil && local == nil {
		return notExist
	}
	if local != nil && len(local.Containers) > 0 {
		return inUse(name, local.Containers)
	}
	ctx, cancel := readCtx()
	eps, _, err := c.List(ctx, endpointsPrefix(name))
	cancel()
	if err != nil {
		return err
	}
	if len(eps) > 0 {
		var ids []string
		for k, v := range eps {
			var e ClusterEndpoint
			json.Unmarshal(v, &e)
			ids = append(ids, names.ShortID(strings.TrimPrefix(k, endpointsPrefix(name)))+" on "+e.Host)
		}
		sort.Strings(ids)
		return fmt.Errorf("network %s: %w: %v", name, ErrInUse, ids)
	}
	if local != nil {
		if err := m.leave(local); err != nil {
			return err
		}
	}
	why := func(what string) string { return fmt.Sprintf("network %s goes: %s", name, what) }
	dels := []kv.Delete{
		{C: c, Key: subnetsPrefix(name), Prefix: true, Reason: why("the host subnets still leased (by hosts without containers on it)")},
		{C: c, Key: endpointsPrefix(name), Prefix: true, Reason: why("its names")},
	}
	if def != nil {
		dels = append(dels, kv.Delete{C: c, Key: vniKey(def.VNI), Reason: why(fmt.Sprintf("its VNI %d is free again", def.VNI))})
	}
	dels = append(dels, kv.Delete{C: c, Key: defKey(name), Reason: why("its definition, last (a removal cut short is finished by the next `network rm`)")})
	for _, d := range dels {
		if err := m.k.Do(d); err != nil {
			return fmt.Errorf("remove network %s: %w", name, err)
		}
	}
	kernel.Report(m.k, "network %s removed", name)
	return nil
}

// inUse is ErrInUse naming the containers.
func inUse(name string, eps map[string]*Endpoint) error {
	ids := make([]string, 0, len(eps))
	for id := range eps {
		ids = append(ids, names.ShortID(id))
	}
	sort.Strings(ids)
	return fmt.Errorf("network %s: %w: %v", name, ErrInUse, ids)
}
