package logfile

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ParseTime reads --since and --until as docker's: a duration before now
// (10m, 1h30m), an RFC 3339 date or time (2013-01-02, 2013-01-02T13:23,
// 2013-01-02T13:23:37.5; with Z or an offset, else in local time), or a
// Unix timestamp (seconds[.nanoseconds]).
func ParseTime(value string, now time.Time) (time.Time, error) {
	if strings.TrimSpace(value) == "" {
		return time.Time{}, errors.New("empty time: a duration (10m), an RFC 3339 time or a Unix timestamp")
	}
	if d, err := time.ParseDuration(value); value != "0" && err == nil {
		return now.Add(-d).UTC(), nil
	}
	// With a Z, a + or three dashes the value has its zone; else it is local.
	local := !strings.ContainsAny(value, "zZ+") && strings.Count(value, "-") != 3
	var format string
	switch {
	case strings.Contains(value, "."):
		format = time.RFC3339Nano
		if local {
			format = "2006-01-02T15:04:05.999999999"
		}
	case strings.Contains(value, "T"):
		colons := strings.Count(value, ":")
		if !local && !strings.ContainsAny(value, "zZ") && colons > 0 {
			colons-- // the offset's
		}
		formats := []string{"2006-01-02T15Z07:00", "2006-01-02T15:04Z07:00", time.RFC3339}
		if local {
			formats = []string{"2006-01-02T15", "2006-01-02T15:04", "2006-01-02T15:04:05"}
		}
		format = formats[min(colons, 2)]
	case local:
		format = "2006-01-02"
	default:
		format = "2006-01-02Z07:00"
	}
	var t time.Time
	var err error
	if local {
		t, err = time.ParseInLocation(format, value, time.FixedZone(now.Zone()))
	} else {
		t, err = time.Parse(format, value)
	}
	if err == nil {
		return t.UTC(), nil
	}
	if strings.Contains(value, "-") {
		return time.Time{}, fmt.Errorf("invalid time %q: %w", value, err)
	}
	return parseUnix(value)
}

// parseUnix reads seconds[.nanoseconds] since the epoch.
func parseUnix(value string) (time.Time, error) {
	bad := fmt.Errorf("invalid time %q: a duration (10m), an RFC 3339 time or a Unix timestamp", value)
	s, n, _ := strings.Cut(value, ".")
	sec, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, bad
	}
	for _, c := range n {
		if c < '0' || c > '9' {
			return time.Time{}, bad
		}
	}
	n = (n + "000000000")[:9]
	nsec, _ := strconv.ParseInt(n, 10, 64)
	return time.Unix(sec, nsec).UTC(), nil
}
