// Package client owns the Client interface: how a worker thread talks to the
// system under test. It corresponds to Jepsen's jepsen.client namespace.
package client
