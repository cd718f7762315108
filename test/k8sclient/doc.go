// Package k8sclient holds tests that drive kl's apiserver with the standard
// Kubernetes Go clients (k8s.io/client-go): typed, dynamic and discovery
// clients, informers and server-side apply. It is a module of its own so
// that client-go never enters the main module's dependencies.
package k8sclient
