// Package control owns how Faultline reaches nodes: the Remote interface
// (Exec, Upload, Download) with safe shell escaping and typed errors, and Env,
// the description of a running test that DBs, clients and nemeses receive.
// Implementations live in control/local, control/netns, control/ssh and
// control/docker. It corresponds to Jepsen's jepsen.control namespace.
package control
