package container

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"

	"github.com/mydocker/mydocker/cgroups"
	"github.com/mydocker/mydocker/container/image"
	"github.com/mydocker/mydocker/internal/kernel"
	"github.com/mydocker/mydocker/internal/phases"
	"github.com/mydocker/mydocker/network"
)

// Run creates a container and starts it. In the foreground it returns the
// command's exit code once it has ended and been cleaned up; detached, it
// returns as soon as the command runs, under the watch of a shim.
// On a plan (--dry-run) the same steps are planned, nothing changes: the
// processes are stand-ins (see startInitOp, startShimOp), the container's
// record stays in the plan.
func (r *Runtime) Run(o RunOptions, in, out, errOut *os.File) (id string, exitCode int, err error) {
	c, err := r.create(o)
	if err != nil {
		return "", 0, err
	}
	code, err := r.launch(c, o.Detach, o.Interactive, in, out, errOut)
	return c.ID, code, err
}

// create checks the options and writes the new container's state.
func (r *Runtime) create(o RunOptions) (*Config, error) {
	// Records a dead mydocker left are settled first: the name, address
	// and ports of an abandoned creation are free again for this one.
	if _, _, err := r.store().settleFrom(r.store().scanHeads); err != nil {
		return nil, err
	}
	c, err := r.newConfig(o, r.Catalog().Resolve)
	if err != nil {
		return nil, err
	}
	letAll(r.K, r.scriptVars(c.ID))
	// This process answers for the record until a monitor takes it: if it
	// dies first, the next command undoes the creation (settle.go).
	c.Creator, c.CreatorStart = self()
	if err := r.createRecord(c); err != nil {
		return nil, err
	}
	phases.Mark("recorded")
	return c, nil
}

