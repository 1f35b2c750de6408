package container

import (
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/mydocker/mydocker/container/logfile"
	"github.com/mydocker/mydocker/internal/kernel"
)

// A container's output is logged by whoever holds it: the shim of a
// detached container, or the `run` of a foreground one (which also
// passes it on to its caller). Each of stdout and stderr is a stream of
// records of its own in container.log, in docker's json-file format (see
// package logfile); with a terminal (-t) the terminal's output is one
// stream, stdout, as docker's.

// LogConfig is docker's HostConfig.LogConfig: the driver (json-file, or
// none: nothing kept) and its options (max-size, max-file).
type LogConfig struct {
	Type   string
	Config map[string]string
}

// Log drivers: docker's default, and none.
const (
	LogDriverJSONFile = "json-file"
	LogDriverNone     = "none"
)

// ErrNoLog is `logs` of a container run with --log-driver none.
var ErrNoLog = errors.New("configured logging driver does not support reading")

// parseLogConfig checks --log-driver and --log-opt; nil for docker's
// default (json-file, no options). The none driver takes no options, as
// docker's ignores them.
func parseLogConfig(driver string, opts []string) (*LogConfig, error) {
	switch driver {
	case "", LogDriverJSONFile:
	case LogDriverNone:
		return &LogConfig{Type: LogDriverNone, Config: map[string]string{}}, nil
	default:
		return nil, fmt.Errorf("invalid --log-driver %q: json-file or none", driver)
	}
	kv, _, err := logfile.ParseOptions(opts)
	if err != nil || (kv == nil && driver == "") {
		return nil, err
	}
	if kv == nil {
		kv = map[string]string{}
	}
	return &LogConfig{Type: LogDriverJSONFile, Config: kv}, nil
}

// logged says whether container c's output is kept.
func logged(c *Config) bool { return c.LogConfig == nil || c.LogConfig.Type != LogDriverNone }

// openLog opens container c's log for its output; nil in a plan, where
// nothing runs, and with --log-driver none.
func (r *Runtime) openLog(c *Config) (*logfile.File, error) {
	if _, plan := r.K.(*kernel.Plan); plan || !logged(c) {
		return nil, nil
	}
	var o logfile.Options
	if c.LogConfig != nil {
		var err error
		if o, err = logfile.OptionsOf(c.LogConfig.Config); err != nil {
			return nil, fmt.Errorf("container %s: %w", c.Name, err)
		}
	}
	return logfile.Open(r.Paths.LogPath(c.ID), o)
}

// logTee is one of a container's output streams: logged, and passed on
// to whoever reads it (the caller's terminal, attached clients), if
// anyone. A failure to pass it on is the writer's error (a reader that
// went away: the container meets a closed pipe), never the log's.
type logTee struct {
	log *logfile.Stream
	to  io.Writer // nil: logged only
}

func (t logTee) Write(p []byte) (int, error) {
	t.log.Write(p)
	if t.to == nil {
		return len(p), nil
	}
	return t.to.Write(p)
}

// Flush logs the stream's last line, left without a newline, at its end.
func (t logTee) Flush() { t.log.Flush() }

// tee is where a container's stream goes: to (may be nil) and, if the
// container is logged, its log.
func tee(log *logfile.File, stream string, to io.Writer) io.Writer {
	if log == nil {
		return to
	}
	return logTee{log: log.Stream(stream), to: to}
}

// LogsOptions are `logs`' flags.
type LogsOptions struct {
	Follow       bool
	Tail         int // -1: all
	Since, Until time.Time
	Timestamps   bool
	Details      bool
}

// Logs writes what a container printed, each record to its stream
// (stdout to out, stderr to errOut); with Follow, it goes on until the
// container stops.
func (r *Runtime) Logs(ref string, o LogsOptions, out, errOut io.Writer) error {
	c, err := r.store().Get(ref)
	if err != nil {
		return err
	}
	if !logged(c) {
		return fmt.Errorf("container %s was run with --log-driver none: %w", c.Name, ErrNoLog)
	}
	ro := logfile.ReadOptions{Since: o.Since, Until: o.Until, Tail: o.Tail, Timestamps: o.Timestamps, Details: o.Details}
	if o.Follow {
		ro.Follow = func() bool {
			cur, err := r.store().load(c.ID)
			return err != nil || !cur.IsRunning()
		}
	}
	if err := logfile.Read(r.Paths.LogPath(c.ID), ro, out, errOut); err != nil {
		return fmt.Errorf("log of %s: %w", c.Name, err)
	}
	return nil
}
