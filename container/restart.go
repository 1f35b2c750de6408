package container

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// RestartPolicy is --restart, as docker's HostConfig.RestartPolicy. Its
// fields are an on-disk format (config.json) and inspect's: add, never rename.
type RestartPolicy struct {
	Name              string // "no", "always", "unless-stopped" or "on-failure"
	MaximumRetryCount int    // on-failure:N; 0 is no limit
}

// Restart policy names, as docker's.
const (
	RestartNo            = "no"
	RestartAlways        = "always"
	RestartUnlessStopped = "unless-stopped"
	RestartOnFailure     = "on-failure"
)

// ParseRestartPolicy reads --restart as docker does: no, always,
// unless-stopped, on-failure or on-failure:N (N >= 0; a count only with
// on-failure). "" is no.
func ParseRestartPolicy(s string) (*RestartPolicy, error) {
	name, count, hasCount := strings.Cut(s, ":")
	p := &RestartPolicy{Name: name}
	switch name {
	case "", RestartNo:
		p.Name = RestartNo
	case RestartAlways, RestartUnlessStopped, RestartOnFailure:
	default:
		return nil, fmt.Errorf("invalid restart policy %q: no, always, unless-stopped or on-failure[:max-retries]", s)
	}
	if hasCount {
		n, err := strconv.Atoi(count)
		switch {
		case name != RestartOnFailure:
			return nil, fmt.Errorf("invalid restart policy %q: maximum retry count can only be used with 'on-failure'", s)
		case err != nil || n < 0:
			return nil, fmt.Errorf("invalid restart policy %q: the maximum retry count must be a number, 0 or more", s)
		}
		p.MaximumRetryCount = n
	}
	return p, nil
}

// restarts reports whether the policy restarts a container whose command
// exited with code, which it restarted count times already and which
// stop, kill or rm -f did not end (stopped). A stop ends every policy, as
// docker's stop cancels its restart manager; "always" and "unless-stopped"
// differ only when the daemon (here: nobody) starts again.
func (p *RestartPolicy) restarts(code, count int, stopped bool) bool {
	if p == nil || stopped {
		return false
	}
	switch p.Name {
	case RestartAlways, RestartUnlessStopped:
		return true
	case RestartOnFailure:
		return code != 0 && (p.MaximumRetryCount == 0 || count < p.MaximumRetryCount)
	}
	return false
}

// Docker's back-off (moby's restartmanager): 100 ms before the first
// restart, doubled before each next one up to a minute, and back to 100 ms
// once the command ran for 10 seconds.
const (
	backoffFirst = 100 * time.Millisecond
	backoffMax   = time.Minute
	backoffReset = 10 * time.Second
)

// backoff is the wait before the next restart, given the last wait (0
// before the first) and how long the command ran this time.
func backoff(last, ran time.Duration) time.Duration {
	if last == 0 || ran >= backoffReset {
		return backoffFirst
	}
	return min(2*last, backoffMax)
}
