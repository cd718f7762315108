// Package proxy is kl's service proxy (`kl proxy`, one per node): it makes
// every Service reachable on its ClusterIP, its NodePorts and its external
// addresses, and spreads the connections over the Service's ready
// endpoints.
//
// # Mechanism
//
// kube-proxy's IPVS mode makes every ClusterIP a local address of the node
// by putting it on a dummy interface (kube-ipvs0) and lets the kernel
// balance the connections. kl does the first half the same way and the
// second in user space:
//
//   - ClusterIPs go on the service interface kl-svc0 as /32 (or /128)
//     addresses, through rtnetlink (package internal/netlink; no iproute2
//     needed). The interface is a dummy interface, or, on kernels built
//     without the dummy driver, an empty bridge, which behaves the same:
//     its addresses are local, and it has no port to send anything out of.
//     No route is installed, so traffic to a ClusterIP never leaves the
//     machine: it is accepted by the proxy or refused by the kernel.
//     Pods reach ClusterIPs too: their packets go to the host over the pod
//     bridge, and the host delivers them locally. As with kube-ipvs0, Linux
//     answers ARP for these addresses on every interface, so the service
//     range should not be one used on the node's LAN.
//   - The proxy listens on each ClusterIP:port, on each NodePort (by
//     default 0.0.0.0:NODEPORT; see Config.NodePortAddresses), and on each
//     LoadBalancer ingress IP and external IP that is an address of this
//     machine (with kl's servicelb the ingress IPs are the nodes' own
//     addresses), and relays each accepted TCP connection to an endpoint.
//
// This needs root (CAP_NET_ADMIN) and Linux for the interface. In
// ClusterIPModeAuto, when the interface cannot be set up, the proxy warns
// once that ClusterIPs are not reachable on this node and serves NodePorts
// and external addresses only. ClusterIPModeDummyInterface makes that an
// error; ClusterIPModeOff never touches interfaces. At start the proxy
// adopts an interface left over by an earlier run and removes its stale
// addresses; when Run returns it deletes the interface. Only one proxy per
// machine may use a given interface name.
//
// Only TCP is proxied. UDP and SCTP service ports are logged once as
// unsupported and otherwise ignored. Headless Services (clusterIP: None)
// and ExternalName Services need no proxy and are ignored.
//
// # Behaviour
//
//   - Endpoints: the ready addresses of the Service's Endpoints (the
//     endpoints controller keeps them), for the Endpoints port named as the
//     Service port (named targetPorts are resolved there). Not-ready
//     addresses get no traffic.
//   - Balancing: round-robin. With sessionAffinity ClientIP, a client's
//     connections go to the endpoint it used last, as long as that endpoint
//     stays ready and the client is not silent for longer than
//     sessionAffinityConfig.clientIP.timeoutSeconds (default 3h).
//   - Failures: an endpoint that refuses or does not accept within the dial
//     timeout (1s) is skipped and the next one tried, up to all of them; it
//     is then tried only after the others for 5s. When none accepts, or
//     there is none, the client's connection is reset.
//   - Changes: every Service and Endpoints change is applied at once (one
//     sync per Service, from the informer caches; the new endpoint set
//     replaces the old atomically). Connections already relayed to an
//     endpoint that is removed go on until they close (they drain); new
//     connections go to the current endpoints. Listeners open and close as
//     Services are created, deleted, or change ports or type. A sync that
//     fails (a port in use) is retried with back-off.
//   - Traffic policies: internalTrafficPolicy Local (ClusterIP traffic) and
//     externalTrafficPolicy Local (NodePort and external traffic) use only
//     the endpoints whose nodeName is this node.
//
// # Metrics
//
// The proxy has its own Prometheus registry (Registry), served with
// /healthz on Config.MetricsAddress: kl_proxy_connections_total,
// kl_proxy_active_connections, kl_proxy_bytes_total{direction="in|out"}
// and kl_proxy_errors_total{reason="dial_failed|no_endpoints|unreachable"},
// each by service port ("namespace/name:port"), plus kl_proxy_listeners,
// kl_proxy_cluster_ips_enabled and sync counts and durations. /healthz
// answers 200 once every Service present at start has been applied.
//
// # Use
//
//	p, err := proxy.New(proxy.Config{Client: c, NodeName: "node-1"})
//	if err != nil {
//		return err
//	}
//	return p.Run(ctx) // until ctx is cancelled
package proxy
