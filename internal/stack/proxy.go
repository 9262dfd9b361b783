package stack

import (
	"fmt"
	"strings"
)

// Route is one TCP port that the stack proxy forwards to a service.
type Route struct {
	Service Service
	Listen  int
}

// Routes lists the proxy's routes in start order.
func (c Config) Routes() []Route {
	routes := make([]Route, len(Services))
	for i, s := range Services {
		routes[i] = Route{Service: s, Listen: c.Ports[s]}
	}
	return routes
}

// ProxyConfig renders a complete nginx.conf that forwards each route's port
// to the service bound under the service's name. It keeps every file nginx
// writes in /tmp, so it works for the non-root nginx user.
func ProxyConfig(routes []Route) string {
	var b strings.Builder
	b.WriteString(`# Rendered by the commandcenter Dagger module: one TCP proxy per service.
worker_processes 1;
pid /tmp/nginx.pid;
error_log stderr notice;

events {
    worker_connections 1024;
}

stream {
`)
	for _, r := range routes {
		fmt.Fprintf(&b, `    server {
        listen %d;
        proxy_connect_timeout 5s;
        proxy_pass %s:%d;
    }
`, r.Listen, r.Service, InternalPort(r.Service))
	}
	b.WriteString("}\n")
	return b.String()
}
