package faults_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os/exec"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/multidb/multidb/internal/seed"
)

// instance is one `multidb serve` of a rolling deploy, on a port of its own.
type instance struct {
	t      *testing.T
	s      *stack
	port   string
	cmd    *exec.Cmd
	logs   *syncBuffer
	exited chan error
}

func (in *instance) start() {
	in.t.Helper()
	in.logs = &syncBuffer{}
	in.cmd = exec.Command(binary, "serve")
	in.cmd.Dir, in.cmd.Env = in.s.dir, append(in.s.env, "PORT="+in.port, "HOST=127.0.0.1")
	in.cmd.Stdout, in.cmd.Stderr = in.logs, in.logs
	if err := in.cmd.Start(); err != nil {
		in.t.Fatal(err)
	}
	in.exited = make(chan error, 1)
	cmd, exited := in.cmd, in.exited
	go func() { exited <- cmd.Wait() }()
}

// stop sends SIGTERM and waits for a clean exit.
func (in *instance) stop() {
	in.t.Helper()
	if err := in.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		in.t.Fatal(err)
	}
	select {
	case err := <-in.exited:
		if err != nil {
			in.t.Fatalf("serve on %s exited with %v after SIGTERM\n%s", in.port, err, in.logs)
		}
	case <-time.After(30 * time.Second):
		in.t.Fatalf("serve on %s still running 30s after SIGTERM\n%s", in.port, in.logs)
	}
}

// balancer is a small load balancer as a deploy has one: it checks each backend's /readyz
// every interval and sends each request, once, to the next backend that is in (answered
// ready, and has not failed three checks in a row since). It
// never retries a request on another backend: a request a backend drops is a failed request.
type balancer struct {
	backends []*url.URL
	ready    []atomic.Bool
	next     atomic.Uint64
	proxy    *httputil.ReverseProxy
	noneIn   atomic.Int64 // requests sent while no backend was in
}

type backendKey struct{}

func newBalancer(ctx context.Context, interval time.Duration, backends ...string) *balancer {
	b := &balancer{ready: make([]atomic.Bool, len(backends))}
	for _, raw := range backends {
		u, _ := url.Parse(raw)
		b.backends = append(b.backends, u)
	}
	b.proxy = &httputil.ReverseProxy{
		Rewrite: func(r *httputil.ProxyRequest) {
			r.SetURL(r.In.Context().Value(backendKey{}).(*url.URL))
		},
		Transport: &http.Transport{MaxIdleConnsPerHost: 32, IdleConnTimeout: 90 * time.Second},
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			http.Error(w, "balancer: "+err.Error(), http.StatusBadGateway)
		},
	}
	client := &http.Client{Timeout: 2 * time.Second}
	for i, u := range b.backends {
		go func() {
			t := time.NewTicker(interval)
			defer t.Stop()
			// As balancers do (an "unhealthy threshold"), a backend is taken out after three
			// failed checks in a row, not one: a check that is slow on a busy machine is no
			// shutdown. A draining backend answers 503 at once, so it is out within three
			// intervals, far less than SHUTDOWN_DELAY.
			failures := 0
			for {
				resp, err := client.Get(u.String() + "/readyz")
				ok := err == nil && resp.StatusCode == http.StatusOK
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				if ok {
					failures = 0
				} else {
					failures++
				}
				b.ready[i].Store(failures < 3 && (ok || b.ready[i].Load()))
				select {
				case <-ctx.Done():
					return
				case <-t.C:
				}
			}
		}()
	}
	return b
}

func (b *balancer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	for range b.backends {
		i := int(b.next.Add(1) % uint64(len(b.backends)))
		if b.ready[i].Load() {
			b.proxy.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), backendKey{}, b.backends[i])))
			return
		}
	}
	// None is in: as balancers do (AWS's "fail open", nginx's last resort), send the request to
	// the next backend anyway rather than refuse it here. A backend that is really gone then
	// fails the request, and the test counts it.
	b.noneIn.Add(1)
	i := int(b.next.Add(1) % uint64(len(b.backends)))
	b.proxy.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), backendKey{}, b.backends[i])))
}

