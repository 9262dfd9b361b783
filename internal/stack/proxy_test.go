package stack

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestRoutes(t *testing.T) {
	c := validConfig()
	c.Ports[Frontend] = 3100
	want := []Route{{Postgres, 5432}, {Redis, 6379}, {Backend, 8000}, {Frontend, 3100}}
	if diff := cmp.Diff(want, c.Routes()); diff != "" {
		t.Errorf("Routes() mismatch (-want +got):\n%s", diff)
	}
}

func TestProxyConfig(t *testing.T) {
	got := ProxyConfig([]Route{{Postgres, 15432}, {Frontend, 3000}})
	want := `# Rendered by the commandcenter Dagger module: one TCP proxy per service.
worker_processes 1;
pid /tmp/nginx.pid;
error_log stderr notice;

events {
    worker_connections 1024;
}

stream {
    server {
        listen 15432;
        proxy_connect_timeout 5s;
        proxy_pass postgres:5432;
    }
    server {
        listen 3000;
        proxy_connect_timeout 5s;
        proxy_pass frontend:3000;
    }
}
`
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("ProxyConfig() mismatch (-want +got):\n%s", diff)
	}
}