// newConfig checks the options and makes the new container's configuration
// (with a fresh id), writing nothing; resolve finds the image (its layers
// and config).
func (r *Runtime) newConfig(o RunOptions, resolve func(string) (*image.RunImage, error)) (*Config, error) {
	if o.Name != "" {
		if err := ValidateName(o.Name); err != nil {
			return nil, err
		}
	}
	mounts, err := parseMounts(o)
	if err != nil {
		return nil, err
	}
	envList, err := ReadEnvFiles(o.EnvFiles)
	if err != nil {
		return nil, err
	}
	env, err := ParseEnv(append(envList, o.Env...), os.LookupEnv)
	if err != nil {
		return nil, err
	}
	if o.StopSignal != "" {
		if _, err := ParseSignal(o.StopSignal); err != nil {
			return nil, fmt.Errorf("--stop-signal: %w", err)
		}
	}
	if o.StopTimeout != nil && *o.StopTimeout < -1 {
		return nil, fmt.Errorf("invalid --stop-timeout %d: seconds, or -1 to wait for ever", *o.StopTimeout)
	}
	policy, err := ParseRestartPolicy(o.Restart)
	if err != nil {
		return nil, err
	}
	if policy.Name == RestartNo {
		policy = nil
	} else if o.AutoRemove {
		return nil, errors.New("conflicting options: --restart and --rm (a container that goes when it exits cannot be restarted)")
	}
	if o.Hostname != "" {
		if err := ValidateHostname(o.Hostname); err != nil {
			return nil, err
		}
	}
	if o.WorkDir != "" && !filepath.IsAbs(o.WorkDir) {
		return nil, fmt.Errorf("invalid working directory %q: it must be an absolute path", o.WorkDir)
	}
	if err := r.checkNetwork(o.Network); err != nil {
		return nil, err
	}
	ports, ip, err := r.checkNetworkOptions(o)
	if err != nil {
		return nil, err
	}
	if err := checkHostsOptions(o); err != nil {
		return nil, err
	}
	img, err := resolve(o.Image)
	if err != nil {
		return nil, err
	}
	var cfg v1.Config // a flat image has none
	if img.Config != nil {
		// The image's config is the default; run's flags and arguments
		// override it, as docker's.
		cfg = *img.Config
		env = mergeEnv(cfg.Env, env)
		if o.WorkDir == "" {
			o.WorkDir = cfg.WorkingDir
		}
		if o.User == "" {
			o.User = cfg.User
		}
	}
	exposed, err := exposePorts(cfg.ExposedPorts, o.Expose)
	if err != nil {
		return nil, err
	}
	if o.PublishAll {
		if ports, err = publishExposed(o.Network, exposed, ports); err != nil {
			return nil, err
		}
	}
	cmd := imageCmd(o, &cfg)
	if len(cmd) == 0 && img.Config != nil {
		return nil, fmt.Errorf("image %s has no command (no Entrypoint or Cmd): give one", o.Image)
	}
	if len(cmd) == 0 {
		cmd = []string{"sh"} // a flat image's default, as before images had configs
	}
	// What the container may not do: every flag checked, the user looked
	// up in the image (its top-most /etc/passwd), the seccomp filter
	// compiled, before anything exists.
	sec, tmpfs, err := r.resolveSecurity(o, img.Find("etc/passwd"))
	if err != nil {
		return nil, err
	}
	id, err := NewID()
	if err != nil {
		return nil, err
	}
	c := &Config{
		ID: id, Name: o.Name, Image: image.Normalize(o.Image), ImagePath: img.Lower, ImageLowerFrom: img.LowerFrom, ImageID: img.ID,
		Cmd: cmd, Env: env,
		Hostname: o.Hostname, WorkingDir: o.WorkDir, Mounts: mounts,
		Tty: o.Tty, OpenStdin: o.Interactive, Detach: o.Detach, AutoRemove: o.AutoRemove,
		NetworkMode: o.Network, Ports: ports, ExposedPorts: exposed, DNS: o.DNS, ExtraHosts: o.AddHosts, Aliases: o.Aliases, Resources: o.Resources, Status: StatusCreated, Created: time.Now().UTC(),
		Security: sec, ReadonlyRootfs: o.ReadOnly, Tmpfs: tmpfs,
		RestartPolicy: policy, Init: o.Init,
	}
	var imageLabels map[string]string
	if img.Config != nil {
		c.StopSignal, imageLabels = img.Config.StopSignal, img.Config.Labels
	}
	if o.StopSignal != "" {
		c.StopSignal = o.StopSignal
	}
	c.StopTimeout = o.StopTimeout
	labels, err := ReadLabelFiles(o.LabelFiles)
	if err != nil {
		return nil, err
	}
	if c.Labels, err = ParseLabels(imageLabels, append(labels, o.Labels...)); err != nil {
		return nil, err
	}
	if c.LogConfig, err = parseLogConfig(o.LogDriver, o.LogOpts); err != nil {
		return nil, err
	}
	// The device allowlist is the cgroup's to enforce.
	res := cgroups.Resources{}
	if c.Resources != nil {
		res = *c.Resources
	}
	res.Devices = sec.DeviceRules
	c.Resources = &res
	if ip != nil {
		c.RequestedIP = ip.String()
	}
	if c.Hostname == "" {
		c.Hostname = ShortID(id)
		if c.NetworkMode == NetworkHost {
			c.Hostname, _ = os.Hostname()
		}
	}
	return c, nil
}

// imageCmd is the command of a container of an image with config cfg, as
// docker makes it: the entrypoint, then the arguments given or else the
// image's Cmd; --entrypoint replaces the entrypoint (one program, not
// split, as docker's; "" clears it) and drops the image's Cmd.
func imageCmd(o RunOptions, cfg *v1.Config) []string {
	entry, args := cfg.Entrypoint, cfg.Cmd
	if o.EntrypointSet {
		entry, args = nil, nil
		if o.Entrypoint != "" {
			entry = []string{o.Entrypoint}
		}
	}
	if len(o.Cmd) > 0 {
		args = o.Cmd
	}
	return append(append([]string(nil), entry...), args...)
}

// checkNetwork accepts the network modes this runtime knows: none, host,
// or a network name (checked by checkNetworkOptions).
func (r *Runtime) checkNetwork(mode string) error {
	if mode == "" {
		return fmt.Errorf("empty --net: none, host, or a network's name")
	}
	return nil
}

