// Package security is mydocker's containment model: what a container may do
// is what a docker container may do, and nothing more (issue 11). It holds
// the pure logic that resolves docker's flags (--cap-add, --cap-drop,
// --privileged, --security-opt, -u, --device) into one Config, which is
// plain JSON and travels to the container's init in its spec, and small
// Apply functions that the init calls on its locked OS thread just before
// execve. It wires nothing itself.
package security
