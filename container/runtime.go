package container

import (
	"io"

	"github.com/sirupsen/logrus"

	"github.com/mydocker/mydocker/container/image"
	"github.com/mydocker/mydocker/internal/kernel"
)

// Runtime carries what every container operation needs: where state lives,
// the kernel seam every change goes through (narrating, or a plan for
// --dry-run), and the global flags to hand to the processes it re-executes
// (init, shim).
type Runtime struct {
	Paths     Paths
	K         kernel.Kernel
	LogLevel  string
	LogFormat string
	// JoinPrimed: this process has primed the cgroup join of the start
	// it is to make (package joinprime), before its Go runtime started.
	JoinPrimed bool
}

func (r *Runtime) store() Store { return Store{Paths: r.Paths, K: r.K, r: r} }
func (r *Runtime) images() image.Flat {
	return image.Flat{Dir: r.Paths.ImagesDir(), K: r.K}
}

// Store is the container state store.
func (r *Runtime) Store() Store { return r.store() }

// Images is the store of flat images (the built-in busybox, `image import`).
func (r *Runtime) Images() image.Flat { return r.images() }

// ImageStore is the store of registry and archive images.
func (r *Runtime) ImageStore() *image.Store { return image.NewStore(r.Paths.ImageStoreDir(), r.K) }

// Catalog is every image: the flat ones and the store's.
func (r *Runtime) Catalog() image.Catalog {
	return image.Catalog{Flat: r.images(), Store: r.ImageStore()}
}

// with is the runtime on another kernel (a plan, for what a child process
// would do).
func (r *Runtime) with(k kernel.Kernel) *Runtime {
	rt := *r
	rt.K = k
	return &rt
}

func (r *Runtime) globalArgs() []string {
	args := []string{"--root", r.Paths.Root, "--data-root", r.Paths.DataRoot}
	if r.LogLevel != "" {
		args = append(args, "--log-level", r.LogLevel)
	}
	if r.LogFormat != "" {
		args = append(args, "--log-format", r.LogFormat)
	}
	return args
}

// logOut is where the log goes, for the init's narration to join it.
func (r *Runtime) logOut() io.Writer { return logrus.StandardLogger().Out }