func (b *balancer) isReady(i int) bool { return b.ready[i].Load() }

// TestRollingRestartsLoseNoRequest restarts two instances 20 times in turn, as a rolling deploy
// does, behind a balancer that follows /readyz, under steady load of reads and writes on
// kept-alive connections. Not one request fails.
func TestRollingRestartsLoseNoRequest(t *testing.T) {
	const interval = 50 * time.Millisecond
	s := newStack(t, "SHUTDOWN_DELAY=500ms", "READY_INTERVAL=100ms")
	s.serve() // for the token; the deploy below runs its own instances
	s.stop()

	var instances []*instance
	var addrs []string
	for range 2 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := fmt.Sprint(ln.Addr().(*net.TCPAddr).Port)
		ln.Close()
		in := &instance{t: t, s: s, port: port}
		t.Cleanup(func() {
			if in.cmd != nil && in.cmd.ProcessState == nil {
				in.cmd.Process.Kill()
				<-in.exited
			}
		})
		in.start()
		instances = append(instances, in)
		addrs = append(addrs, "http://127.0.0.1:"+port)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	lb := newBalancer(ctx, interval, addrs...)
	front := httptest.NewServer(lb)
	defer front.Close()
	waitReady := func(i int) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for !lb.isReady(i) {
			if time.Now().After(deadline) {
				t.Fatalf("instance %d not ready within 20s\n%s", i, instances[i].logs)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitReady(0)
	waitReady(1)

	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	var ok, failed atomic.Int64
	var mu sync.Mutex
	var failures []string
	stop := make(chan struct{})
	var wg sync.WaitGroup
	userID := seed.DemoUsers[1].ID
	for w := range 6 {
		wg.Go(func() {
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				doc := map[string]any{"query": stitched}
				if i%2 == 1 {
					doc = map[string]any{"query": `mutation($in: CreateEventInput!) { trackEvent(input: $in) { id } }`,
						"variables": map[string]any{"in": map[string]any{"userID": userID, "name": "deploy.write", "properties": map[string]any{"w": w, "i": i}}}}
				}
				body, _ := json.Marshal(doc)
				req, _ := http.NewRequest(http.MethodPost, front.URL+"/graphql", bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+s.token)
				resp, err := client.Do(req)
				var why string
				if err != nil {
					why = err.Error()
				} else {
					raw, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					var r response
					if resp.StatusCode != http.StatusOK || json.Unmarshal(raw, &r) != nil || len(r.Errors) > 0 {
						why = fmt.Sprintf("HTTP %d: %.200s", resp.StatusCode, raw)
					}
				}
				if why == "" {
					ok.Add(1)
					continue
				}
				failed.Add(1)
				mu.Lock()
				failures = append(failures, why)
				mu.Unlock()
			}
		})
	}

	start := time.Now()
	const restarts = 20
	for n := range restarts {
		i := n % 2
		instances[i].stop()
		instances[i].start()
		waitReady(i)
	}
	took := time.Since(start)
	time.Sleep(200 * time.Millisecond)
	close(stop)
	wg.Wait()

	if failed.Load() > 0 {
		t.Errorf("%d of %d requests failed during %d rolling restarts; first: %v", failed.Load(), ok.Load()+failed.Load(), restarts, failures[:min(5, len(failures))])
	}
	if ok.Load() < 100 {
		t.Errorf("only %d requests succeeded: the load did not test the restarts", ok.Load())
	}
	t.Logf("%d restarts in %v under load: %d requests, %d failed, %d sent while no backend was in", restarts, took.Round(time.Millisecond), ok.Load()+failed.Load(), failed.Load(), lb.noneIn.Load())
	for _, in := range instances {
		in.stop()
	}
}