// start prepares the layer and the files the container needs, starts its
// init, connects it, and releases it. On any failure what was done is undone.
func (r *Runtime) start(c *Config, sio stdio, monitor int) (*initProcess, error) {
	spec := r.initSpec(c, sio.Tty)
	letAll(r.K, spec.Vars) // again: a detached container starts in its shim
	// On a cgroup v2 host the init is cloned straight into its cgroup
	// (clone3's CLONE_INTO_CGROUP, as runc and crun do there): no write to
	// a cgroup.procs, so no grace period of the join's lock to wait for;
	// the cgroup is made first. Elsewhere the join's grace period passes
	// while the init is prepared and started (primeCgroupJoin); the cgroup
	// is made once the init mounts its root, and the init joins it at once.
	cg, err := r.cgroup(c)
	if err != nil {
		return nil, err
	}
	cloneInto := cg.Mode() == cgroups.V2
	if cloneInto {
		if err := r.setCgroup(c, cg); err != nil {
			return nil, err
		}
	} else {
		r.primeCgroupJoin()
	}
	if err := r.store().LoadProgram(c); err != nil {
		return nil, err
	}
	confineSpec(spec, c)
	if err := r.makeLayer(spec); err != nil {
		return nil, err
	}
	if err := r.mountSpecs(c, spec); err != nil {
		return nil, err
	}
	if spec.EtcFiles, err = r.writeEtcFiles(c); err != nil {
		return nil, err
	}
	phases.Mark("prepared")
	so := &startInitOp{r: r, c: c, sio: sio, spec: spec}
	if cloneInto {
		so.cgroup = cg.Paths()[""]
	}
	if err := r.K.Do(so); err != nil {
		return nil, fmt.Errorf("start container init: %w", err)
	}
	p := so.p
	r.K.Let("PID", strconv.Itoa(p.Pid()))
	spec.HostPid = p.Pid()
	phases.Mark("cloned")
	// The init builds its root filesystem while we connect it.
	err = p.sendSpec(spec)
	phases.Mark("program-sent")
	if err == nil && !cloneInto {
		err = r.setCgroup(c, cg)
	}
	phases.Mark("cgroup-made")
	if err == nil {
		err = r.joinCgroup(c, cg, p.Pid(), cloneInto)
	}
	if err == nil {
		err = p.joined()
	}
	phases.Mark("joined")
	// Running from just before the go signal: whoever finds the record
	// once its command has started (its owner killed then) must know it
	// runs. A kill between that write and the signal leaves a record
	// running whose init exits without running the command: settled as
	// exited, like any other that died unrecorded.
	// A stop recorded since this start was claimed (the shim restarting
	// it) calls it off: the command never runs.
	running := func(c *Config) error {
		if c.ManuallyStopped && c.Restarting {
			return fmt.Errorf("container %s: %w", c.Name, ErrStopped)
		}
		c.Status, c.Started, c.Restarting = StatusRunning, time.Now().UTC(), false
		return nil
	}
	if err == nil {
		// The init and its monitor are recorded before the network is
		// made for it: whoever finds it later knows whom it is for. Still
		// "created" if a network is to come: the command has not started.
		mon, monStart := self()
		if monitor != mon { // a plan's stand-in shim
			mon, monStart = monitor, pidStart(monitor)
		}
		c, err = r.store().Update(c.ID, func(c *Config) error {
			c.Pid, c.PidStart, c.MonitorPid, c.MonitorStart = p.Pid(), pidStart(p.Pid()), mon, monStart
			if !c.usesNetwork() {
				return running(c)
			}
			return nil
		})
	}
	if err == nil && c.usesNetwork() {
		// The endpoint is wired before the go signal: the command never
		// starts without its network. It is recorded with the running
		// state, in one write.
		var info *network.EndpointInfo
		if info, err = r.connectAgain(c, p.Pid()); err == nil {
			_, err = r.store().Update(c.ID, func(c *Config) error {
				c.setEndpoint(info.Network, info)
				c.Ports = info.Ports // with the host ports picked for -p 80 and -P
				return running(c)
			})
		}
	}
	phases.Mark("networked")
	if err != nil {
		if ierr := p.abort(); ierr != nil {
			err = ierr
		}
		return nil, oneLine(err, r.teardown(c))
	}
	phases.Mark("running-recorded")
	if err := p.release(); err != nil {
		p.wait()
		code := ExitCodeOf(err)
		return nil, oneLine(err, r.finish(c.ID, code))
	}
	phases.Mark("released")
	return p, nil
}

