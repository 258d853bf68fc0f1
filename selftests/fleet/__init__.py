"""The simulated fleet: several dockerd "hosts" on this one machine, each in a network
namespace of its own, listening on tcp:// with TLS (see simulated.py)."""
