package container

import (
	"errors"
	"fmt"
	"os"
	"strconv"
)

// DryRunPid stands for the pid a container's init would have: it is
// PID_MAX_LIMIT, which no process ever has. A dry run narrates it as $PID,
// so that the plan reads like a script: set PID, paste the lines.
const DryRunPid = 4194304

// dryRun narrates what `run` would do for o, in the order a real run does
// it (the init's namespaces, its cgroup, its network, then the init's own
// steps: mounts, pivot_root, hostname, exec), and changes nothing: no
// container state, no image, no layer, no address taken from the IPAM, no
// link, no rule, no cgroup. The container id is a fresh one, as a real run's.
func (r *Runtime) dryRun(o RunOptions) error {
	n := r.N.WithSubstitute(strconv.Itoa(DryRunPid), "$PID")
	log := n.Log()
	c, err := r.newConfig(o, r.imageDirNoBuild)
	if err != nil {
		return err
	}
	log.Infof("dry run of container %s: $PID stands for the pid its init would have", ShortID(c.ID))
	_, why, shell := initNamespaces(c)
	n.Say(why, shell)

	dry := *r
	dry.N = n
	if err := dry.applyCgroup(c, DryRunPid); err != nil {
		return err
	}
	if c.usesNetwork() {
		dir := r.Paths.StateDir(c.ID)
		if _, err := dry.connectNetworkInfo(c, DryRunPid, dir); err != nil {
			return err
		}
	}
	spec := r.initSpec(c, o.Tty)
	spec.HostPid = DryRunPid
	spec.EtcFiles = etcFiles(r.Paths.StateDir(c.ID))
	ini := &initProc{n: n, spec: spec}
	if err := ini.run(); err != nil {
		return err
	}
	if !o.Detach {
		log.Infof("dry run: when the command exits, the container's cgroup and network endpoint would be released")
	}
	log.Infof("dry run, nothing changed: container %s was not created", ShortID(c.ID))
	return nil
}

// imageDirNoBuild is the image's directory; the busybox image, built on
// first use, is narrated as to be built instead.
func (r *Runtime) imageDirNoBuild(name string) (string, error) {
	name = normalize(name)
	if err := ValidateImageName(name); err != nil {
		return "", err
	}
	dir := r.Paths.ImageDir(name)
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		if name != BusyboxImage {
			return "", fmt.Errorf("%w: %s", ErrImageNotExist, name)
		}
		r.N.Log().Infof("dry run: the busybox image would be built first, in %s", dir)
	}
	return dir, nil
}