// initSpec is what the init of container c is sent with the go signal.
func (r *Runtime) initSpec(c *Config, tty bool) *initSpec {
	layer := r.Paths.LayerDir(c.ID)
	return &initSpec{
		Vars: r.scriptVars(c.ID), StateDir: r.Paths.StateDir(c.ID),
		ID: c.ID, Lower: c.ImagePath, LowerFrom: c.ImageLowerFrom,
		Upper: filepath.Join(layer, "upper"), Work: filepath.Join(layer, "work"), Merged: filepath.Join(layer, "merged"),
		Hostname: c.Hostname, Env: containerEnv(c), Cmd: c.Cmd, WorkDir: c.WorkingDir,
		CgroupNS: true, Tty: tty, Init: c.Init,
	}
}

// ExitCodeOf is the exit code an error asks for, 125 by default.
func ExitCodeOf(err error) int {
	var ec interface{ ExitCode() int }
	if errors.As(err, &ec) {
		return ec.ExitCode()
	}
	return 125
}

// teardown releases what a container held outside its namespaces (cgroup,
// network endpoint). It is idempotent and best effort: it keeps going past
// errors and returns them all, as one line.
func (r *Runtime) teardown(c *Config) error { return r.teardownWith(c, false) }

// teardownWith is teardown, with the container's layer removed too when
// layer is set, between the cgroup and the network: the kernel deletes
// the network namespace of a container whose processes are gone in the
// background, and the disconnect waits for its veth to go with it
// (awaitVethGone, 5 to 12 ms: RCU grace periods), so the removal costs
// nothing there.
func (r *Runtime) teardownWith(c *Config, layer bool) error {
	var errs []error
	// cgroup: records OOMKilled before the counters go with the cgroup.
	if err := r.releaseCgroup(c); err != nil {
		errs = append(errs, err)
	}
	phases.Mark("cgroup-released")
	if layer {
		if err := r.removeLayer(c); err != nil {
			errs = append(errs, err)
		}
		phases.Mark("layer-removed")
	}
	// network: IP, veth and port rules (idempotent, fine when the netns is gone).
	if err := r.disconnectNetworks(c); err != nil {
		errs = append(errs, err)
	}
	phases.Mark("network-released")
	return oneLine(errs...)
}

// destroy tears c down and removes its files, its layer while the kernel
// deletes its network namespace (teardownWith). On a failure the record
// stays, so that it can be tried again.
func (r *Runtime) destroy(c *Config) error {
	if err := r.teardownWith(c, true); err != nil {
		return err
	}
	return r.removeState(c)
}

// failed records a container that could not start (and removes it with
// --rm) and returns the reason.
func (r *Runtime) failed(c *Config, err error) error {
	return oneLine(err, r.finish(c.ID, ExitCodeOf(err)))
}

// lineErrors are errors told as one line, "; " between them (errors.Join
// puts each on a line of its own); errors.Is and As see each of them, and
// the first that asks for an exit code sets it.
type lineErrors []error

func (e lineErrors) Error() string {
	msgs := make([]string, len(e))
	for i, err := range e {
		msgs[i] = strings.ReplaceAll(err.Error(), "\n", "; ")
	}
	return strings.Join(msgs, "; ")
}

func (e lineErrors) Unwrap() []error { return e }

// oneLine joins the non-nil errors into one error told as one line; nil if
// there are none, the error itself if there is one.
func oneLine(errs ...error) error {
	var out lineErrors
	for _, err := range errs {
		if err != nil {
			out = append(out, err)
		}
	}
	switch len(out) {
	case 0:
		return nil
	case 1:
		if !strings.Contains(out[0].Error(), "\n") {
			return out[0]
		}
	}
	return out
}

// finish records how a container ended, releases what it held and, with
// --rm, removes it. The first record of an exit wins.
func (r *Runtime) finish(id string, code int) error {
	c, err := r.store().Update(id, func(c *Config) error {
		c.exited(code)
		return nil
	})
	if errors.Is(err, ErrNotExist) {
		return nil // removed meanwhile (rm -f)
	}
	if err != nil {
		return err
	}
	return r.release(c)
}

