package logfile

import (
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
)

// Options are a log's size cap, from run's --log-opt.
type Options struct {
	MaxSize  int64 // bytes; 0: no cap
	MaxFiles int   // files kept, container.log included (1 when not set)
}

// ParseOptions reads --log-opt KEY=VALUE pairs as docker's json-file
// driver: max-size (a size as docker writes it: 10m, 512k, 1g, 100 bytes;
// k is 1000, as docker's units.FromHumanSize) and max-file (at least 1,
// and only with max-size). Any other key is refused, naming it.
func ParseOptions(opts []string) (map[string]string, Options, error) {
	o := Options{MaxFiles: 1}
	if len(opts) == 0 {
		return nil, o, nil
	}
	kv := map[string]string{}
	for _, opt := range opts {
		k, v, ok := strings.Cut(opt, "=")
		if !ok || k == "" {
			return nil, o, fmt.Errorf("invalid --log-opt %q: want KEY=VALUE", opt)
		}
		kv[k] = v
	}
	o, err := OptionsOf(kv)
	return kv, o, err
}

// OptionsOf checks the options kept in a container's record.
func OptionsOf(kv map[string]string) (Options, error) {
	o := Options{MaxFiles: 1}
	keys := make([]string, 0, len(kv))
	for k := range kv {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := kv[k]
		switch k {
		case "max-size":
			n, err := parseSize(v)
			if err != nil {
				return o, fmt.Errorf("invalid --log-opt max-size=%s: %w", v, err)
			}
			if n <= 0 {
				return o, fmt.Errorf("invalid --log-opt max-size=%s: max-size must be a positive number", v)
			}
			o.MaxSize = n
		case "max-file":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				return o, fmt.Errorf("invalid --log-opt max-file=%s: max-file cannot be less than 1", v)
			}
			o.MaxFiles = n
		default:
			return o, fmt.Errorf("unknown log opt '%s' for json-file log driver", k)
		}
	}
	if o.MaxFiles > 1 && o.MaxSize == 0 {
		return o, fmt.Errorf("invalid --log-opt max-file=%d: max-file needs max-size", o.MaxFiles)
	}
	return o, nil
}

// sizeRE is compiled on first use, not at package init: every mydocker
// process (run, its init, the shim) links this package, few parse a size.
var sizeRE = sync.OnceValue(func() *regexp.Regexp {
	return regexp.MustCompile(`^(\d+(?:\.\d+)?) ?([kKmMgGtTpP])?[iI]?[bB]?$`)
})

// parseSize reads a size as docker's units.FromHumanSize: decimal units.
func parseSize(s string) (int64, error) {
	m := sizeRE().FindStringSubmatch(s)
	if m == nil {
		return 0, fmt.Errorf("invalid size: '%s'", s)
	}
	n, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		return 0, fmt.Errorf("invalid size: '%s'", s)
	}
	mult := map[string]float64{"": 1, "k": 1e3, "m": 1e6, "g": 1e9, "t": 1e12, "p": 1e15}[strings.ToLower(m[2])]
	return int64(n * mult), nil
}
