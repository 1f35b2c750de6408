package image

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mydocker/mydocker/container/image/imagetest"
)

// A registry that stops sending half way through a layer is bounded as
// one that never answers: the pull fails in one line once nothing came for
// ResponseTimeout, and leaves no image and no temp file.
func TestPullFromARegistryThatStallsMidBlob(t *testing.T) {
	s, _ := newStore(t)
	reg := imagetest.Registry(t)
	img := imagetest.App(t, "1")
	imagetest.Push(t, reg+"/app:v1", img)
	layers, _ := img.Layers()
	base, _ := layers[0].Digest()
	stop := make(chan struct{})
	proxy := registryProxy(t, reg, func(w http.ResponseWriter, r *http.Request, status int, body []byte) {
		if !strings.HasSuffix(r.URL.Path, base.String()) || r.Method != http.MethodGet {
			w.WriteHeader(status)
			w.Write(body)
			return
		}
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(status)
		w.Write(body[:len(body)/2])
		w.(http.Flusher).Flush()
		select { // then nothing, until the test ends
		case <-stop:
		case <-r.Context().Done():
		}
	})
	defer close(stop)
	oldR, oldD := ResponseTimeout, DialTimeout
	ResponseTimeout, DialTimeout = 500*time.Millisecond, 500*time.Millisecond
	defer func() { ResponseTimeout, DialTimeout = oldR, oldD }()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	_, _, err := s.Pull(ctx, strings.TrimPrefix(proxy.URL, "http://")+"/app:v1")
	if took := time.Since(start); err == nil || took > 15*time.Second || !strings.Contains(err.Error(), "did not answer in time") || strings.Contains(err.Error(), "\n") {
		t.Fatalf("pull from a registry that stalls: %v after %v, want one line saying it did not answer in time, well before 15s", err, took)
	}
	if ents, _ := os.ReadDir(s.recordsDir()); len(ents) > 0 {
		t.Errorf("an image was recorded: %v", ents)
	}
	if tmps, _ := filepath.Glob(filepath.Join(s.Root, "blobs", "sha256", ".tmp-*")); len(tmps) > 0 {
		t.Errorf("temp blobs left: %v", tmps)
	}
}