// ended finishes a container this process watched in the foreground. One
// that goes with its exit (--rm) is released and removed without its exit
// being recorded first: nobody else reads it, and if this process dies
// half way the next command settles the record as that write would have
// (Exited (255), released, removed: settle.go). One whose exit another
// command recorded meanwhile (stop, rm -f) is finished as usual.
func (r *Runtime) ended(id string, code int) error {
	c, err := r.store().load(id)
	if err != nil || !c.AutoRemove || c.Status == StatusExited {
		return r.finish(id, code)
	}
	c.exited(code)
	return r.release(c)
}

// release releases what the exited container c held, then removes it
// (--rm) or records that nothing is held any more. On a failure the record
// stays Releasing: a later command tries again.
func (r *Runtime) release(c *Config) error {
	if c.AutoRemove {
		return r.destroy(c)
	}
	if err := r.teardown(c); err != nil {
		return err
	}
	if !c.Releasing {
		return nil
	}
	_, err := r.store().Update(c.ID, func(c *Config) error {
		c.Releasing = false
		return nil
	})
	if errors.Is(err, ErrNotExist) {
		return nil
	}
	return err
}

// removeFiles deletes a container's layer and state.
func (r *Runtime) removeFiles(c *Config) error {
	if err := r.removeLayer(c); err != nil {
		return err // the record stays, so that rm can be tried again
	}
	return r.removeState(c)
}

// removeLayer deletes a container's layer (idempotent).
func (r *Runtime) removeLayer(c *Config) error {
	err := r.K.Do(kernel.RemoveAll{Path: r.Paths.LayerDir(c.ID),
		Reason: "remove the container's layer: its changes (upperdir), overlay's workdir, the mount point"})
	if err != nil {
		return fmt.Errorf("remove layer of %s: %w", ShortID(c.ID), err)
	}
	return nil
}

// removeState deletes a container's record and state directory, and with
// --rm its anonymous volumes.
func (r *Runtime) removeState(c *Config) error {
	err := r.store().Delete(c.ID)
	phases.Mark("state-removed")
	if err != nil || !c.AutoRemove {
		return err
	}
	// --rm takes the container's anonymous volumes with it, as docker's;
	// one left behind (this process killed) is dangling: volume prune.
	return r.removeAnonymous(c)
}

// writeEtcFiles writes the container's /etc/hostname, /etc/hosts and
// /etc/resolv.conf into its state directory, to be bind-mounted.
func (r *Runtime) writeEtcFiles(c *Config) ([]etcFile, error) {
	dir := r.Paths.StateDir(c.ID)
	hosts := "127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n"
	resolv := ""
	hostsWhy, resolvWhy := "localhost only, until a network adds the container's own name", "empty, until a network gives it nameservers"
	if c.NetworkMode == NetworkHost {
		hostsWhy, resolvWhy = "the host's (--net host)", "the host's (--net host)"
		if b, err := os.ReadFile("/etc/hosts"); err == nil {
			hosts = string(b)
		}
		if b, err := os.ReadFile("/etc/resolv.conf"); err == nil {
			resolv = string(b)
		}
	}
	if !c.usesNetwork() && len(c.ExtraHosts) > 0 {
		hosts += network.ExtraHostsLines(extraHostsOffNetwork(c.ExtraHosts))
		hostsWhy += ", and --add-host's"
	}
	files := []struct{ content, why string }{
		{c.Hostname + "\n", "the container's /etc/hostname, to be bound onto it"},
		{hosts, "its /etc/hosts: " + hostsWhy},
		{resolv, "its /etc/resolv.conf: " + resolvWhy},
	}
	out := etcFiles(dir)
	for i, f := range files {
		if err := r.K.Do(kernel.WriteFile{Path: out[i].Source, Content: f.content, Create: true, Reason: f.why}); err != nil {
			return nil, fmt.Errorf("write %s: %w", out[i].Source, err)
		}
	}
	return out, nil
}

// etcFiles are the files of a container's state directory dir that are
// bind-mounted onto its /etc.
func etcFiles(dir string) []etcFile {
	var out []etcFile
	for _, name := range []string{"hostname", "hosts", "resolv.conf"} {
		out = append(out, etcFile{Source: filepath.Join(dir, name), Target: "/etc/" + name})
	}
	return out
}
