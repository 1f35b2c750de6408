package kv

import (
	"reflect"
	"strings"
	"testing"
)

func TestParseEndpoints(t *testing.T) {
	got, err := ParseEndpoints("http://10.99.0.2:2379, https://[fd00::2]:2379,")
	if want := []string{"http://10.99.0.2:2379", "https://[fd00::2]:2379"}; err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("ParseEndpoints = %q, %v; want %q", got, err, want)
	}
	for in, why := range map[string]string{
		"":                         "no etcd endpoint",
		"10.99.0.2:2379":           "no http://",
		"http://10.99.0.2":         "no host:port",
		"http://10.99.0.2:2379/v3": "more than a host and a port",
		"etcd://10.99.0.2:2379":    "no http://",
		"http://a:1,http://b":      "no host:port",
	} {
		_, err := ParseEndpoints(in)
		if err == nil || !strings.Contains(err.Error(), why) || strings.Contains(err.Error(), "\n") {
			t.Errorf("ParseEndpoints(%q) = %v, want one line saying %q", in, err, why)
		}
	}
	// Dial refuses the same without trying.
	if _, err := Dial([]string{"10.99.0.2:2379"}); err == nil || !strings.Contains(err.Error(), "no http://") {
		t.Errorf("Dial without a scheme: %v", err)
	}
}
